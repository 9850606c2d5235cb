"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


# A database in use: on a table that already exists, add columns, build indexes, backfill and drop
# indexes through `storage.online` (`with online.steps() as steps: steps.add_column(...)`), not with
# op.* directly; tests/test_migrations_live.py checks it. See docs/upgrading.md.
def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}

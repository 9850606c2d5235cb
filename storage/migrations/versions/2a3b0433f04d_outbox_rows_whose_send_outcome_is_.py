"""outbox rows whose send outcome is unknown

Revision ID: 2a3b0433f04d
Revises: 86c25730b954
Create Date: 2026-12-02 15:12:06.024154
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2a3b0433f04d"
down_revision = "86c25730b954"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # adding a column with a constant default is a metadata-only change on PostgreSQL 11+: no rewrite
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unconfirmed", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("unconfirmed")

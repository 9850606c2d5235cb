"""outbox: index edits by the message they edit

Revision ID: 1e033244bbb4
Revises: faea57ffb2ea
Create Date: 2026-11-23 22:09:03.378542
"""

from __future__ import annotations

from alembic import op

revision = "1e033244bbb4"
down_revision = "faea57ffb2ea"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_team_id_ref_key", ["team_id", "ref_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_team_id_ref_key")

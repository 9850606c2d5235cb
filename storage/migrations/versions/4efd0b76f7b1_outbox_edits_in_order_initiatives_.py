"""outbox edits in order; initiatives troubled since

Revision ID: 4efd0b76f7b1
Revises: faea57ffb2ea
Create Date: 2026-11-23 22:30:36.720280
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from storage import online

revision = "4efd0b76f7b1"
down_revision = "faea57ffb2ea"
branch_labels = None
depends_on = None


# what is at risk or blocked now has been since its health last changed, as far as we know
TROUBLED_SINCE_BATCH = """
UPDATE initiative SET troubled_since = health_since WHERE id IN (
    SELECT id FROM initiative
    WHERE health IN ('at_risk', 'blocked') AND troubled_since IS NULL AND id > :after
    ORDER BY id LIMIT :batch
) RETURNING id
"""


def upgrade() -> None:
    with online.steps() as steps:
        steps.add_column(
            "initiative", sa.Column("troubled_since", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        steps.backfill(TROUBLED_SINCE_BATCH)
        # edits of one message are claimed in order: find the earlier edits of a message quickly
        steps.create_index("ix_outbox_team_id_ref_key", "outbox", ["team_id", "ref_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_team_id_ref_key")
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_column("troubled_since")

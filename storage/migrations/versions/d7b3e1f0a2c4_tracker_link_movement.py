"""tracker links: when an item's status last changed and when it last moved (stall causes)

Revision ID: d7b3e1f0a2c4
Revises: c41f2e7d9a10
Create Date: 2026-12-03 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "d7b3e1f0a2c4"
down_revision = "c41f2e7d9a10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable columns without a default: a catalogue change on PostgreSQL, no rewrite, no backfill
    # (an empty value reads as "since it was linked or last read" until the item next changes)
    with op.batch_alter_table("tracker_link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_since", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("moved_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tracker_link", schema=None) as batch_op:
        batch_op.drop_column("moved_at")
        batch_op.drop_column("status_since")

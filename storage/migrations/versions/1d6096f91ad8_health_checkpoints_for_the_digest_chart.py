"""health checkpoints for the digest chart

Revision ID: 1d6096f91ad8
Revises: 4efd0b76f7b1
Create Date: 2026-11-24 00:14:33.550563
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "1d6096f91ad8"
down_revision = "4efd0b76f7b1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # one row per workspace and weekly chart instant: the digest chart reads these, not all history
    op.create_table(
        "health_checkpoint",
        sa.Column("team_id", storage.types.CleanString(length=32), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", storage.types.JSONDoc(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "at", name=op.f("pk_health_checkpoint")),
    )


def downgrade() -> None:
    op.drop_table("health_checkpoint")

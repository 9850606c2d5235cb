"""health checkpoints for the digest chart; when initiatives were done

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
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    # done before this release: the first check-in answered done or `initiative.done` event, else
    # the initiative's last update (the rule the digest applied on every run until now)
    op.execute(
        "UPDATE initiative SET done_at = (SELECT min(marks.at) FROM ("
        " SELECT checkin_update.created_at AS at FROM checkin_update"
        " WHERE checkin_update.initiative_id = initiative.id AND checkin_update.done = TRUE"
        " UNION ALL SELECT event.at AS at FROM event"
        " WHERE event.initiative_id = initiative.id AND event.kind = 'initiative.done') AS marks)"
        " WHERE state = 'done'"
    )
    op.execute("UPDATE initiative SET done_at = updated_at WHERE state = 'done' AND done_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_column("done_at")
    op.drop_table("health_checkpoint")

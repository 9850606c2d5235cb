"""health checkpoints for the digest chart; when initiatives were done

Revision ID: 1d6096f91ad8
Revises: 4efd0b76f7b1
Create Date: 2026-11-24 00:14:33.550563
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from storage import online

revision = "1d6096f91ad8"
down_revision = "4efd0b76f7b1"
branch_labels = None
depends_on = None


# done before this release: the first check-in answered done or `initiative.done` event, else the
# initiative's last update (the rule the digest applied on every run until now). One batch of done
# initiatives at a time, in id order; their marks are found by joins through the indexes on
# checkin_update (initiative_id, ...) and event (team_id, initiative_id, ...), not by a subquery
# per initiative (on PostgreSQL that scanned every event once per done initiative: 118 s at 10k done
# initiatives and 1M events, holding the table's exclusive lock all along).
DONE_AT_BATCH = """
WITH batch AS (
    SELECT id, team_id, updated_at FROM initiative
    WHERE state = 'done' AND done_at IS NULL AND id > :after ORDER BY id LIMIT :batch
), marks AS (
    SELECT batch.id AS id, checkin_update.created_at AS at FROM batch
    JOIN checkin_update ON checkin_update.initiative_id = batch.id AND checkin_update.done = TRUE
    UNION ALL
    SELECT batch.id AS id, event.at AS at FROM batch
    JOIN event ON event.team_id = batch.team_id AND event.initiative_id = batch.id
        AND event.kind = 'initiative.done'
), firsts AS (
    SELECT batch.id AS id, coalesce(min(marks.at), batch.updated_at) AS at
    FROM batch LEFT JOIN marks ON marks.id = batch.id GROUP BY batch.id, batch.updated_at
)
UPDATE initiative SET done_at = firsts.at FROM firsts WHERE initiative.id = firsts.id
RETURNING initiative.id
"""


def upgrade() -> None:
    with online.steps() as steps:
        steps.add_column(
            "initiative", sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        steps.backfill(DONE_AT_BATCH)
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
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_column("done_at")
    op.drop_table("health_checkpoint")

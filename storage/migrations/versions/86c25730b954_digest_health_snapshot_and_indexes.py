"""The digest's health snapshot and the indexes it reads through

Each initiative keeps its health as of the last posted digest (`digest_health`), so the next digest
finds what is newly at risk, newly blocked or recovered with an index instead of comparing every
initiative with a JSON list. It is filled from the latest digest's stored list of troubled
initiatives, which is what the digest compared with until now. Each part of the digest reads through
its own index; (team_id, state) is the prefix of them all, so its own index goes.

Revision ID: 86c25730b954
Revises: 1d6096f91ad8
Create Date: 2026-11-24 02:25:03.186572
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage import online

revision = "86c25730b954"
down_revision = "1d6096f91ad8"
branch_labels = None
depends_on = None

TROUBLED = ("at_risk", "blocked")


def upgrade() -> None:
    # on PostgreSQL: the column is a catalog change, each index is built CONCURRENTLY (the table
    # stays readable and writable), and the index they replace goes last
    with online.steps() as steps:
        steps.add_column(
            "initiative",
            sa.Column(
                "digest_health",
                sa.Enum("on_track", "at_risk", "blocked", name="health", native_enum=False, length=16),
                nullable=True,
            ),
        )
        steps.create_index(
            "ix_initiative_digest_health",
            "initiative",
            ["team_id", "state", "okr_id", "health", "health_since", "number", "digest_health"],
        )
        steps.create_index(
            "ix_initiative_team_id_state_created_at", "initiative", ["team_id", "state", "created_at"]
        )
        steps.create_index(
            "ix_initiative_team_id_state_okr_id_done_at",
            "initiative",
            ["team_id", "state", "okr_id", "done_at"],
        )
        steps.create_index(
            "ix_initiative_team_id_state_okr_id_due_date",
            "initiative",
            ["team_id", "state", "okr_id", "due_date"],
        )
        _fill_from_the_last_digests()
        steps.drop_index("ix_initiative_team_id_state", "initiative")


def _fill_from_the_last_digests() -> None:
    """Each workspace's latest digest summary lists the initiatives at risk or blocked when it was
    posted (key -> health): those get that health; the rest stay None ("not troubled then"), which
    is all the comparison needed."""
    connection = op.get_bind()
    digest = sa.table(
        "digest",
        sa.column("team_id", sa.String),
        sa.column("period_start", sa.Date),
        sa.column("summary", sa.JSON),
    )
    latest = sa.select(digest.c.team_id, sa.func.max(digest.c.period_start).label("start")).group_by(
        digest.c.team_id
    )
    rows = connection.execute(
        sa.select(digest.c.team_id, digest.c.summary).join(
            latest.subquery("latest"),
            sa.and_(
                sa.literal_column("latest.team_id") == digest.c.team_id,
                sa.literal_column("latest.start") == digest.c.period_start,
            ),
        )
    )
    update = sa.text(
        "UPDATE initiative SET digest_health = :health "
        "WHERE team_id = :team AND key = :key AND state = 'active'"
    )
    for team_id, summary in rows:
        troubled = summary.get("troubled") if isinstance(summary, dict) else None
        if not isinstance(troubled, dict):
            continue
        values = [
            {"team": team_id, "key": key, "health": health}
            for key, health in troubled.items()
            if health in TROUBLED
        ]
        if values:
            connection.execute(update, values)


def downgrade() -> None:
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_team_id_state_okr_id_due_date")
        batch_op.drop_index("ix_initiative_team_id_state_okr_id_done_at")
        batch_op.drop_index("ix_initiative_team_id_state_created_at")
        batch_op.drop_index("ix_initiative_digest_health")
        batch_op.create_index(batch_op.f("ix_initiative_team_id_state"), ["team_id", "state"], unique=False)
        batch_op.drop_column("digest_health")

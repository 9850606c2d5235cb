"""tracker links: Jira and GitHub items linked to initiatives

Revision ID: c41f2e7d9a10
Revises: 2a3b0433f04d
Create Date: 2026-12-02 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "c41f2e7d9a10"
down_revision = "2a3b0433f04d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a new, empty table: creating it and its indexes locks nothing anyone else uses
    op.create_table(
        "tracker_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", storage.types.CleanString(length=32), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("tracker", storage.types.CleanString(length=10), nullable=False),
        sa.Column("kind", storage.types.CleanString(length=10), nullable=False),
        sa.Column("site", storage.types.CleanString(length=200), nullable=False),
        sa.Column("ref", storage.types.CleanString(length=40), nullable=False),
        sa.Column("url", storage.types.CleanString(length=2000), nullable=False),
        sa.Column("title", storage.types.CleanString(length=300), nullable=False),
        sa.Column("status", storage.types.CleanString(length=60), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("missing", sa.Boolean(), nullable=False),
        sa.Column("assignee", storage.types.CleanString(length=100), nullable=True),
        sa.Column("done_count", sa.Integer(), nullable=True),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("remote_updated_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("next_check_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("linked_by", storage.types.CleanString(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiative.id"], name=op.f("fk_tracker_link_initiative_id_initiative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_link")),
        sa.UniqueConstraint(
            "team_id",
            "initiative_id",
            "tracker",
            "site",
            "kind",
            "ref",
            name=op.f("uq_tracker_link_team_id_initiative_id_tracker_site_kind_ref"),
        ),
    )
    op.create_index("ix_tracker_link_next_check_at", "tracker_link", ["next_check_at"], unique=False)
    op.create_index(
        "ix_tracker_link_tracker_site_ref", "tracker_link", ["tracker", "site", "ref"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tracker_link_tracker_site_ref", table_name="tracker_link")
    op.drop_index("ix_tracker_link_next_check_at", table_name="tracker_link")
    op.drop_table("tracker_link")

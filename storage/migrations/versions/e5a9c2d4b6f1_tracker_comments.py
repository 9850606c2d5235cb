"""tracker comments: back-links on linked Jira and GitHub items, stored before they are sent

Revision ID: e5a9c2d4b6f1
Revises: d7b3e1f0a2c4
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "e5a9c2d4b6f1"
down_revision = "d7b3e1f0a2c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a new, empty table: creating it and its index locks nothing anyone else uses
    op.create_table(
        "tracker_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", storage.types.CleanString(length=32), nullable=False),
        sa.Column("key", storage.types.CleanString(length=200), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("tracker", storage.types.CleanString(length=10), nullable=False),
        sa.Column("kind", storage.types.CleanString(length=10), nullable=False),
        sa.Column("site", storage.types.CleanString(length=200), nullable=False),
        sa.Column("ref", storage.types.CleanString(length=40), nullable=False),
        sa.Column("body", storage.types.CleanText(), nullable=False),
        sa.Column("state", storage.types.CleanString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("claimed_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("remote_id", storage.types.CleanString(length=40), nullable=True),
        sa.Column("last_error", storage.types.CleanString(length=300), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiative.id"], name=op.f("fk_tracker_comment_initiative_id_initiative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_comment")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_tracker_comment_team_id_key")),
    )
    with op.batch_alter_table("tracker_comment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tracker_comment_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tracker_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_tracker_comment_state_next_attempt_at")
    op.drop_table("tracker_comment")

"""The tables of what Throughline connects to: linked work (Jira, GitHub: what an initiative links
to, and the comments Throughline leaves there) and slack_sdk's OAuth stores. On `Base.metadata`
like the others once this module is imported, which `storage.db` (every database) and the
migrations' environment do."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, TeamId, UserId
from storage.types import CleanString, CleanText


class TrackerLink(Base):
    """A Jira issue or epic, or a GitHub issue, pull request or milestone, linked to an initiative,
    with what was last read of it (REST or webhook). `next_check_at` is when the reconcile reads it
    again; a webhook about a newer `remote_updated_at` updates it at once."""

    __tablename__ = "tracker_link"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "initiative_id", "tracker", "site", "kind", "ref"),
        sa.Index("ix_tracker_link_tracker_site_ref", "tracker", "site", "ref"),  # webhooks find theirs
        sa.Index("ix_tracker_link_next_check_at", "next_check_at"),  # the reconcile's due ones
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    initiative_id: Mapped[int] = mapped_column(sa.ForeignKey("initiative.id"))
    tracker: Mapped[str] = mapped_column(CleanString(10))  # jira | github
    kind: Mapped[str] = mapped_column(CleanString(10))  # issue | epic | pull | milestone
    site: Mapped[str] = mapped_column(CleanString(200))  # Jira site URL, or GitHub owner/name
    ref: Mapped[str] = mapped_column(CleanString(40))  # PAY-12, or the number
    url: Mapped[str] = mapped_column(CleanString(2000))
    title: Mapped[str] = mapped_column(CleanString(300), default="")
    status: Mapped[str] = mapped_column(CleanString(60), default="")  # In Progress, open, merged, ...
    done: Mapped[bool] = mapped_column(default=False)
    missing: Mapped[bool] = mapped_column(default=False)  # deleted, or no longer readable
    assignee: Mapped[str | None] = mapped_column(CleanString(100))
    done_count: Mapped[int | None]  # an epic's or milestone's items done, of total_count
    total_count: Mapped[int | None]
    remote_updated_at: Mapped[datetime | None]
    status_since: Mapped[datetime | None]  # when we saw its status change (or linked it)
    moved_at: Mapped[datetime | None]  # when we saw its status, done or counts change (or linked it)
    checked_at: Mapped[datetime]
    next_check_at: Mapped[datetime]
    linked_by: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime]


class TrackerComment(Base):
    """A comment Throughline leaves on a linked Jira or GitHub item (a back-link to the initiative),
    stored before it is sent, like an outbox row: `key` makes enqueueing it idempotent, and a row
    once attempted (`attempts` > 0) is looked for on the item before it is posted again, so a crash
    or an unclear answer never makes a second comment."""

    __tablename__ = "tracker_comment"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "key"),
        sa.Index("ix_tracker_comment_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    key: Mapped[str] = mapped_column(CleanString(200))
    initiative_id: Mapped[int] = mapped_column(sa.ForeignKey("initiative.id"))
    tracker: Mapped[str] = mapped_column(CleanString(10))
    kind: Mapped[str] = mapped_column(CleanString(10))
    site: Mapped[str] = mapped_column(CleanString(200))
    ref: Mapped[str] = mapped_column(CleanString(40))
    body: Mapped[str] = mapped_column(CleanText)
    state: Mapped[str] = mapped_column(CleanString(10), default="pending")  # pending|sending|sent|parked
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(CleanString(40))
    last_error: Mapped[str | None] = mapped_column(CleanString(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


# slack_sdk's OAuth stores (bot/core/installs.py) keep installations, bots and OAuth states in
# these tables: slack_sdk builds them, on our metadata, so our migrations create and upgrade them
# and the models == migrations test covers them
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, "slack_oauth_states")

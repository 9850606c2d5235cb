"""The database, shaped for the whole mission. Every row carries its workspace (`team_id`).

History is append-only: `event` and `checkin_update` rows are never edited; a correction is a
new row. Datetimes are timezone-aware UTC (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import CleanString, CleanText, JSONType, UTCDateTime, json_default, str_enum

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TeamId = CleanString(32)
UserId = CleanString(32)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class InitiativeState(StrEnum):
    PROPOSED = "proposed"  # submitted, waiting for triage
    ACTIVE = "active"  # accepted with an owner; checked in on a cadence
    DONE = "done"
    DECLINED = "declined"
    CANCELLED = "cancelled"


OPEN_STATES = (InitiativeState.PROPOSED, InitiativeState.ACTIVE)


class Health(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"


class OkrKind(StrEnum):
    OBJECTIVE = "objective"
    KEY_RESULT = "key_result"


class CheckinStatus(StrEnum):
    PENDING = "pending"  # asked, not answered yet
    ANSWERED = "answered"
    MISSED = "missed"  # no answer by the next slot
    SNOOZED = "snoozed"  # the owner skipped this slot, with a reason
    EXCUSED = "excused"  # the owner was out of office


class DependencyState(StrEnum):
    OPEN = "open"
    MET = "met"
    CANCELLED = "cancelled"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a deliverer until `claimed_until`
    SENT = "sent"
    PARKED = "parked"  # a permanent error; needs a person (`throughline outbox retry`)
    # sent longer ago than the retention period: its text is gone, its key and Slack reference
    # (result_channel, result_ts) kept for a later edit or thread reply (bot/outbox/prune.py)
    PRUNED = "pruned"


class Workspace(Base):
    __tablename__ = "workspace"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, unique=True)
    name: Mapped[str | None] = mapped_column(CleanString(200))
    # overrides of the configured WorkspaceSettings, saved by admins from the App Home
    settings: Mapped[dict[str, Any]] = mapped_column(default=json_default)
    next_request_number: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    # the app was uninstalled (or its tokens revoked): nothing is sent to it; its data is purged
    # after the retention window unless it is installed again first (bot/core/uninstall.py)
    uninstalled_at: Mapped[datetime | None]
    # the Enterprise Grid org the workspace belongs to (an org-wide install serves it)
    enterprise_id: Mapped[str | None] = mapped_column(CleanString(32))


class Person(Base):
    """A Slack user we deal with: cached profile facts and their own availability."""

    __tablename__ = "person"
    __table_args__ = (sa.UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    user_id: Mapped[str] = mapped_column(UserId)
    name: Mapped[str | None] = mapped_column(CleanString(200))
    email: Mapped[str | None] = mapped_column(CleanString(320))
    tz: Mapped[str | None] = mapped_column(CleanString(64))
    profile_fetched_at: Mapped[datetime | None]
    ooo_until: Mapped[date | None]  # out of office through this date: no nudges, no misses
    ooo_note: Mapped[str | None] = mapped_column(CleanString(300))
    created_at: Mapped[datetime]


class Okr(Base):
    """An objective or one of its key results."""

    __tablename__ = "okr"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "key"),
        sa.Index("ix_okr_team_id_url", "team_id", "url"),
        sa.Index("ix_okr_team_id_parent_id", "team_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    key: Mapped[str] = mapped_column(CleanString(40))  # O1, O1-KR2
    kind: Mapped[OkrKind] = mapped_column(str_enum(OkrKind))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("okr.id"))
    title: Mapped[str] = mapped_column(CleanString(300))
    owner_id: Mapped[str | None] = mapped_column(UserId)
    period: Mapped[str | None] = mapped_column(CleanString(20))  # 2026-Q1
    url: Mapped[str | None] = mapped_column(CleanString(2000))
    priority: Mapped[int] = mapped_column(default=3)  # 1 (low) .. 5 (highest): strategic weight
    metric_unit: Mapped[str | None] = mapped_column(CleanString(40))
    metric_start: Mapped[float | None]
    metric_target: Mapped[float | None]
    metric_current: Mapped[float | None]
    governance_channel: Mapped[str | None] = mapped_column(CleanString(32))
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    parent: Mapped[Okr | None] = relationship(remote_side=[id], lazy="raise")


class Initiative(Base):
    """A request, and once accepted, the initiative one owner is accountable for."""

    __tablename__ = "initiative"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "key"),
        sa.UniqueConstraint("team_id", "number"),
        sa.UniqueConstraint("team_id", "submission_key"),
        sa.Index("ix_initiative_due", "state", "next_checkin_at"),
        sa.Index("ix_initiative_team_id_owner_id", "team_id", "owner_id"),
        sa.Index("ix_initiative_team_id_requester_id", "team_id", "requester_id"),
        sa.Index("ix_initiative_team_id_okr_id", "team_id", "okr_id"),
        # the digest reads each part through its own index, per objective or for the period:
        # health counts and health news (covering), done and overdue, created in the period (intake
        # and requests waiting for triage)
        sa.Index(
            "ix_initiative_digest_health",
            "team_id",
            "state",
            "okr_id",
            "health",
            "health_since",
            "number",
            "digest_health",
        ),
        sa.Index("ix_initiative_team_id_state_okr_id_done_at", "team_id", "state", "okr_id", "done_at"),
        sa.Index("ix_initiative_team_id_state_okr_id_due_date", "team_id", "state", "okr_id", "due_date"),
        sa.Index("ix_initiative_team_id_state_created_at", "team_id", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    number: Mapped[int]
    key: Mapped[str] = mapped_column(CleanString(20))  # REQ-17
    title: Mapped[str] = mapped_column(CleanString(150))
    description: Mapped[str] = mapped_column(CleanText, default="")
    requester_id: Mapped[str] = mapped_column(UserId)
    owner_id: Mapped[str | None] = mapped_column(UserId)
    okr_id: Mapped[int] = mapped_column(sa.ForeignKey("okr.id"))
    impact_level: Mapped[int] = mapped_column(default=2)  # 1 low, 2 medium, 3 high
    impact: Mapped[str] = mapped_column(CleanText, default="")  # expected impact on the KR, in words
    needed_by: Mapped[date | None]
    team_asked: Mapped[str | None] = mapped_column(CleanString(100))
    state: Mapped[InitiativeState] = mapped_column(
        str_enum(InitiativeState), default=InitiativeState.PROPOSED
    )
    health: Mapped[Health | None] = mapped_column(str_enum(Health))
    health_since: Mapped[datetime | None]
    # at risk or blocked without a break since (None otherwise): blocked -> at risk is still trouble
    troubled_since: Mapped[datetime | None]
    done_at: Mapped[datetime | None]  # when a check-in answered "done" (state done)
    # its health when the last digest was posted (None when it was not active then): what the next
    # digest compares with to say what is newly at risk, newly blocked or recovered
    digest_health: Mapped[Health | None] = mapped_column(str_enum(Health))
    progress_pct: Mapped[int | None]
    due_date: Mapped[date | None]
    forecast_date: Mapped[date | None]  # the owner's latest "next milestone" / expected finish
    cadence: Mapped[str | None] = mapped_column(CleanString(40))
    next_checkin_at: Mapped[datetime | None]
    last_checkin_at: Mapped[datetime | None]
    consecutive_misses: Mapped[int] = mapped_column(default=0)
    source_channel: Mapped[str | None] = mapped_column(CleanString(32))  # message shortcut origin
    source_ts: Mapped[str | None] = mapped_column(CleanString(32))
    source_link: Mapped[str | None] = mapped_column(CleanString(2000))
    submission_key: Mapped[str | None] = mapped_column(CleanString(100))  # dedupes a double submit
    decided_by: Mapped[str | None] = mapped_column(UserId)
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    okr: Mapped[Okr] = relationship(lazy="raise")


class Dependency(Base):
    """`waiter` waits on `provider` (an initiative, or a team with a named contact) by `needed_by`."""

    __tablename__ = "dependency"
    __table_args__ = (
        sa.CheckConstraint("provider_id IS NOT NULL OR provider_team IS NOT NULL", name="has_provider"),
        sa.Index("ix_dependency_team_id_waiter_id", "team_id", "waiter_id"),
        sa.Index("ix_dependency_team_id_provider_id", "team_id", "provider_id"),
        sa.Index("ix_dependency_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    waiter_id: Mapped[int] = mapped_column(sa.ForeignKey("initiative.id"))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("initiative.id"))
    provider_team: Mapped[str | None] = mapped_column(CleanString(100))
    provider_contact_id: Mapped[str | None] = mapped_column(UserId)
    what: Mapped[str] = mapped_column(CleanText, default="")
    needed_by: Mapped[date | None]
    state: Mapped[DependencyState] = mapped_column(str_enum(DependencyState), default=DependencyState.OPEN)
    created_by: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime]
    met_at: Mapped[datetime | None]
    stalled_since: Mapped[datetime | None]
    stall_reason: Mapped[str | None] = mapped_column(CleanString(200))

    waiter: Mapped[Initiative] = relationship(foreign_keys=[waiter_id], lazy="raise")
    provider: Mapped[Initiative | None] = relationship(foreign_keys=[provider_id], lazy="raise")


class Checkin(Base):
    """One slot on an initiative's cadence: asked, reminded, then answered, missed, snoozed or excused."""

    __tablename__ = "checkin"
    __table_args__ = (
        sa.UniqueConstraint("initiative_id", "slot_at"),
        sa.Index("ix_checkin_status_reminder_due_at", "status", "reminder_due_at"),
        sa.Index("ix_checkin_team_id_owner_id_status", "team_id", "owner_id", "status"),
        sa.Index("ix_checkin_team_id_slot_at", "team_id", "slot_at"),  # a period's check-ins (digest)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    initiative_id: Mapped[int] = mapped_column(sa.ForeignKey("initiative.id"))
    owner_id: Mapped[str] = mapped_column(UserId)
    slot_at: Mapped[datetime]
    prompted_at: Mapped[datetime]
    reminder_due_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    status: Mapped[CheckinStatus] = mapped_column(str_enum(CheckinStatus), default=CheckinStatus.PENDING)
    closed_at: Mapped[datetime | None]  # when it was answered, missed, snoozed or excused
    note: Mapped[str | None] = mapped_column(CleanString(500))  # snooze reason / OOO note

    initiative: Mapped[Initiative] = relationship(lazy="raise")


class CheckinUpdate(Base):
    """An owner's answer: append-only; a correction is a new row."""

    __tablename__ = "checkin_update"
    __table_args__ = (sa.Index("ix_checkin_update_initiative_id_created_at", "initiative_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    initiative_id: Mapped[int] = mapped_column(sa.ForeignKey("initiative.id"))
    checkin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkin.id"))
    author_id: Mapped[str] = mapped_column(UserId)
    health: Mapped[Health | None] = mapped_column(str_enum(Health))
    done: Mapped[bool] = mapped_column(default=False)
    progress_pct: Mapped[int | None]
    metric_value: Mapped[float | None]
    moved: Mapped[str] = mapped_column(CleanText, default="")
    blockers: Mapped[str] = mapped_column(CleanText, default="")
    blocked_on_id: Mapped[str | None] = mapped_column(UserId)
    next_milestone: Mapped[date | None]
    created_at: Mapped[datetime]


class Escalation(Base):
    """One stall episode of a dependency, climbing the ladder until its cause goes away."""

    __tablename__ = "escalation"
    __table_args__ = (
        # never two open escalations for one dependency
        sa.Index(
            "uq_escalation_open_dependency",
            "dependency_id",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
        sa.Index("ix_escalation_team_id_resolved_at", "team_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    dependency_id: Mapped[int] = mapped_column(sa.ForeignKey("dependency.id"))
    level: Mapped[int] = mapped_column(default=1)
    reason: Mapped[str] = mapped_column(CleanString(200))
    opened_at: Mapped[datetime]
    level_at: Mapped[datetime]  # when the current level was reached
    acknowledged_by: Mapped[str | None] = mapped_column(UserId)
    acknowledged_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    snooze_reason: Mapped[str | None] = mapped_column(CleanString(500))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(UserId)  # None: resolved by itself
    resolution: Mapped[str | None] = mapped_column(CleanText)

    dependency: Mapped[Dependency] = relationship(lazy="raise")


class Event(Base):
    """Append-only history of every change, per initiative where there is one."""

    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_team_id_initiative_id_at", "team_id", "initiative_id", "at"),
        sa.Index("ix_event_team_id_at", "team_id", "at"),
        # the hash chain's order: one event per place; events not chained yet (NULL) are allowed
        sa.Index("uq_event_team_id_seq", "team_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    initiative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("initiative.id"))
    subject: Mapped[str] = mapped_column(CleanString(60))  # "initiative:12", "okr:3", "dependency:7"
    kind: Mapped[str] = mapped_column(CleanString(40))  # "submitted", "accepted", "checkin.answered", ...
    actor_id: Mapped[str | None] = mapped_column(UserId)  # None: Throughline itself
    data: Mapped[dict[str, Any]] = mapped_column(default=json_default)
    at: Mapped[datetime]
    # the workspace's hash chain (bot/core/chain.py): its place 1..n, the hash of the event before
    # it and its own hash over its content and that one; set at commit, under the head's lock
    seq: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))


class EventChain(Base):
    """The head of a workspace's event chain: the last place taken and its hash. Writers lock this
    row (FOR UPDATE), so replicas take places one at a time and the chain never forks."""

    __tablename__ = "event_chain"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), default=0)
    head_hash: Mapped[str] = mapped_column(sa.String(64), default="")


class Outbox(Base):
    """A message the bot sends on its own, stored before it is sent. `key` makes enqueue idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "key"),
        sa.Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        sa.Index("ix_outbox_team_id_ref_key", "team_id", "ref_key"),  # edits wait for earlier edits
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    key: Mapped[str] = mapped_column(CleanString(200))
    method: Mapped[str] = mapped_column(CleanString(40))  # "post", "update", "upload"
    channel: Mapped[str | None] = mapped_column(CleanString(32))  # channel or user id (a DM)
    ref_key: Mapped[str | None] = mapped_column(CleanString(200))  # update that message / thread under it
    payload: Mapped[dict[str, Any]] = mapped_column(default=json_default)
    state: Mapped[OutboxState] = mapped_column(str_enum(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(CleanString(32))  # which deliverer holds the lease
    # Slack may have it: a send ended ambiguously (5xx, timeout, dropped connection) or a lease ran
    # out mid-send. Before any send the deliverer looks for it; it is never sent blind.
    unconfirmed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_error: Mapped[str | None] = mapped_column(CleanString(500))
    result_channel: Mapped[str | None] = mapped_column(CleanString(32))
    result_ts: Mapped[str | None] = mapped_column(CleanString(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class SeenRequest(Base):
    """Slack deliveries already processed (event ids, interaction keys): Slack retries, we don't redo."""

    __tablename__ = "seen_request"

    key: Mapped[str] = mapped_column(CleanString(200), primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class Digest(Base):
    """A leadership digest, once per workspace and period; `summary` feeds "changed since last"."""

    __tablename__ = "digest"
    __table_args__ = (sa.UniqueConstraint("team_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    period_start: Mapped[date]
    period_end: Mapped[date]
    created_at: Mapped[datetime]
    summary: Mapped[dict[str, Any]] = mapped_column(default=json_default)


class HealthCheckpoint(Base):
    """Active initiatives by health, per OKR, at one instant of the digest chart's weekly grid.

    The tick takes one as each instant passes, so the chart reads eight small rows instead of
    replaying every check-in answer. Rows are written once and never edited: a week's point stays
    what it was, even if an initiative counted in it is cancelled later."""

    __tablename__ = "health_checkpoint"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime]
    # OKR id (as text) -> [on track, at risk, blocked]
    counts: Mapped[dict[str, Any]] = mapped_column(default=json_default)

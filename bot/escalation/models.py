"""What the escalation ladder works with: why a dependency stalls, the card every ladder message is
built from, one line of `/initiative stalled`, the limits, and the outbox keys of its messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.models import Health, InitiativeState

BATCH = 100
GOVERNANCE = "governance"
HOW_LIMIT = 1000
SNOOZE_REASON_LIMIT = 500
MAX_SNOOZE_DAYS = 90
AFFECTED_SHOWN = 15
CHECKINS_SHOWN = 2
# how far the downstream walk goes: a real chain is a handful of links; this bounds the queries
MAX_CHAIN_DEPTH = 25


def level_key(escalation_id: int, level: int, recipient: str) -> str:
    """The outbox key of the level-`level` message of an escalation to `recipient`."""
    return f"escalation:{escalation_id}:level{level}:{recipient}"


def governance_key(escalation_id: int) -> str:
    """The outbox key of an escalation's governance post: `enqueue_update(of=...)` edits it."""
    return level_key(escalation_id, 3, GOVERNANCE)


# -- stalls ----------------------------------------------------------------------------------------


class StallCause(StrEnum):
    BLOCKED = "blocked"  # provider blocked / at risk for more than N business days
    MISSED = "missed_checkins"  # provider's owner missed N check-ins in a row
    OVERDUE = "overdue"  # needed-by date passed, not met
    SILENT = "silent"  # no check-in for N cadence periods
    LINKED_BLOCKED = "linked_blocked"  # a linked item in a blocked status for N business days
    LINKED_IDLE = "linked_idle"  # a linked epic or milestone whose items have not moved for N periods


@dataclass(frozen=True)
class Stall:
    cause: StallCause
    text: str  # plain words, e.g. "REQ-2 has been blocked since Mon 02 Mar 2026"


# -- what the messages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a dependency: an initiative, or a team with a contact."""

    key: str | None
    title: str | None
    owner_id: str | None
    team: str | None
    contact_id: str | None
    okr_key: str | None
    okr_title: str | None
    health: Health | None
    state: InitiativeState | None


@dataclass(frozen=True)
class AffectedLine:
    key: str
    title: str
    owner_id: str | None
    okr_key: str
    okr_title: str


@dataclass(frozen=True)
class CheckinLine:
    initiative_key: str
    at: datetime
    author_id: str
    health: Health | None
    done: bool
    moved: str
    blockers: str


@dataclass(frozen=True)
class EscalationCard:
    """Everything a ladder message shows about one escalation, at one instant."""

    escalation_id: int
    dependency_id: int
    level: int
    reason: str
    opened_at: datetime
    age_days: int  # business days since the stall
    what: str
    needed_by: date | None
    waiter: Side
    provider: Side
    told: tuple[str, ...]  # level 1: both sides
    lead_id: str | None  # level 2
    lead_as: str  # "the lead of Platform", "the owner of O1-KR2"
    channel: str | None  # level 3
    affected: tuple[AffectedLine, ...]  # downstream, filled from level 3 on
    checkins: tuple[CheckinLine, ...]  # the provider's latest answers
    provider_misses: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    snoozed_until: datetime | None
    snooze_reason: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    level2_days: int
    level3_days: int
    tz: ZoneInfo  # dates are shown in the workspace's zone

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def provider_key(self) -> str | None:
        return self.provider.key


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StallLine:
    """One stalled dependency, for `/initiative stalled` (and anyone listing stalls)."""

    dependency_id: int
    escalation_id: int | None  # None: the episode was resolved by hand and it is still stalled
    waiter_key: str
    waiter_title: str
    provider_key: str | None
    provider_title: str | None
    provider_team: str | None
    reason: str
    stalled_since: datetime
    age_days: int  # business days
    level: int | None
    acknowledged_by: str | None
    snoozed_until: datetime | None

"""Check-ins, as plain values: what a check-in DM shows, what an answer or a `/checkin` form
recorded, the Update modal's fields and ids, the limits, and the outbox keys of the DMs.

A *slot* is one instant of an initiative's cadence in its owner's zone (Monday 09:00 in Berlin).
The DM's outbox key `checkin:<owner>:<slot>` is its reference: every later change to one of its
check-ins (answered, missed, snoozed, handed over) edits it in place through
`enqueue_update(of=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.calendar import Cadence
from bot.trackers.models import Move
from storage.models import CheckinStatus, Event, Health, Initiative, InitiativeState

OWNER_BATCH = 500  # owners one pass handles per tick; the rest wait for the next minute
PROFILE_AHEAD = timedelta(hours=1)
SNOOZE_REASON_LIMIT = 500
OOO_NOTE_LIMIT = 300
OOO_HORIZON = timedelta(days=366)
MOVED_LIMIT = 3000
BLOCKERS_LIMIT = 500
TEAM_PREFIX = "team:"


# -- keys ------------------------------------------------------------------------------------------


def instant(at: datetime) -> str:
    """An instant as it appears in outbox keys (UTC, to the minute)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def prompt_key(owner_id: str, slot_at: datetime) -> str:
    """The outbox key of the DM asking `owner_id` about everything due at `slot_at`."""
    return f"checkin:{owner_id}:{instant(slot_at)}"


def health_notice_key(user_id: str, day: date) -> str:
    """The outbox key of the day's DM telling `user_id` what turned at risk or blocked (`day` in
    their zone): later changes that day edit it (`outbox.enqueue_folded`)."""
    return f"health:{user_id}:{day.isoformat()}"


def reminder_key(checkin_id: int) -> str:
    """The outbox key of the reminder about a slot (named after its first check-in reminded)."""
    return f"checkin:{checkin_id}:reminder"


# -- what a check-in DM shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A key result's metric: where it started, where it is, where it should get."""

    okr_key: str
    unit: str | None
    start: float | None
    current: float | None
    target: float | None


@dataclass(frozen=True)
class Answer:
    """What was recorded for one check-in: the first answer's author and time, the latest values."""

    author_id: str
    at: datetime
    health: Health | None
    done: bool
    progress_pct: int | None
    metric_value: float | None
    count: int  # more than 1: corrected since


@dataclass(frozen=True)
class SlotItem:
    """One initiative in a check-in DM (or in `/checkin`, the App Home)."""

    checkin_id: int
    owner_id: str  # whom this check-in asked
    slot_at: datetime
    status: CheckinStatus
    closed_at: datetime | None
    note: str | None
    initiative_key: str
    title: str
    state: InitiativeState
    current_owner_id: str | None
    health: Health | None
    progress_pct: int | None
    okr_key: str
    okr_title: str
    metric: Metric | None
    answer: Answer | None
    moved: tuple[Move, ...] = ()  # what moved in its linked work since the check-in before

    @property
    def answerable(self) -> bool:
        """Still waiting for this owner's answer (quick answers are offered)."""
        return (
            self.status == CheckinStatus.PENDING
            and self.state == InitiativeState.ACTIVE
            and self.current_owner_id == self.owner_id
        )

    @property
    def updatable(self) -> bool:
        """The owner may still add an update (the Update button is offered)."""
        return self.state == InitiativeState.ACTIVE and self.current_owner_id == self.owner_id


@dataclass(frozen=True)
class SlotMessage:
    """Everything one owner was asked at one slot: the content of one DM."""

    team_id: str
    owner_id: str
    slot_at: datetime
    tz: ZoneInfo
    items: list[SlotItem]

    @property
    def key(self) -> str:
        return prompt_key(self.owner_id, self.slot_at)


# -- what a user asks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    initiative_key: str
    title: str
    at: datetime


@dataclass(frozen=True)
class MyCheckins:
    """What `/checkin` (and the App Home) shows a user: check-ins to answer, what comes next."""

    user_id: str
    tz: ZoneInfo
    pending: list[SlotItem]
    more: int  # pending beyond those listed
    upcoming: list[Upcoming]
    ooo_until: date | None
    ooo_note: str | None


@dataclass(frozen=True)
class Snoozed:
    initiative_key: str
    title: str
    slot_at: datetime
    upcoming: bool  # the slot was not asked yet: it will not be
    reason: str
    next_at: datetime | None
    tz: ZoneInfo
    checkin_id: int  # the check-in snoozed (its DM is edited when it was asked already)
    owner_id: str


@dataclass(frozen=True)
class OutOfOffice:
    until: date | None  # None: back
    note: str | None
    tz: ZoneInfo


@dataclass(frozen=True)
class Closed:
    """What closing an initiative did: the event it recorded, the dependencies it closed."""

    event: Event
    dependencies: int


@dataclass(frozen=True)
class Cancelled:
    initiative_key: str
    title: str
    dependencies: int  # open dependencies on either side, cancelled with it


@dataclass(frozen=True)
class Reassigned:
    initiative_key: str
    title: str
    old_owner_id: str | None
    new_owner_id: str
    next_at: datetime
    owner_tz: ZoneInfo


@dataclass(frozen=True)
class CadenceChanged:
    initiative_key: str
    title: str
    cadence: Cadence
    is_default: bool
    next_at: datetime
    owner_tz: ZoneInfo


# -- answers ---------------------------------------------------------------------------------------


class Choice(StrEnum):
    """A quick answer (and the Update modal's first question)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"
    DONE = "done"

    @property
    def health(self) -> Health | None:
        return None if self is Choice.DONE else Health(self.value)


@dataclass(frozen=True)
class Answered:
    """What an answer recorded, and who was told."""

    initiative_key: str
    title: str
    update_id: int
    checkin_id: int | None
    health: Health | None
    previous_health: Health | None
    done: bool
    correction: bool
    dependency_id: int | None
    told: tuple[str, ...]


class UpdateBlock(StrEnum):
    """Input block ids of the Update modal (errors land on these)."""

    HEALTH = "checkin_health"
    PROGRESS = "checkin_progress"
    METRIC = "checkin_metric"
    MOVED = "checkin_moved"
    BLOCKERS = "checkin_blockers"
    BLOCKED_ON = "checkin_blocked_on"
    WAITING_ON = "checkin_waiting_on"
    NEEDED_BY = "checkin_needed_by"
    NEXT_MILESTONE = "checkin_next_milestone"


# The modal's input block where each of dependencies.add's fields belongs.
DEPENDENCY_FIELDS = {
    "dependency_what": UpdateBlock.BLOCKERS,
    "dependency_needed_by": UpdateBlock.NEEDED_BY,
}


@dataclass(frozen=True)
class UpdateForm:
    """What the Update modal shows."""

    initiative_key: str
    title: str
    okr_key: str
    okr_title: str
    health: Health | None
    health_since: datetime | None
    progress_pct: int | None
    next_milestone: date | None
    metric: Metric | None
    checkin_id: int | None
    slot_at: datetime | None
    answered_by: str | None  # set when this adds a correction to an answered slot
    answered_at: datetime | None
    tz: ZoneInfo
    moved: tuple[Move, ...] = ()  # what moved in its linked work: "What moved" starts with it


@dataclass(frozen=True)
class UpdateInput:
    """The Update modal's values, as typed (validated by `submit_update`)."""

    choice: str | None = None
    progress: str | None = None
    metric: str | None = None
    moved: str = ""
    blockers: str = ""
    blocked_on_id: str | None = None
    waiting_on: str | None = None  # "REQ-17" or "team:Platform"
    needed_by: str | None = None  # YYYY-MM-DD
    next_milestone: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True)
class ProviderOptions:
    initiatives: list[tuple[str, str]]  # (value, label)
    teams: list[tuple[str, str]]


@dataclass(frozen=True)
class CheckedUpdate:
    """An Update's values once checked: what to record, and whom it waits on (if anyone)."""

    choice: Choice
    progress: int | None
    metric_value: float | None
    next_milestone: date | None
    needed_by: date | None
    moved: str
    blockers: str
    blocked_on_id: str | None
    provider: Initiative | None
    provider_team: str | None
    contact: str | None
    provider_field: UpdateBlock  # where a refusal of the dependency is shown


# -- /checkin --------------------------------------------------------------------------------------


class CommandKind(StrEnum):
    LIST = "list"
    HELP = "help"
    SNOOZE = "snooze"
    OOO = "ooo"
    BACK = "back"
    CADENCE = "cadence"
    OWNER = "owner"
    CANCEL = "cancel"


@dataclass(frozen=True)
class CheckinCommand:
    kind: CommandKind
    key: str | None = None  # REQ-17, upper case
    text: str = ""  # the snooze reason, the OOO note, the cadence
    until: date | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Help:
    pass


Result = MyCheckins | Snoozed | OutOfOffice | Reassigned | CadenceChanged | Cancelled | Help


@dataclass(frozen=True)
class Outcome:
    result: Result
    tz: ZoneInfo  # the viewer's

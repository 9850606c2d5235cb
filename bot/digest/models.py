"""What a digest holds: the reporting period it covers, the figures per objective and for the
whole organisation, and the outcome of posting it; the limits its lists are held to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.core.calendar import CadenceKind, zone
from storage.models import CheckinStatus, Health

ITEM_LIMIT = 3  # initiatives / stalls named per list and objective; the rest is a count
DECISION_LIMIT = 6
MISSED_BY_LIMIT = 8
CHART_WEEKS = 8
PACE_TOLERANCE = 0.05  # within 5 points of the straight line is "on pace"
TROUBLED = (Health.AT_RISK, Health.BLOCKED)
SUMMARY_VERSION = 2  # 2: what was troubled moved to initiative.digest_health
PERIOD_NOUNS = {
    CadenceKind.WORKDAYS: "day",
    CadenceKind.WEEKLY: "week",
    CadenceKind.BIWEEKLY: "fortnight",
    CadenceKind.MONTHLY: "month",
}

CHECKPOINT_HEALTHS = (Health.ON_TRACK, Health.AT_RISK, Health.BLOCKED)  # a checkpoint's count order

T = TypeVar("T")


# -- the reporting period -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportingPeriod:
    """The stretch of time a digest covers: (start, end], as UTC instants, read in `zone_name`."""

    start: datetime
    end: datetime
    zone_name: str
    in_progress: bool = False  # a preview: the period so far, ending now

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.zone_name)

    @property
    def start_date(self) -> date:
        """The local date of the start: the digest row's `period_start`."""
        return self.start.astimezone(self.tz).date()

    @property
    def end_date(self) -> date:
        return self.end.astimezone(self.tz).date()

    @property
    def key(self) -> str:
        return self.start_date.isoformat()


# -- what a digest holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first few of a list (`items`) and how many there are in all (`total`)."""

    items: tuple[T, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))

    def __bool__(self) -> bool:
        return self.total > 0

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    @classmethod
    def of(cls, values: Sequence[T], limit: int = ITEM_LIMIT, total: int | None = None) -> Listing[T]:
        return cls(tuple(values[:limit]), len(values) if total is None else total)


@dataclass
class HealthCounts:
    """Active initiatives by their latest health (`unknown`: no check-in answered yet)."""

    on_track: int = 0
    at_risk: int = 0
    blocked: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.on_track + self.at_risk + self.blocked + self.unknown

    def add(self, other: HealthCounts) -> None:
        self.on_track += other.on_track
        self.at_risk += other.at_risk
        self.blocked += other.blocked
        self.unknown += other.unknown

    def count(self, health: Health | None, n: int = 1) -> None:
        if health == Health.ON_TRACK:
            self.on_track += n
        elif health == Health.AT_RISK:
            self.at_risk += n
        elif health == Health.BLOCKED:
            self.blocked += n
        else:
            self.unknown += n


@dataclass(frozen=True)
class InitiativeItem:
    key: str
    title: str
    owner_id: str | None
    okr_key: str
    health: Health | None
    since: datetime | None  # health since (changes), done at (done), None otherwise
    due_date: date | None
    days: int | None = None  # days overdue (missed milestones) or since the change


@dataclass
class Milestones:
    planned: int = 0
    met: int = 0
    missed: int = 0  # planned, still open
    early: int = 0  # done this period, due later or undated
    met_items: Listing[InitiativeItem] = field(default_factory=Listing)
    missed_items: Listing[InitiativeItem] = field(default_factory=Listing)

    def add(self, other: Milestones) -> None:
        self.planned += other.planned
        self.met += other.met
        self.missed += other.missed
        self.early += other.early


@dataclass
class Changes:
    """What changed since the last digest."""

    newly_blocked: Listing[InitiativeItem] = field(default_factory=Listing)
    newly_at_risk: Listing[InitiativeItem] = field(default_factory=Listing)
    recovered: Listing[InitiativeItem] = field(default_factory=Listing)
    done: Listing[InitiativeItem] = field(default_factory=Listing)

    @property
    def any(self) -> bool:
        return bool(self.newly_blocked or self.newly_at_risk or self.recovered or self.done)


@dataclass
class Participation:
    """Check-ins whose slot fell in the period. `due` leaves out excused ones (out of office)."""

    answered: int = 0
    missed: int = 0
    pending: int = 0
    snoozed: int = 0
    excused: int = 0

    @property
    def due(self) -> int:
        return self.answered + self.missed + self.pending + self.snoozed

    @property
    def rate(self) -> int | None:
        """Answered, as a whole percentage of due; None when nothing was due."""
        return round(100 * self.answered / self.due) if self.due else None

    def add(self, other: Participation) -> None:
        self.answered += other.answered
        self.missed += other.missed
        self.pending += other.pending
        self.snoozed += other.snoozed
        self.excused += other.excused

    def count(self, status: CheckinStatus, n: int) -> None:
        name = {
            CheckinStatus.ANSWERED: "answered",
            CheckinStatus.MISSED: "missed",
            CheckinStatus.PENDING: "pending",
            CheckinStatus.SNOOZED: "snoozed",
            CheckinStatus.EXCUSED: "excused",
        }[status]
        setattr(self, name, getattr(self, name) + n)


class Pace(StrEnum):
    AT_TARGET = "at target"
    AHEAD = "ahead"
    ON_PACE = "on pace"
    BEHIND = "behind"


@dataclass(frozen=True)
class KeyResult:
    """A measurable OKR: start → current → target, and where a straight line says it should be."""

    key: str
    title: str
    owner_id: str | None
    url: str | None
    unit: str | None
    start: float | None
    current: float | None
    target: float | None
    progress: float | None  # 0..1 of the way from start to target (may overshoot)
    expected: float | None  # where it should be by now, 0..1 (None: no parsable period)
    expected_value: float | None
    pace: Pace | None
    delta: float | None  # change in progress since the last digest, 0..1
    reached_this_period: bool = False

    @property
    def measurable(self) -> bool:
        return self.progress is not None

    @property
    def decimals(self) -> int:
        """Decimals to show values with: as many as start, target and current use (at most 2)."""
        places = 0
        for value in (self.start, self.target, self.current):
            if value is not None and not float(value).is_integer():
                text = f"{value:.2f}".rstrip("0")
                places = max(places, len(text.split(".")[1]))
        return places


@dataclass(frozen=True)
class Stall:
    """A stalled dependency (or one with an open escalation), oldest first."""

    waiter_key: str
    waiter_title: str
    waiter_owner_id: str | None
    okr_key: str
    provider_key: str | None
    provider_title: str | None
    provider_team: str | None
    provider_people: tuple[str, ...]
    what: str
    reason: str | None
    since: datetime | None
    days: int | None
    level: int | None  # open escalation level, None when not escalated


@dataclass(frozen=True)
class Decision:
    """Something only a named person can unblock: a level-3 escalation, or a request waiting on
    its OKR owner to accept or decline it."""

    kind: str  # "escalation" or "triage"
    key: str
    title: str
    okr_key: str
    deciders: tuple[str, ...]  # user ids
    where: str | None  # the governance channel of a level-3 escalation
    days: int  # at level 3 for (escalation) / waiting for triage for (request)
    provider_key: str | None = None  # escalation: the initiative waited on…
    provider_team: str | None = None  # …or the team
    what: str = ""  # escalation: what is waited for


@dataclass(frozen=True)
class MissedBy:
    owner_id: str
    count: int


@dataclass
class LinkedWork:
    """An objective's linked Jira and GitHub work: items done of items linked."""

    done: int = 0
    total: int = 0


@dataclass
class ObjectiveDigest:
    key: str
    title: str
    owner_id: str | None
    url: str | None
    priority: int
    period: str | None
    key_results: list[KeyResult] = field(default_factory=list)
    health: HealthCounts = field(default_factory=HealthCounts)
    milestones: Milestones = field(default_factory=Milestones)
    linked_work: LinkedWork = field(default_factory=LinkedWork)
    changes: Changes = field(default_factory=Changes)
    stalls: Listing[Stall] = field(default_factory=Listing)
    escalations: int = 0  # open escalations among the stalls
    participation: Participation = field(default_factory=Participation)
    intake: int = 0
    intake_by_okr: list[tuple[str, int]] = field(default_factory=list)
    awaiting_triage: int = 0
    health_weeks: list[HealthCounts] = field(default_factory=list)  # oldest first, CHART_WEEKS long

    @property
    def has_initiatives(self) -> bool:
        return bool(
            self.health.total or self.milestones.planned or self.milestones.early or self.changes.done
        )

    @property
    def quiet(self) -> bool:
        """Nothing happened and nothing is open under this objective."""
        return not (
            self.has_initiatives
            or self.stalls
            or self.participation.due
            or self.intake
            or self.awaiting_triage
        )

    @property
    def troubled(self) -> int:
        return self.health.at_risk + self.health.blocked


@dataclass
class DigestData:
    """Everything a digest shows, for one workspace and period."""

    team_id: str
    period: ReportingPeriod
    cadence: str  # "weekly on Friday at 16:00"
    noun: str  # what one period is called: "week", "fortnight", "month", "day"
    objectives: list[ObjectiveDigest]
    decisions: Listing[Decision]
    escalations_level3: int
    missed_by: Listing[MissedBy]
    previous_digest: date | None  # the last day of the previous digest's period
    week_ends: list[datetime]

    @property
    def first(self) -> bool:
        return self.previous_digest is None

    @property
    def health(self) -> HealthCounts:
        total = HealthCounts()
        for objective in self.objectives:
            total.add(objective.health)
        return total

    @property
    def milestones(self) -> Milestones:
        total = Milestones()
        for objective in self.objectives:
            total.add(objective.milestones)
        return total

    @property
    def participation(self) -> Participation:
        total = Participation()
        for objective in self.objectives:
            total.add(objective.participation)
        return total

    @property
    def changes(self) -> dict[str, int]:
        return {
            name: sum(getattr(o.changes, name).total for o in self.objectives)
            for name in ("newly_blocked", "newly_at_risk", "recovered", "done")
        }

    @property
    def key_results(self) -> list[KeyResult]:
        return [kr for o in self.objectives for kr in o.key_results]

    @property
    def kr_counts(self) -> dict[str, int]:
        measurable = [kr for kr in self.key_results if kr.measurable]
        return {
            "measurable": len(measurable),
            "at_target": sum(1 for kr in measurable if kr.pace == Pace.AT_TARGET),
            "reached": sum(1 for kr in measurable if kr.reached_this_period),
            "behind": sum(1 for kr in measurable if kr.pace == Pace.BEHIND),
            "on_pace": sum(1 for kr in measurable if kr.pace in (Pace.ON_PACE, Pace.AHEAD)),
        }

    @property
    def stalls(self) -> int:
        return sum(o.stalls.total for o in self.objectives)

    @property
    def escalations(self) -> int:
        return sum(o.escalations for o in self.objectives)

    @property
    def oldest_stall_days(self) -> int | None:
        ages = [s.days for o in self.objectives for s in o.stalls if s.days is not None]
        return max(ages) if ages else None

    @property
    def intake(self) -> int:
        return sum(o.intake for o in self.objectives)

    @property
    def awaiting_triage(self) -> int:
        return sum(o.awaiting_triage for o in self.objectives)

    @property
    def quiet(self) -> bool:
        """An empty period: nothing planned, done, changed, due, asked for or stuck."""
        return (
            all(o.quiet for o in self.objectives)
            and not self.decisions
            and not self.milestones.planned
            and not self.kr_counts["reached"]
        )

    def summary(self) -> dict[str, Any]:
        """What the next digest needs to compare with (stored on the digest row). What was at risk
        or blocked is not here but on each initiative (`digest_health`)."""
        measurable = [kr for kr in self.key_results if kr.measurable]
        milestones = self.milestones
        return {
            "version": SUMMARY_VERSION,
            "kr_progress": {kr.key: round(kr.progress or 0.0, 4) for kr in measurable},
            "kr_at_target": sorted(kr.key for kr in measurable if kr.pace == Pace.AT_TARGET),
            "milestones": {"planned": milestones.planned, "met": milestones.met},
        }


# -- posting it ------------------------------------------------------------------------------------


class Outcome(StrEnum):
    POSTED = "posted"
    ALREADY = "already posted"
    NO_CHANNEL = "no digest channel"
    NOT_DUE = "not due"


@dataclass(frozen=True)
class PostResult:
    team_id: str
    outcome: Outcome
    period: ReportingPeriod | None = None
    channel: str | None = None
    chart: bool = False  # a chart upload was enqueued

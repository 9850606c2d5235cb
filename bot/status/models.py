"""Status's plain pieces: what `/initiative <text>` asks for (its grammar, `parse_query`), and the
models its answers are built from (pages of lines, my work, a search, an OKR's roll-up, the card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.okrs import models as okrs
from bot.trackers.models import LinkLine
from storage.models import (
    Checkin,
    CheckinUpdate,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
)

T = TypeVar("T")


class QueryKind(StrEnum):
    MINE = "mine"  # /initiative
    HELP = "help"  # /initiative help
    KEY = "key"  # /initiative REQ-17
    OKR = "okr"  # /initiative okr O1
    QUEUE = "queue"  # /initiative queue
    STALLED = "stalled"  # /initiative stalled
    SEARCH = "search"  # /initiative some words
    LINK = "link"  # /initiative link REQ-17 https://… (linked work, bot.trackers)


@dataclass(frozen=True)
class Query:
    kind: QueryKind
    arg: str = ""


_KEY = re.compile(r"^[A-Za-z]{2,8}-\d{1,9}$")


def parse_query(text: str) -> Query:
    """What `/initiative <text>` asks for."""
    words = (text or "").split()
    if not words:
        return Query(QueryKind.MINE)
    first = words[0].lower()
    if first in ("help", "?", "-h", "--help") and len(words) == 1:
        return Query(QueryKind.HELP)
    if first in ("queue", "stalled") and len(words) == 1:
        return Query(QueryKind(first))
    if first == "okr":
        return Query(QueryKind.OKR, " ".join(words[1:]))
    if first == "link" and len(words) > 1:
        return Query(QueryKind.LINK, " ".join(words[1:]))
    if len(words) == 1 and _KEY.match(words[0]):
        return Query(QueryKind.KEY, words[0].upper())
    return Query(QueryKind.SEARCH, " ".join(words))


# -- lists, a page at a time ---------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: `items` start at `offset`; `total` counts the whole list
    (0 when the page is past its end, where the total cannot be read)."""

    items: list[T]
    total: int
    offset: int = 0

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def more(self) -> int:
        """How many come after this page."""
        return max(0, self.total - self.offset - len(self.items))


@dataclass(frozen=True)
class InitiativeLine:
    key: str
    title: str
    state: InitiativeState
    health: Health | None
    okr_key: str
    owner_id: str | None
    requester_id: str
    next_checkin_at: datetime | None
    due_date: date | None


@dataclass(frozen=True)
class WaitingLine:
    """Someone's initiative (`waiter`) waits on mine (`provider_key`) or on me as a team's contact."""

    waiter: InitiativeLine
    provider_key: str | None
    what: str
    needed_by: date | None


@dataclass(frozen=True)
class DueCheckin:
    """A check-in I was asked for and have not answered."""

    key: str
    title: str
    health: Health | None
    slot_at: datetime
    reminded_at: datetime | None


# -- /initiative ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyWork:
    owned: Page[InitiativeLine]
    due: Page[DueCheckin]
    waiting_on_me: Page[WaitingLine]
    requested: Page[InitiativeLine]
    zone: ZoneInfo

    @property
    def empty(self) -> bool:
        return not (self.owned.items or self.due.items or self.waiting_on_me.items or self.requested.items)


# -- search --------------------------------------------------------------------------------------

SEARCH_LIMIT = 15


@dataclass(frozen=True)
class SearchResult:
    words: list[str]
    found: Page[InitiativeLine]


# -- /initiative okr O1 --------------------------------------------------------------------------

OKR_INITIATIVES_LIMIT = 15


@dataclass(frozen=True)
class HealthCounts:
    """Initiatives under an OKR by where they are. Only active ones have a health."""

    on_track: int = 0
    at_risk: int = 0
    blocked: int = 0
    unreported: int = 0  # active, no check-in yet
    proposed: int = 0
    done: int = 0
    closed: int = 0  # declined or cancelled

    @property
    def active(self) -> int:
        return self.on_track + self.at_risk + self.blocked + self.unreported

    @property
    def rollup(self) -> Health | None:
        """Worst of the active initiatives' health: one blocked initiative makes the OKR blocked,
        else one at risk makes it at risk; None until one has reported."""
        if self.blocked:
            return Health.BLOCKED
        if self.at_risk:
            return Health.AT_RISK
        if self.on_track:
            return Health.ON_TRACK
        return None


def kr_progress(okr: Okr) -> float | None:
    """A key result's progress in percent (`okrs.progress`), or None when it can't be said."""
    done = okrs.progress(okr)
    return None if done is None else done * 100


@dataclass(frozen=True)
class OkrOverview:
    okr: Okr
    objective: Okr | None  # the parent objective when `okr` is a key result
    key_results: list[Okr]
    counts: HealthCounts
    initiatives: Page[InitiativeLine]

    @property
    def progress(self) -> float | None:
        """A key result's own progress; an objective's is the mean of its key results'."""
        if self.okr.kind is OkrKind.KEY_RESULT:
            return kr_progress(self.okr)
        known = [p for p in (kr_progress(kr) for kr in self.key_results) if p is not None]
        return sum(known) / len(known) if known else None


@dataclass(frozen=True)
class OkrNotFound:
    asked: str
    suggestions: list[tuple[str, str]]  # (key, title)


# -- the status card -----------------------------------------------------------------------------

CARD_DEPENDENCY_LIMIT = 12  # dependencies shown each way; the card says how many more there are
CARD_ESCALATION_LIMIT = 12  # open escalations shown; the card says how many more there are


@dataclass(frozen=True)
class OtherSide:
    """The initiative on the other end of a dependency."""

    key: str
    title: str
    health: Health | None
    state: InitiativeState
    owner_id: str | None


@dataclass(frozen=True)
class DependencyLine:
    what: str
    needed_by: date | None
    stalled_since: datetime | None
    other: OtherSide | None  # None: a team is waited on (`team`, `contact_id`)
    team: str | None
    contact_id: str | None


@dataclass(frozen=True)
class EscalationLine:
    level: int
    reason: str
    opened_at: datetime
    acknowledged_by: str | None
    waiter_key: str
    provider: str  # the initiative's key or the team's name


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str


@dataclass(frozen=True)
class Card:
    initiative: Initiative
    okr: Okr
    objective: Okr | None
    latest_update: CheckinUpdate | None
    latest_checkin: Checkin | None
    waits_on: list[DependencyLine]
    waited_on_by: list[DependencyLine]
    escalations: list[EscalationLine]
    triage_post: MessageRef | None
    zone: ZoneInfo  # the viewer's, or the workspace's for a card shared in a channel
    can_update: bool
    can_add_dependency: bool
    waits_on_total: int | None = None  # how many there are in all (None: just those listed)
    waited_on_by_total: int | None = None
    escalations_total: int | None = None
    links: list[LinkLine] = field(default_factory=list)  # linked Jira / GitHub work (bot.trackers)
    links_total: int = 0
    can_link: bool = False  # the viewer may link work, and a tracker is set up


# -- an initiative's history, newest first ------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    kind: str  # "checkin.answered", "escalation.level2", ...
    at: datetime
    actor_id: str | None
    data: dict[str, object]


@dataclass(frozen=True)
class History:
    """One page of an initiative's events, newest first, for a viewer in `zone`."""

    key: str
    title: str
    zone: ZoneInfo
    page: Page[HistoryEntry]
    size: int  # events a page

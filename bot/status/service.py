"""Answers to "where is this?": my initiatives, a status card, a search, an OKR's roll-up.

Every answer is built from a fixed number of statements, whatever the number of initiatives:
lists are read a page at a time with their total (`count(*) OVER ()`), never row by row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, people
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.okrs import models as okr_models
from bot.okrs.service import reading as okr_reading
from storage.aliases import OTHER, PARENT_OKR, PROVIDER, WAITER, WAITER_OKR
from storage.models import (
    OPEN_STATES,
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
    Outbox,
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


def _line_columns(initiative: Any, okr: Any) -> tuple[Any, ...]:
    return (
        initiative.key,
        initiative.title,
        initiative.state,
        initiative.health,
        okr.key,
        initiative.owner_id,
        initiative.requester_id,
        initiative.next_checkin_at,
        initiative.due_date,
    )


_LINE_WIDTH = len(_line_columns(Initiative, Okr))
_TOTAL = sa.func.count().over().label("total")


def _paged(rows: Sequence[Any], offset: int, make: Any) -> Page[Any]:
    total = int(rows[0][-1]) if rows else 0
    return Page([make(row[:-1]) for row in rows], total, offset)


def _line(row: Any) -> InitiativeLine:
    return InitiativeLine(*row[:_LINE_WIDTH])


def _worst_first(initiative: Any) -> Any:
    """Blocked, at risk, not yet reported, on track: the order an owner wants to see them in."""
    return sa.case(
        (initiative.health == Health.BLOCKED, 0),
        (initiative.health == Health.AT_RISK, 1),
        (initiative.health.is_(None), 2),
        else_=3,
    )


def owned(
    session: Session, team_id: str, user_id: str, *, limit: int, offset: int = 0
) -> Page[InitiativeLine]:
    """Open initiatives `user_id` owns, worst health first: one statement."""
    rows = session.execute(
        sa.select(*_line_columns(Initiative, Okr), _TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id, Initiative.owner_id == user_id, Initiative.state.in_(OPEN_STATES)
        )
        .order_by(_worst_first(Initiative), Initiative.number.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return _paged(rows, offset, _line)


def requested(
    session: Session, team_id: str, user_id: str, *, limit: int, offset: int = 0, open_only: bool = False
) -> Page[InitiativeLine]:
    """What `user_id` asked for, open ones first, newest first: one statement."""
    query = (
        sa.select(*_line_columns(Initiative, Okr), _TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(Initiative.team_id == team_id, Initiative.requester_id == user_id)
    )
    if open_only:
        query = query.where(Initiative.state.in_(OPEN_STATES))
    rows = session.execute(
        query.order_by(sa.case((Initiative.state.in_(OPEN_STATES), 0), else_=1), Initiative.number.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return _paged(rows, offset, _line)


def waiting_on(
    session: Session,
    team_id: str,
    user_id: str,
    *,
    limit: int,
    offset: int = 0,
    led_teams: Sequence[str] = (),
) -> Page[WaitingLine]:
    """Open dependencies on an initiative `user_id` owns, naming them as a team's contact, or on
    a team they lead (`led_teams`) that names no contact; soonest needed first: one statement."""
    waiter = WAITER
    provider = PROVIDER
    waiter_okr = WAITER_OKR
    rows = session.execute(
        sa.select(
            *_line_columns(waiter, waiter_okr), provider.key, Dependency.what, Dependency.needed_by, _TOTAL
        )
        .select_from(Dependency)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .join(waiter_okr, waiter_okr.id == waiter.okr_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .where(
            Dependency.team_id == team_id,
            Dependency.state == DependencyState.OPEN,
            sa.or_(
                provider.owner_id == user_id,
                Dependency.provider_contact_id == user_id,
                sa.and_(
                    Dependency.provider_contact_id.is_(None),
                    Dependency.provider_team.in_(list(led_teams)),
                )
                if led_teams
                else sa.false(),
            ),
        )
        .order_by(Dependency.needed_by.is_(None), Dependency.needed_by, Dependency.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return _paged(
        rows,
        offset,
        lambda row: WaitingLine(_line(row), row[_LINE_WIDTH], row[_LINE_WIDTH + 1], row[_LINE_WIDTH + 2]),
    )


def checkins_due(
    session: Session, team_id: str, user_id: str, *, limit: int, offset: int = 0
) -> Page[DueCheckin]:
    """Check-ins `user_id` was asked for and has not answered, oldest first: one statement."""
    rows = session.execute(
        sa.select(
            Initiative.key,
            Initiative.title,
            Initiative.health,
            Checkin.slot_at,
            Checkin.reminded_at,
            _TOTAL,
        )
        .join(Initiative, Initiative.id == Checkin.initiative_id)
        .where(
            Checkin.team_id == team_id,
            Checkin.owner_id == user_id,
            Checkin.status == CheckinStatus.PENDING,
            Initiative.state == InitiativeState.ACTIVE,
        )
        .order_by(Checkin.slot_at, Checkin.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return _paged(rows, offset, lambda row: DueCheckin(*row))


def led_teams(user_id: str, settings: WorkspaceSettings) -> list[str]:
    """The teams (`THROUGHLINE_TEAMS`) `user_id` is the lead of."""
    return sorted(name for name, lead in settings.teams.items() if lead == user_id)


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


def my_work(
    session: Session, team_id: str, user_id: str, settings: WorkspaceSettings, limit: int = 10
) -> MyWork:
    """What `user_id` owns, owes a check-in for, is waited on for and has asked for (open only):
    five statements, whatever the size."""
    return MyWork(
        owned=owned(session, team_id, user_id, limit=limit),
        due=checkins_due(session, team_id, user_id, limit=limit),
        waiting_on_me=waiting_on(
            session, team_id, user_id, limit=limit, led_teams=led_teams(user_id, settings)
        ),
        requested=requested(session, team_id, user_id, limit=limit, open_only=True),
        zone=people.zones(session, team_id, [user_id], settings)[user_id],
    )


# -- search --------------------------------------------------------------------------------------

SEARCH_LIMIT = 15
_MAX_WORDS = 8
_MAX_WORD = 60


@dataclass(frozen=True)
class SearchResult:
    words: list[str]
    found: Page[InitiativeLine]


def search_words(text: str) -> list[str]:
    """The words a search looks for: at most 8, each cut to 60 characters, no repeats."""
    seen: dict[str, None] = {}
    for word in (text or "").split():
        seen.setdefault(word[:_MAX_WORD], None)
    return list(seen)[:_MAX_WORDS]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _folded(text: str) -> sa.ColumnElement[str]:
    # lower() on the database side too, so both sides fold letters the same way
    return sa.func.lower(sa.literal(text, sa.String()))


def _like(column: sa.ColumnElement[str], before: str, text: str, after: str) -> sa.ColumnElement[bool]:
    pattern = sa.literal(before, sa.String()) + _folded(_like_escape(text)) + sa.literal(after, sa.String())
    return column.like(pattern, escape="\\")


def search(session: Session, team_id: str, text: str, limit: int = SEARCH_LIMIT) -> SearchResult:
    """Initiatives whose title (or key) contains every word of `text`, case-insensitively.

    Best matches first: the whole phrase as the title or key, then titles starting with it (or a
    key ending in it: `17` finds REQ-17), then the phrase at the start of a word, then anywhere,
    then the words apart; open before closed; then the most recently changed. One statement.
    """
    words = search_words(text)
    if not words:
        return SearchResult([], Page([], 0))
    phrase = " ".join(words)
    title = sa.func.lower(Initiative.title)
    key = sa.func.lower(Initiative.key)
    rank = sa.case(
        (sa.or_(title == _folded(phrase), key == _folded(phrase)), 0),
        (sa.or_(_like(title, "", phrase, "%"), _like(key, "%-", phrase, "")), 1),
        (_like(title, "% ", phrase, "%"), 2),
        (sa.or_(_like(title, "%", phrase, "%"), _like(key, "%", phrase, "%")), 3),
        else_=4,
    )
    rows = session.execute(
        sa.select(*_line_columns(Initiative, Okr), _TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id,
            *(sa.or_(_like(title, "%", word, "%"), _like(key, "%", word, "%")) for word in words),
        )
        .order_by(
            rank,
            sa.case((Initiative.state.in_(OPEN_STATES), 0), else_=1),
            Initiative.updated_at.desc(),
            Initiative.number.desc(),
        )
        .limit(limit)
    ).all()
    return SearchResult(words, _paged(rows, 0, _line))


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
    done = okr_models.progress(okr)
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


def okr_overview(
    session: Session, team_id: str, key: str, limit: int = OKR_INITIATIVES_LIMIT
) -> OkrOverview | OkrNotFound:
    """An objective (or key result) with its key results, the health of its initiatives and the
    first `limit` of them (worst health first): four statements. An unknown key gives a few OKRs
    to pick from, those whose key or title contains what was asked first (one statement)."""
    asked = " ".join(key.split())[:100]
    parent = PARENT_OKR
    found = (
        session.execute(
            sa.select(Okr, parent)
            .outerjoin(parent, parent.id == Okr.parent_id)
            .where(Okr.team_id == team_id, sa.func.lower(Okr.key) == _folded(asked))
        ).first()
        if asked
        else None
    )
    if found is None:
        return OkrNotFound(asked, _okr_suggestions(session, team_id, asked))
    okr, objective = found
    if okr.kind is OkrKind.OBJECTIVE:
        key_results = sorted(  # O1-KR2 before O1-KR10, as /okr and the digest list them
            session.scalars(sa.select(Okr).where(Okr.team_id == team_id, Okr.parent_id == okr.id)),
            key=lambda kr: okr_reading.natural_key(kr.key),
        )
        scope = [okr.id, *(kr.id for kr in key_results)]
    else:
        key_results = [okr]
        scope = [okr.id]

    counts: dict[str, int] = {}
    for state, health, number in session.execute(
        sa.select(Initiative.state, Initiative.health, sa.func.count())
        .where(Initiative.team_id == team_id, Initiative.okr_id.in_(scope))
        .group_by(Initiative.state, Initiative.health)
    ):
        if state is InitiativeState.ACTIVE:
            name = health.value if health is not None else "unreported"
        elif state in (InitiativeState.DECLINED, InitiativeState.CANCELLED):
            name = "closed"
        else:
            name = state.value
        counts[name] = counts.get(name, 0) + int(number)

    rows = session.execute(
        sa.select(*_line_columns(Initiative, Okr), _TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id,
            Initiative.okr_id.in_(scope),
            Initiative.state.in_(OPEN_STATES),
        )
        .order_by(
            sa.case((Initiative.state == InitiativeState.ACTIVE, 0), else_=1),
            _worst_first(Initiative),
            Initiative.number.desc(),
        )
        .limit(limit)
    ).all()
    return OkrOverview(
        okr=okr,
        objective=objective,
        key_results=key_results,
        counts=HealthCounts(**counts),
        initiatives=_paged(rows, 0, _line),
    )


def _okr_suggestions(session: Session, team_id: str, asked: str, limit: int = 8) -> list[tuple[str, str]]:
    query = sa.select(Okr.key, Okr.title).where(Okr.team_id == team_id, Okr.archived_at.is_(None))
    order: list[Any] = []
    if asked:
        matches = sa.or_(
            _like(sa.func.lower(Okr.key), "%", asked, "%"), _like(sa.func.lower(Okr.title), "%", asked, "%")
        )
        order.append(sa.case((matches, 0), else_=1))
    rows = session.execute(query.order_by(*order, Okr.kind.desc(), Okr.key).limit(limit))
    return [(row.key, row.title) for row in rows]


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


def triage_post_key(initiative_id: int) -> str:
    """The outbox key of the triage post of a request (sent by intake)."""
    return f"request:{initiative_id}:triage"


def card(
    session: Session, team_id: str, key: str, settings: WorkspaceSettings, viewer_id: str | None = None
) -> Card | None:
    """The status card of initiative `key`, as `viewer_id` sees it (None: as a channel sees it,
    in the workspace's zone, without the owner's buttons). None if there is no such initiative.
    Seven statements (six without a viewer), however many dependencies and check-ins it has."""
    parent = PARENT_OKR
    found = session.execute(
        sa.select(Initiative, Okr, parent)
        .join(Okr, Okr.id == Initiative.okr_id)
        .outerjoin(parent, parent.id == Okr.parent_id)
        .where(Initiative.team_id == team_id, Initiative.key == key.strip().upper())
    ).first()
    if found is None:
        return None
    initiative, okr, objective = found

    latest_update = session.scalars(
        sa.select(CheckinUpdate)
        .where(CheckinUpdate.team_id == team_id, CheckinUpdate.initiative_id == initiative.id)
        .order_by(CheckinUpdate.created_at.desc(), CheckinUpdate.id.desc())
        .limit(1)
    ).first()
    latest_checkin = session.scalars(
        sa.select(Checkin)
        .where(Checkin.team_id == team_id, Checkin.initiative_id == initiative.id)
        .order_by(Checkin.slot_at.desc(), Checkin.id.desc())
        .limit(1)
    ).first()

    (waits_on, waits_on_total), (waited_on_by, waited_on_by_total) = _dependencies(
        session, team_id, initiative.id
    )
    escalations, escalations_total = _open_escalations(session, team_id, initiative.id)
    triage = session.execute(
        sa.select(Outbox.result_channel, Outbox.result_ts).where(
            Outbox.team_id == team_id, Outbox.key == triage_post_key(initiative.id)
        )
    ).first()

    if viewer_id is None:
        zone = people.zone_of(None, settings)
        can_update = can_add_dependency = False
    else:
        zone = people.zones(session, team_id, [viewer_id], settings)[viewer_id]
        subject = authz.Subject(
            label=initiative.key,
            requester_id=initiative.requester_id,
            owner_id=initiative.owner_id,
            okr_owner_ids=tuple(o.owner_id for o in (okr, objective) if o is not None and o.owner_id),
        )
        is_open = initiative.state in OPEN_STATES
        can_update = initiative.state is InitiativeState.ACTIVE and authz.can(
            Action.UPDATE, viewer_id, settings, subject
        )
        can_add_dependency = is_open and authz.can(Action.ADD_DEPENDENCY, viewer_id, settings, subject)

    return Card(
        initiative=initiative,
        okr=okr,
        objective=objective,
        latest_update=latest_update,
        latest_checkin=latest_checkin,
        waits_on=waits_on,
        waited_on_by=waited_on_by,
        waits_on_total=waits_on_total,
        waited_on_by_total=waited_on_by_total,
        escalations=escalations,
        escalations_total=escalations_total,
        triage_post=MessageRef(triage[0], triage[1]) if triage and triage[0] and triage[1] else None,
        zone=zone,
        can_update=can_update,
        can_add_dependency=can_add_dependency,
    )


def _dependencies_statement() -> sa.Select[Any]:
    """Open dependencies each way of the initiative `:initiative_id`, ranked per direction
    (soonest needed first) and counted, with the other side. Built once: it is on every card."""
    initiative_id = sa.bindparam("initiative_id", type_=sa.Integer)
    other = OTHER
    other_id = sa.case(
        (Dependency.waiter_id == initiative_id, Dependency.provider_id), else_=Dependency.waiter_id
    )
    waits = sa.case((Dependency.waiter_id == initiative_id, 1), else_=0)
    soonest = (Dependency.needed_by.is_(None), Dependency.needed_by, Dependency.id)
    ranked = (
        sa.select(
            waits.label("waits"),
            sa.func.row_number().over(partition_by=waits, order_by=soonest).label("rank"),
            sa.func.count().over(partition_by=waits).label("total"),
            Dependency.what,
            Dependency.needed_by,
            Dependency.stalled_since,
            Dependency.provider_team,
            Dependency.provider_contact_id,
            other.key,
            other.title,
            other.health,
            other.state,
            other.owner_id,
        )
        .outerjoin(other, other.id == other_id)
        .where(
            Dependency.team_id == sa.bindparam("team_id", type_=sa.String),
            Dependency.state == DependencyState.OPEN,
            sa.or_(Dependency.waiter_id == initiative_id, Dependency.provider_id == initiative_id),
        )
        .subquery("ranked")
    )
    return (
        sa.select(ranked)
        .where(ranked.c.rank <= CARD_DEPENDENCY_LIMIT)
        .order_by(ranked.c.waits.desc(), ranked.c.rank)
    )


_DEPENDENCIES = _dependencies_statement()


def _dependencies(
    session: Session, team_id: str, initiative_id: int
) -> tuple[tuple[list[DependencyLine], int], tuple[list[DependencyLine], int]]:
    """Open dependencies each way (what this waits on; what waits on it), soonest needed first,
    at most CARD_DEPENDENCY_LIMIT each, with the other side's key, title, health and state, and
    how many there are each way: one statement."""
    rows = session.execute(_DEPENDENCIES, {"team_id": team_id, "initiative_id": initiative_id})
    sides: dict[int, tuple[list[DependencyLine], int]] = {1: ([], 0), 0: ([], 0)}
    for row in rows:
        side = (
            OtherSide(row.key, row.title, row.health, row.state, row.owner_id)
            if row.key is not None
            else None
        )
        line = DependencyLine(
            row.what, row.needed_by, row.stalled_since, side, row.provider_team, row.provider_contact_id
        )
        lines, _ = sides[row.waits]
        lines.append(line)
        sides[row.waits] = (lines, int(row.total))
    return sides[1], sides[0]


_OPEN_ESCALATIONS = (
    sa.select(
        Escalation.level,
        Escalation.reason,
        Escalation.opened_at,
        Escalation.acknowledged_by,
        WAITER.key,
        sa.func.coalesce(PROVIDER.key, Dependency.provider_team, ""),
        sa.func.count().over(),
    )
    .join(Dependency, Dependency.id == Escalation.dependency_id)
    .join(WAITER, WAITER.id == Dependency.waiter_id)
    .outerjoin(PROVIDER, PROVIDER.id == Dependency.provider_id)
    .where(
        Escalation.team_id == sa.bindparam("team_id", type_=sa.String),
        Escalation.resolved_at.is_(None),
        sa.or_(
            Dependency.waiter_id == sa.bindparam("initiative_id", type_=sa.Integer),
            Dependency.provider_id == sa.bindparam("initiative_id", type_=sa.Integer),
        ),
    )
    .order_by(Escalation.level.desc(), Escalation.opened_at, Escalation.id)
    .limit(CARD_ESCALATION_LIMIT)
)  # built once: it is on every card


def _open_escalations(session: Session, team_id: str, initiative_id: int) -> tuple[list[EscalationLine], int]:
    """Unresolved escalations of dependencies this initiative is on either side of, highest level
    first (CARD_ESCALATION_LIMIT at most), and how many there are in all: one statement."""
    rows = session.execute(_OPEN_ESCALATIONS, {"team_id": team_id, "initiative_id": initiative_id}).all()
    return [EscalationLine(*row[:-1]) for row in rows], int(rows[0][-1]) if rows else 0

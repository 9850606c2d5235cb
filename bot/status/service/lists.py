"""Lists, a page at a time (what I own, asked for, am waited on for, owe a check-in for), my work,
and the search: each one statement. The columns and paging here are shared with `okr`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import people
from bot.core.config import WorkspaceSettings
from bot.status.models import (
    SEARCH_LIMIT,
    DueCheckin,
    InitiativeLine,
    MyWork,
    Page,
    SearchResult,
    WaitingLine,
)
from storage.aliases import PROVIDER, WAITER, WAITER_OKR
from storage.models import (
    OPEN_STATES,
    Checkin,
    CheckinStatus,
    Dependency,
    DependencyState,
    Health,
    Initiative,
    InitiativeState,
    Okr,
)


def line_columns(initiative: Any, okr: Any) -> tuple[Any, ...]:
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


LINE_WIDTH = len(line_columns(Initiative, Okr))
TOTAL = sa.func.count().over().label("total")


def paged(rows: Sequence[Any], offset: int, make: Any) -> Page[Any]:
    total = int(rows[0][-1]) if rows else 0
    return Page([make(row[:-1]) for row in rows], total, offset)


def to_line(row: Any) -> InitiativeLine:
    return InitiativeLine(*row[:LINE_WIDTH])


def worst_first(initiative: Any) -> Any:
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
        sa.select(*line_columns(Initiative, Okr), TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id, Initiative.owner_id == user_id, Initiative.state.in_(OPEN_STATES)
        )
        .order_by(worst_first(Initiative), Initiative.number.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return paged(rows, offset, to_line)


def requested(
    session: Session, team_id: str, user_id: str, *, limit: int, offset: int = 0, open_only: bool = False
) -> Page[InitiativeLine]:
    """What `user_id` asked for, open ones first, newest first: one statement."""
    query = (
        sa.select(*line_columns(Initiative, Okr), TOTAL)
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
    return paged(rows, offset, to_line)


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
            *line_columns(waiter, waiter_okr), provider.key, Dependency.what, Dependency.needed_by, TOTAL
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
    return paged(
        rows,
        offset,
        lambda row: WaitingLine(to_line(row), row[LINE_WIDTH], row[LINE_WIDTH + 1], row[LINE_WIDTH + 2]),
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
            TOTAL,
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
    return paged(rows, offset, lambda row: DueCheckin(*row))


def led_teams(user_id: str, settings: WorkspaceSettings) -> list[str]:
    """The teams (`THROUGHLINE_TEAMS`) `user_id` is the lead of."""
    return sorted(name for name, lead in settings.teams.items() if lead == user_id)


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

_MAX_WORDS = 8
_MAX_WORD = 60


def search_words(text: str) -> list[str]:
    """The words a search looks for: at most 8, each cut to 60 characters, no repeats."""
    seen: dict[str, None] = {}
    for word in (text or "").split():
        seen.setdefault(word[:_MAX_WORD], None)
    return list(seen)[:_MAX_WORDS]


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def folded(text: str) -> sa.ColumnElement[str]:
    # lower() on the database side too, so both sides fold letters the same way
    return sa.func.lower(sa.literal(text, sa.String()))


def like(column: sa.ColumnElement[str], before: str, text: str, after: str) -> sa.ColumnElement[bool]:
    pattern = sa.literal(before, sa.String()) + folded(like_escape(text)) + sa.literal(after, sa.String())
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
        (sa.or_(title == folded(phrase), key == folded(phrase)), 0),
        (sa.or_(like(title, "", phrase, "%"), like(key, "%-", phrase, "")), 1),
        (like(title, "% ", phrase, "%"), 2),
        (sa.or_(like(title, "%", phrase, "%"), like(key, "%", phrase, "%")), 3),
        else_=4,
    )
    rows = session.execute(
        sa.select(*line_columns(Initiative, Okr), TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id,
            *(sa.or_(like(title, "%", word, "%"), like(key, "%", word, "%")) for word in words),
        )
        .order_by(
            rank,
            sa.case((Initiative.state.in_(OPEN_STATES), 0), else_=1),
            Initiative.updated_at.desc(),
            Initiative.number.desc(),
        )
        .limit(limit)
    ).all()
    return SearchResult(words, paged(rows, 0, to_line))

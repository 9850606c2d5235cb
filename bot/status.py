"""Answers to "where is this?": my initiatives, what I asked for, what waits on me."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from storage.models import (
    OPEN_STATES,
    Dependency,
    DependencyState,
    Health,
    Initiative,
    InitiativeState,
    Okr,
)


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


@dataclass(frozen=True)
class WaitingLine:
    """Someone's initiative (`waiter`) waits on mine (`provider`)."""

    waiter: InitiativeLine
    provider_key: str | None
    what: str
    needed_by: object


@dataclass(frozen=True)
class MyWork:
    owned: list[InitiativeLine]
    requested: list[InitiativeLine]
    waiting_on_me: list[WaitingLine]

    @property
    def empty(self) -> bool:
        return not (self.owned or self.requested or self.waiting_on_me)


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
    )


def _lines(rows: sa.Result) -> list[InitiativeLine]:
    return [InitiativeLine(*row) for row in rows]


def my_work(session: Session, team_id: str, user_id: str, limit: int = 20) -> MyWork:
    """What `user_id` owns, has requested and is waited on for: three statements, whatever the size."""
    owned = session.execute(
        sa.select(*_line_columns(Initiative, Okr))
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id, Initiative.owner_id == user_id, Initiative.state.in_(OPEN_STATES)
        )
        .order_by(Initiative.number.desc())
        .limit(limit)
    )
    requested = session.execute(
        sa.select(*_line_columns(Initiative, Okr))
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id,
            Initiative.requester_id == user_id,
            Initiative.state.in_(OPEN_STATES),
        )
        .order_by(Initiative.number.desc())
        .limit(limit)
    )
    waiter = aliased(Initiative)
    provider = aliased(Initiative)
    waiter_okr = aliased(Okr)
    waiting = session.execute(
        sa.select(*_line_columns(waiter, waiter_okr), provider.key, Dependency.what, Dependency.needed_by)
        .select_from(Dependency)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .join(waiter_okr, waiter_okr.id == waiter.okr_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .where(
            Dependency.team_id == team_id,
            Dependency.state == DependencyState.OPEN,
            sa.or_(provider.owner_id == user_id, Dependency.provider_contact_id == user_id),
        )
        .order_by(Dependency.needed_by.is_(None), Dependency.needed_by)
        .limit(limit)
    )
    return MyWork(
        owned=_lines(owned),
        requested=_lines(requested),
        waiting_on_me=[WaitingLine(InitiativeLine(*row[:8]), row[8], row[9], row[10]) for row in waiting],
    )

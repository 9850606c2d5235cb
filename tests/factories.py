"""Rows for domain tests, built directly (the Slack flows that create them have their own tests)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    DependencyState,
    Digest,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
    Person,
)

TEAM = "T0FAKE"
_numbers = itertools.count(1000)


def person(
    session: Session, user_id: str, *, tz: str | None = "Europe/Berlin", now: datetime, **kw: Any
) -> Person:
    row = Person(team_id=TEAM, user_id=user_id, tz=tz, profile_fetched_at=now, created_at=now, **kw)
    session.add(row)
    session.flush()
    return row


def okr(
    session: Session,
    key: str,
    *,
    now: datetime,
    parent: Okr | None = None,
    owner_id: str | None = "U0CAROL",
    title: str | None = None,
    priority: int = 3,
    **kw: Any,
) -> Okr:
    row = Okr(
        team_id=TEAM,
        key=key,
        kind=OkrKind.KEY_RESULT if parent is not None else OkrKind.OBJECTIVE,
        parent_id=parent.id if parent is not None else None,
        title=title or f"OKR {key}",
        owner_id=owner_id,
        period=kw.pop("period", "2026-Q1"),
        priority=priority,
        created_at=now,
        updated_at=now,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def initiative(
    session: Session,
    okr_row: Okr,
    *,
    now: datetime,
    title: str | None = None,
    state: InitiativeState = InitiativeState.ACTIVE,
    owner_id: str | None = "U0ALICE",
    requester_id: str = "U0DAN",
    health: Health | None = None,
    **kw: Any,
) -> Initiative:
    number = kw.pop("number", next(_numbers))
    row = Initiative(
        team_id=TEAM,
        number=number,
        key=f"REQ-{number}",
        title=title or f"Initiative {number}",
        description=kw.pop("description", ""),
        requester_id=requester_id,
        owner_id=owner_id if state != InitiativeState.PROPOSED else kw.pop("owner", None),
        okr_id=okr_row.id,
        state=state,
        health=health,
        health_since=kw.pop("health_since", now if health else None),
        created_at=kw.pop("created_at", now),
        updated_at=kw.pop("updated_at", now),
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def dependency(
    session: Session,
    waiter: Initiative,
    provider: Initiative | None = None,
    *,
    now: datetime,
    needed_by: date | None = None,
    what: str = "an API",
    provider_team: str | None = None,
    provider_contact_id: str | None = None,
    **kw: Any,
) -> Dependency:
    row = Dependency(
        team_id=TEAM,
        waiter_id=waiter.id,
        provider_id=provider.id if provider else None,
        provider_team=provider_team,
        provider_contact_id=provider_contact_id,
        what=what,
        needed_by=needed_by,
        state=kw.pop("state", DependencyState.OPEN),
        created_by=kw.pop("created_by", waiter.owner_id or waiter.requester_id),
        created_at=now,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def checkin(
    session: Session,
    item: Initiative,
    *,
    slot_at: datetime,
    status: CheckinStatus = CheckinStatus.PENDING,
    **kw: Any,
) -> Checkin:
    row = Checkin(
        team_id=TEAM,
        initiative_id=item.id,
        owner_id=item.owner_id or "",
        slot_at=slot_at,
        prompted_at=kw.pop("prompted_at", slot_at),
        status=status,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def checkin_update(
    session: Session,
    item: Initiative,
    *,
    at: datetime,
    health: Health | None = None,
    done: bool = False,
    **kw: Any,
) -> CheckinUpdate:
    """An owner's answer on `item` at `at` (append-only history)."""
    row = CheckinUpdate(
        team_id=TEAM,
        initiative_id=item.id,
        author_id=kw.pop("author_id", item.owner_id or "U0ALICE"),
        health=health,
        done=done,
        created_at=at,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def escalation(
    session: Session,
    dep: Dependency,
    *,
    opened_at: datetime,
    level: int = 1,
    level_at: datetime | None = None,
    reason: str = "stalled",
    **kw: Any,
) -> Escalation:
    row = Escalation(
        team_id=TEAM,
        dependency_id=dep.id,
        level=level,
        reason=reason,
        opened_at=opened_at,
        level_at=level_at or opened_at,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def digest(
    session: Session,
    *,
    period_start: date,
    period_end: date,
    created_at: datetime,
    summary: dict[str, Any] | None = None,
) -> Digest:
    """A digest row as if one had been posted for that period."""
    row = Digest(
        team_id=TEAM,
        period_start=period_start,
        period_end=period_end,
        created_at=created_at,
        summary=summary or {},
    )
    session.add(row)
    session.flush()
    return row

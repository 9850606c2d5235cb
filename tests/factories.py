"""Rows for domain tests, built directly (the Slack flows that create them have their own tests)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
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
    Outbox,
    OutboxState,
    Person,
)

TEAM = "T0FAKE"
_numbers = itertools.count(1000)


def person(
    session: Session, user_id: str, *, tz: str | None = "Europe/Berlin", now: datetime, **kw: Any
) -> Person:
    row = Person(
        team_id=kw.pop("team_id", TEAM), user_id=user_id, tz=tz, profile_fetched_at=now, created_at=now, **kw
    )
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
        team_id=kw.pop("team_id", TEAM),
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
        team_id=kw.pop("team_id", TEAM),
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
        team_id=kw.pop("team_id", TEAM),
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
        team_id=kw.pop("team_id", TEAM),
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
    health: Health | None = Health.ON_TRACK,
    moved: str = "",
    blockers: str = "",
    done: bool = False,
    author_id: str | None = None,
    **kw: Any,
) -> CheckinUpdate:
    """An owner's answer (append-only history); also moves the initiative's `last_checkin_at` as
    the check-in feature does."""
    row = CheckinUpdate(
        team_id=kw.pop("team_id", TEAM),
        initiative_id=item.id,
        author_id=author_id or item.owner_id or item.requester_id,
        health=health,
        moved=moved,
        blockers=blockers,
        done=done,
        created_at=at,
        **kw,
    )
    session.add(row)
    item.last_checkin_at = at
    session.flush()
    return row


def escalation(
    session: Session,
    dep: Dependency,
    *,
    now: datetime | None = None,
    opened_at: datetime | None = None,
    level: int = 1,
    level_at: datetime | None = None,
    reason: str | None = None,
    **kw: Any,
) -> Escalation:
    """An open escalation of `dep` (the ladder's own tests climb through the tick instead)."""
    opened = opened_at or now
    assert opened is not None, "give now= or opened_at="
    row = Escalation(
        team_id=kw.pop("team_id", TEAM),
        dependency_id=dep.id,
        level=level,
        reason=reason or dep.stall_reason or "stalled",
        opened_at=opened,
        level_at=level_at or opened,
        **kw,
    )
    session.add(row)
    session.flush()
    return row


def triage_post(
    session: Session,
    item: Initiative,
    *,
    now: datetime,
    channel: str = "C0TRIAGE",
    ts: str = "1772434800.000100",
) -> Outbox:
    """The intake feature's triage post of a request, already sent (`request:<id>:triage`)."""
    row = Outbox(
        team_id=TEAM,
        key=f"request:{item.id}:triage",
        method="post",
        channel=channel,
        payload={"text": f"New request {item.key}"},
        state=OutboxState.SENT,
        attempts=1,
        next_attempt_at=now,
        result_channel=channel,
        result_ts=ts,
        created_at=now,
        sent_at=now,
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


def bulk_initiatives(
    session: Session,
    okr_row: Okr,
    count: int,
    *,
    now: datetime,
    first_number: int = 1,
    title: str = "Bulk initiative {n}",
    **columns: Any,
) -> list[int]:
    """`count` initiatives in one INSERT (numbers from `first_number`); returns their ids.
    `columns` apply to every row (owner_id, requester_id, state, health, next_checkin_at...)."""
    columns.setdefault("state", InitiativeState.ACTIVE)
    columns.setdefault("owner_id", "U0ALICE")
    columns.setdefault("requester_id", "U0DAN")
    numbers = range(first_number, first_number + count)
    session.execute(
        sa.insert(Initiative),
        [
            {
                "team_id": TEAM,
                "number": n,
                "key": f"REQ-{n}",
                "title": title.format(n=n),
                "description": "",
                "okr_id": okr_row.id,
                "created_at": now,
                "updated_at": now,
                **columns,
            }
            for n in numbers
        ],
    )
    return list(
        session.scalars(
            sa.select(Initiative.id)
            .where(Initiative.team_id == TEAM, Initiative.number.between(numbers.start, numbers.stop - 1))
            .order_by(Initiative.number)
        )
    )


def bulk_rows(session: Session, model: type[Any], rows: Iterable[dict[str, Any]]) -> None:
    """Many rows of `model` in one INSERT; `team_id` is filled in."""
    batch = [{"team_id": TEAM, **row} for row in rows]
    if batch:
        session.execute(sa.insert(model), batch)

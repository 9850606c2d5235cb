"""Check-in slots: what one owner was asked at one slot, as it stands now; closing a pending
check-in (once); what `/checkin` lists. Reads and writes rows; never renders.

The unique `checkin(initiative_id, slot_at)` and the conditional updates here make a repeated or
concurrent pass a no-op.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bot.checkins.models import (
    Answer,
    Metric,
    MyCheckins,
    SlotItem,
    SlotMessage,
    Upcoming,
    reminder_key,
)
from bot.checkins.service.schedule import cached_person, zone_of_user
from bot.core import history, people
from bot.core.config import WorkspaceSettings
from bot.trackers.service import moves as tracker_moves
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
    OutboxState,
    Person,
)


def metric_of(okr: Okr) -> Metric | None:
    """The KR's metric, if it has one an owner can move."""
    if okr.metric_target is None and okr.metric_current is None and not okr.metric_unit:
        return None
    return Metric(okr.key, okr.metric_unit, okr.metric_start, okr.metric_current, okr.metric_target)


def _answers(session: Session, checkin_ids: Iterable[int]) -> dict[int, Answer]:
    ids = list(checkin_ids)
    if not ids:
        return {}
    updates: dict[int, list[CheckinUpdate]] = defaultdict(list)
    for update in session.scalars(
        sa.select(CheckinUpdate).where(CheckinUpdate.checkin_id.in_(ids)).order_by(CheckinUpdate.id)
    ):
        assert update.checkin_id is not None
        updates[update.checkin_id].append(update)
    found = {}
    for checkin_id, rows in updates.items():
        first, last = rows[0], rows[-1]
        found[checkin_id] = Answer(
            author_id=first.author_id,
            at=first.created_at,
            health=last.health,
            done=last.done,
            progress_pct=last.progress_pct,
            metric_value=last.metric_value,
            count=len(rows),
        )
    return found


_EARLIER = aliased(Checkin, name="earlier")
# the slot of the initiative's check-in before this one: linked work "moved" since then
_PREVIOUS_SLOT = (
    sa.select(sa.func.max(_EARLIER.slot_at))
    .where(_EARLIER.initiative_id == Checkin.initiative_id, _EARLIER.slot_at < Checkin.slot_at)
    .correlate(Checkin)
    .scalar_subquery()
)


def _items(session: Session, where: list[sa.ColumnElement[bool]], limit: int | None = None) -> list[SlotItem]:
    statement = (
        sa.select(Checkin, Initiative, Okr, _PREVIOUS_SLOT.label("previous_slot"))
        .join(Initiative, Initiative.id == Checkin.initiative_id)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(*where)
        .order_by(Checkin.slot_at, Initiative.number)
        .execution_options(populate_existing=True)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = session.execute(statement).all()
    answers = _answers(session, (row.Checkin.id for row in rows))
    moved = tracker_moves.moved(
        session,
        rows[0].Initiative.team_id if rows else "",
        {row.Checkin.id: (row.Initiative.id, row.previous_slot, row.Checkin.slot_at) for row in rows},
    )
    return [
        SlotItem(
            checkin_id=checkin.id,
            owner_id=checkin.owner_id,
            slot_at=checkin.slot_at,
            status=checkin.status,
            closed_at=checkin.closed_at,
            note=checkin.note,
            initiative_key=initiative.key,
            title=initiative.title,
            state=initiative.state,
            current_owner_id=initiative.owner_id,
            health=initiative.health,
            progress_pct=initiative.progress_pct,
            okr_key=okr.key,
            okr_title=okr.title,
            metric=metric_of(okr),
            answer=answers.get(checkin.id),
            moved=tuple(moved.get(checkin.id, ())),
        )
        for checkin, initiative, okr, _previous in rows
    ]


def slot_message(
    session: Session, team_id: str, owner_id: str, slot_at: datetime, settings: WorkspaceSettings
) -> SlotMessage:
    """The current state of everything `owner_id` was asked at `slot_at`."""
    items = _items(
        session, [Checkin.team_id == team_id, Checkin.owner_id == owner_id, Checkin.slot_at == slot_at]
    )
    return SlotMessage(team_id, owner_id, slot_at, zone_of_user(session, team_id, owner_id, settings), items)


def posted_dms(session: Session, message: SlotMessage) -> list[tuple[str, bool]]:
    """The DMs about this slot that went out (the prompt, and its reminder if one was sent), as
    (outbox key, is the reminder)."""
    keys = {message.key: False} | {reminder_key(item.checkin_id): True for item in message.items}
    posted = session.scalars(
        sa.select(Outbox.key).where(
            Outbox.team_id == message.team_id,
            Outbox.key.in_(list(keys)),
            Outbox.state != OutboxState.PARKED,
        )
    ).all()
    return [(key, keys[key]) for key in posted]


# -- closing check-ins -----------------------------------------------------------------------------


def close_pending(
    session: Session, checkin_id: int, status: CheckinStatus, now: datetime, note: str | None = None
) -> bool:
    """Move a pending check-in to `status`, once: False if someone else closed it first."""
    values: dict[str, Any] = {"status": status, "closed_at": now}
    if note is not None:
        values["note"] = note[:500]
    result = session.execute(
        sa.update(Checkin)
        .where(Checkin.id == checkin_id, Checkin.status == CheckinStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def unanswered(
    session: Session, initiative: Initiative, except_owner: str | None = None
) -> list[tuple[int, str, datetime]]:
    """(check-in, owner, slot) of the initiative's pending check-ins (all, or those asked of anyone
    but `except_owner`)."""
    query = sa.select(Checkin.id, Checkin.owner_id, Checkin.slot_at).where(
        Checkin.initiative_id == initiative.id, Checkin.status == CheckinStatus.PENDING
    )
    if except_owner is not None:
        query = query.where(Checkin.owner_id != except_owner)
    return [(row.id, row.owner_id, row.slot_at) for row in session.execute(query).all()]


def record_miss(
    session: Session, initiative: Initiative, checkin_id: int, slot_at: datetime, now: datetime
) -> None:
    """Count a miss on the initiative and record it."""
    # an expression, not read-modify-write: concurrent misses and answers never lose a count
    initiative.consecutive_misses = Initiative.consecutive_misses + 1
    session.flush()
    history.record(
        session,
        team_id=initiative.team_id,
        subject=f"checkin:{checkin_id}",
        kind="checkin.missed",
        at=now,
        initiative_id=initiative.id,
        slot=slot_at,
        consecutive_misses=initiative.consecutive_misses,
    )


def close_before(
    session: Session,
    initiative: Initiative,
    slot_at: datetime,
    excuse: str | None,
    now: datetime,
    counts: Counter[str],
) -> set[tuple[str, datetime]]:
    """Close the initiative's check-ins still pending from before `slot_at`: missed, or excused
    (`excuse`) when the owner is away. Returns the (owner, slot) DMs that need an edit."""
    touched: set[tuple[str, datetime]] = set()
    rows = session.execute(
        sa.select(Checkin.id, Checkin.owner_id, Checkin.slot_at).where(
            Checkin.initiative_id == initiative.id,
            Checkin.status == CheckinStatus.PENDING,
            Checkin.slot_at < slot_at,
        )
    ).all()
    for row in rows:
        status = CheckinStatus.EXCUSED if excuse else CheckinStatus.MISSED
        if not close_pending(session, row.id, status, now, excuse):
            continue
        if status is CheckinStatus.MISSED:
            record_miss(session, initiative, row.id, row.slot_at, now)
            counts["missed"] += 1
        else:
            history.record(
                session,
                team_id=initiative.team_id,
                subject=f"checkin:{row.id}",
                kind="checkin.excused",
                at=now,
                initiative_id=initiative.id,
                slot=row.slot_at,
                note=excuse,
            )
            counts["excused"] += 1
        touched.add((row.owner_id, row.slot_at))
    return touched


def away_note(person: Person) -> str:
    """Why a slot is excused while `person` is out of office."""
    until = person.ooo_until.isoformat() if person.ooo_until else "?"
    return f"out of office until {until}" + (f": {person.ooo_note}" if person.ooo_note else "")


# -- what a user asks ------------------------------------------------------------------------------


def latest_pending(session: Session, initiative: Initiative) -> Checkin | None:
    """The initiative's check-in waiting for its current owner, if any."""
    return session.scalar(
        sa.select(Checkin)
        .where(
            Checkin.initiative_id == initiative.id,
            Checkin.owner_id == initiative.owner_id,
            Checkin.status == CheckinStatus.PENDING,
        )
        .order_by(Checkin.slot_at.desc())
        .limit(1)
    )


def pending_for(
    session: Session, team_id: str, user_id: str, settings: WorkspaceSettings, now: datetime, limit: int = 15
) -> MyCheckins:
    """The check-ins `user_id` has to answer (oldest first), their next ones, and whether they are
    out of office. Three statements, whatever the size."""
    person = cached_person(session, team_id, user_id)
    tz = people.zone_of(person, settings)
    where = [
        Checkin.team_id == team_id,
        Checkin.owner_id == user_id,
        Checkin.status == CheckinStatus.PENDING,
        Initiative.state == InitiativeState.ACTIVE,
        Initiative.owner_id == user_id,
    ]
    pending = _items(session, where, limit + 1)
    upcoming = session.execute(
        sa.select(Initiative.key, Initiative.title, Initiative.next_checkin_at)
        .where(
            Initiative.team_id == team_id,
            Initiative.owner_id == user_id,
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at.is_not(None),
        )
        .order_by(Initiative.next_checkin_at, Initiative.number)
        .limit(10)
    ).all()
    away = people.is_out_of_office(person, now.astimezone(tz).date())
    return MyCheckins(
        user_id=user_id,
        tz=tz,
        pending=pending[:limit],
        more=max(0, len(pending) - limit),
        upcoming=[Upcoming(r.key, r.title, r.next_checkin_at) for r in upcoming],
        ooo_until=person.ooo_until if away and person else None,
        ooo_note=person.ooo_note if away and person else None,
    )

"""The tick's check-in work, as rules and rows: which owners are due, claiming one, asking a
slot (recording the check-ins, closing the ones before), and settling reminders. The flows render
and send the DMs.

Several replicas may tick at once: each pass claims an owner by locking their `person` row
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer serialises anyway), and the unique
`checkin(initiative_id, slot_at)` plus the outbox keys make a repeated pass a no-op.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.checkins.models import OWNER_BATCH
from bot.checkins.service.schedule import cadence_of, schedule_in_zone
from bot.checkins.service.slots import away_note, close_before, close_pending, record_miss
from bot.core import history, people
from bot.core.calendar import WorkCalendar, latest_slot, next_slot
from bot.core.config import WorkspaceSettings
from bot.core.workspaces import served
from storage.db import insert_ignore, skip_locked
from storage.models import Checkin, CheckinStatus, Initiative, InitiativeState, Person

# -- nudges ------------------------------------------------------------------------------------------


def due_owners(session: Session, now: datetime, limit: int = OWNER_BATCH) -> list[tuple[str, str]]:
    """(team, owner) pairs with at least one active initiative whose next check-in has come."""
    rows = session.execute(
        sa.select(Initiative.team_id, Initiative.owner_id)
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at <= now,
            Initiative.owner_id.is_not(None),
            served(Initiative.team_id),
        )
        .group_by(Initiative.team_id, Initiative.owner_id)
        .order_by(sa.func.min(Initiative.next_checkin_at))
        .limit(limit)
    ).all()
    return [(r.team_id, r.owner_id) for r in rows]


def claim_owner(session: Session, team_id: str, user_id: str, now: datetime) -> Person | None:
    """Lock the owner's person row for this transaction; None if another process holds it."""
    person = people.ensure(session, team_id, user_id, now)
    return session.scalar(
        skip_locked(sa.select(Person).where(Person.id == person.id), session).execution_options(
            populate_existing=True
        )
    )


def due_by_slot(
    session: Session,
    team_id: str,
    owner_id: str,
    person: Person,
    settings: WorkspaceSettings,
    now: datetime,
) -> dict[datetime, list[Initiative]]:
    """The owner's due initiatives (locked), by the slot to ask them about."""
    due = session.scalars(
        sa.select(Initiative)
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at <= now,
            Initiative.team_id == team_id,
            Initiative.owner_id == owner_id,
        )
        .order_by(Initiative.id)
        .with_for_update()
    ).all()
    tz = people.zone_of(person, settings)
    calendar = settings.calendar()
    by_slot: dict[datetime, list[Initiative]] = defaultdict(list)
    for initiative in due:
        scheduled = initiative.next_checkin_at
        assert scheduled is not None
        latest = latest_slot(cadence_of(initiative, settings), now, tz, calendar)
        # after downtime: only the latest slot; if the cadence or zone moved it, the one we promised
        by_slot[max(latest, scheduled) if latest else scheduled].append(initiative)
    return by_slot


def ask_slot(
    session: Session,
    *,
    team_id: str,
    owner_id: str,
    person: Person,
    slot: datetime,
    initiatives: list[Initiative],
    settings: WorkspaceSettings,
    tz: ZoneInfo,
    calendar: WorkCalendar,
    now: datetime,
    counts: Counter[str],
) -> tuple[list[int], set[tuple[str, datetime]]]:
    """Record the check-ins of one slot (excused while the owner is out of office), close each
    initiative's earlier pending ones, and schedule the next slot. Returns the check-ins asked
    (the DM is to be sent) and the (owner, slot) DMs of closed ones that need an edit."""
    away = people.is_out_of_office(person, slot.astimezone(tz).date())
    excuse = away_note(person) if away else None
    asked: list[int] = []
    touched: set[tuple[str, datetime]] = set()
    for initiative in initiatives:
        touched |= close_before(session, initiative, slot, excuse, now, counts)
        inserted = insert_ignore(
            session,
            Checkin,
            {
                "team_id": team_id,
                "initiative_id": initiative.id,
                "owner_id": owner_id,
                "slot_at": slot,
                "prompted_at": now,
                "reminder_due_at": None
                if away
                else calendar.add_working_hours(now, settings.reminder_after_hours, tz),
                "status": CheckinStatus.EXCUSED if away else CheckinStatus.PENDING,
                "closed_at": now if away else None,
                "note": excuse,
            },
            ["initiative_id", "slot_at"],
        )
        if inserted:
            checkin_id = session.scalars(
                sa.select(Checkin.id).where(Checkin.initiative_id == initiative.id, Checkin.slot_at == slot)
            ).one()
            history.record(
                session,
                team_id=team_id,
                subject=f"checkin:{checkin_id}",
                kind="checkin.excused" if away else "checkin.asked",
                at=now,
                initiative_id=initiative.id,
                slot=slot,
                note=excuse,
            )
            counts["excused" if away else "asked"] += 1
            if not away:
                asked.append(checkin_id)
        schedule_in_zone(initiative, settings, tz, calendar, now)
    return asked, touched


# -- reminders ---------------------------------------------------------------------------------------


def reminder_owners(session: Session, now: datetime, limit: int = OWNER_BATCH) -> list[tuple[str, str]]:
    """(team, owner) pairs with a pending check-in whose reminder is due and not sent."""
    rows = session.execute(
        sa.select(Checkin.team_id, Checkin.owner_id)
        .where(
            Checkin.status == CheckinStatus.PENDING,
            Checkin.reminder_due_at <= now,
            Checkin.reminded_at.is_(None),
            served(Checkin.team_id),
        )
        .group_by(Checkin.team_id, Checkin.owner_id)
        .limit(limit)
    ).all()
    return [(r.team_id, r.owner_id) for r in rows]


def _after_absence(until: date, prompted_at: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    day = calendar.next_working_day(until + timedelta(days=1))
    return datetime.combine(day, prompted_at.astimezone(tz).time(), tzinfo=tz).astimezone(UTC)


def settle_reminders(
    session: Session,
    *,
    team_id: str,
    owner_id: str,
    person: Person,
    settings: WorkspaceSettings,
    tz: ZoneInfo,
    calendar: WorkCalendar,
    now: datetime,
    counts: Counter[str],
) -> tuple[dict[datetime, list[tuple[int, int]]], set[datetime]]:
    """Go through the owner's check-ins whose reminder is due: one whose initiative closed or
    changed hands is excused; one whose next slot already passed is missed; while the owner is
    out of office the reminder waits. Returns the (check-in, initiative) pairs to remind, by slot,
    and the slots whose DM needs an edit."""
    rows = session.execute(
        sa.select(Checkin, Initiative)
        .join(Initiative, Initiative.id == Checkin.initiative_id)
        .where(
            Checkin.team_id == team_id,
            Checkin.owner_id == owner_id,
            Checkin.status == CheckinStatus.PENDING,
            Checkin.reminder_due_at <= now,
            Checkin.reminded_at.is_(None),
            served(Checkin.team_id),
        )
        .order_by(Checkin.slot_at, Checkin.id)
    ).all()
    touched: set[datetime] = set()
    to_remind: dict[datetime, list[tuple[int, int]]] = defaultdict(list)
    for checkin, initiative in rows:
        if initiative.state != InitiativeState.ACTIVE or initiative.owner_id != owner_id:
            note = (
                f"{initiative.key} is {initiative.state.value}"
                if initiative.state != InitiativeState.ACTIVE
                else f"handed over to {initiative.owner_id}"
            )
            if close_pending(session, checkin.id, CheckinStatus.EXCUSED, now, note):
                history.record(
                    session,
                    team_id=team_id,
                    subject=f"checkin:{checkin.id}",
                    kind="checkin.excused",
                    at=now,
                    initiative_id=initiative.id,
                    slot=checkin.slot_at,
                    note=note,
                )
                counts["closed"] += 1
                touched.add(checkin.slot_at)
            continue
        following = next_slot(cadence_of(initiative, settings), checkin.slot_at, tz, calendar)
        if following <= now:  # the next slot passed and nobody asked it (the nudge pass usually does)
            if close_pending(session, checkin.id, CheckinStatus.MISSED, now):
                record_miss(session, initiative, checkin.id, checkin.slot_at, now)
                counts["missed"] += 1
                touched.add(checkin.slot_at)
            continue
        if person.ooo_until is not None and people.is_out_of_office(person, now.astimezone(tz).date()):
            checkin.reminder_due_at = _after_absence(person.ooo_until, checkin.prompted_at, tz, calendar)
            counts["postponed"] += 1
            continue
        to_remind[checkin.slot_at].append((checkin.id, initiative.id))
    return to_remind, touched


def mark_reminded(
    session: Session, team_id: str, slot: datetime, pairs: list[tuple[int, int]], now: datetime
) -> list[tuple[int, int]]:
    """Mark the (check-in, initiative) pairs of one slot reminded, once each: those another process
    reminded or closed in between are left out. Returns the pairs marked."""
    reminded = [
        (checkin_id, initiative_id)
        for checkin_id, initiative_id in pairs
        if session.execute(
            sa.update(Checkin)
            .where(
                Checkin.id == checkin_id,
                Checkin.status == CheckinStatus.PENDING,
                Checkin.reminded_at.is_(None),
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    ]
    for checkin_id, initiative_id in reminded:
        history.record(
            session,
            team_id=team_id,
            subject=f"checkin:{checkin_id}",
            kind="checkin.reminded",
            at=now,
            initiative_id=initiative_id,
            slot=slot,
        )
    return reminded

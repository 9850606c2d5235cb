"""Time off from check-ins: snoozing one slot (with a reason), and being out of office (every
slot through a day is excused). Neither counts as missed."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.checkins.models import OOO_HORIZON, OOO_NOTE_LIMIT, SNOOZE_REASON_LIMIT, OutOfOffice, Snoozed
from bot.checkins.service.schedule import cadence_of, schedule_next, zone_of_user
from bot.checkins.service.slots import close_pending, latest_pending
from bot.core import authz, history, mrkdwn, people
from bot.core.authz import Action
from bot.core.calendar import next_slot
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid
from bot.core.text import clean
from bot.initiatives.service import find_initiative, initiative_subject
from storage.db import insert_ignore
from storage.models import Checkin, CheckinStatus, InitiativeState


def record_snooze(
    session: Session,
    *,
    team_id: str,
    initiative_key: str,
    actor_id: str,
    reason: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Snoozed:
    """Skip one slot of an initiative, with a reason: the pending check-in if there is one, else the
    next slot (which is then not asked). Neither counts as missed. The flow edits the DM of a
    check-in that was asked (`flows.absence.snooze`).

    Raises NotFound, NotAllowed (only the owner), Invalid (no reason, not active), Conflict."""
    initiative = find_initiative(session, team_id, initiative_key, lock=True)
    authz.require(Action.SNOOZE_CHECKIN, actor_id, settings, initiative_subject(session, initiative))
    reason = " ".join(clean(reason).split())
    if not reason:
        raise Invalid(f"Say why, e.g. `/checkin snooze {initiative.key} at the offsite all week`.")
    if len(reason) > SNOOZE_REASON_LIMIT:
        raise Invalid(f"Keep the reason under {SNOOZE_REASON_LIMIT} characters.")
    if initiative.state != InitiativeState.ACTIVE or initiative.owner_id is None:
        raise Invalid(f"{initiative.key} is {initiative.state.value}: it has no check-ins to snooze.")
    tz = zone_of_user(session, team_id, initiative.owner_id, settings)
    calendar = settings.calendar()
    pending = latest_pending(session, initiative)
    if pending is not None:
        if not close_pending(session, pending.id, CheckinStatus.SNOOZED, now, reason):
            raise Conflict(
                f"{initiative.key}'s check-in was answered or closed a moment ago. Nothing changed."
            )
        slot, upcoming, checkin_id = pending.slot_at, False, pending.id
        next_at = initiative.next_checkin_at
    else:
        slot = initiative.next_checkin_at or schedule_next(session, initiative, settings, now)
        inserted = insert_ignore(
            session,
            Checkin,
            {
                "team_id": team_id,
                "initiative_id": initiative.id,
                "owner_id": initiative.owner_id,
                "slot_at": slot,
                "prompted_at": now,
                "status": CheckinStatus.SNOOZED,
                "closed_at": now,
                "note": reason,
            },
            ["initiative_id", "slot_at"],
        )
        if not inserted:
            raise Conflict(
                f"{mrkdwn.escape(initiative.key)}'s check-in of {mrkdwn.date_text(slot.astimezone(tz))} is "
                "already snoozed. Nothing changed; for a longer absence use `/checkin ooo YYYY-MM-DD`."
            )
        checkin_id = session.scalars(
            sa.select(Checkin.id).where(Checkin.initiative_id == initiative.id, Checkin.slot_at == slot)
        ).one()
        upcoming = True
        next_at = next_slot(cadence_of(initiative, settings), slot, tz, calendar)
    history.record(
        session,
        team_id=team_id,
        subject=f"checkin:{checkin_id}",
        kind="checkin.snoozed",
        at=now,
        actor_id=actor_id,
        initiative_id=initiative.id,
        slot=slot,
        reason=reason,
    )
    return Snoozed(
        initiative.key, initiative.title, slot, upcoming, reason, next_at, tz, checkin_id, initiative.owner_id
    )


def set_out_of_office(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    until: date | None,
    note: str | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> OutOfOffice:
    """Mark `user_id` (only ever the caller) out of office through `until`, or back (None): while
    out, their slots are recorded as excused and nothing is sent. Raises Invalid for a date in the
    past or more than a year ahead."""
    person = people.ensure(session, team_id, user_id, now)
    tz = people.zone_of(person, settings)
    today = now.astimezone(tz).date()
    note = " ".join(clean(note).split()) or None
    if until is not None:
        if until < today:
            raise Invalid(f"{until.isoformat()} is in the past; give the last day you are out.")
        if until > today + OOO_HORIZON:
            raise Invalid("That is more than a year away; pick a nearer date.")
        if note and len(note) > OOO_NOTE_LIMIT:
            raise Invalid(f"Keep the note under {OOO_NOTE_LIMIT} characters.")
    if until is None and person.ooo_until is None:
        return OutOfOffice(None, None, tz)  # not away: nothing to record
    person.ooo_until = until
    person.ooo_note = note if until else None
    history.record(
        session,
        team_id=team_id,
        subject=f"person:{user_id}",
        kind="person.ooo" if until else "person.back",
        at=now,
        actor_id=user_id,
        until=until,
        note=person.ooo_note,
    )
    return OutOfOffice(until, person.ooo_note, tz)

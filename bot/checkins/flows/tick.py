"""The tick's check-in flows: nudges (one DM per owner and slot) and reminders (once, after the
reminder window). The service records and closes; these render the DMs and queue them.

The DM's outbox key `checkin:<owner>:<slot>` is its reference: every later change to one of its
check-ins (answered, missed, snoozed, handed over) edits it in place (`messages.refresh_messages`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.checkins.flows.messages import refresh_messages
from bot.checkins.models import instant, reminder_key
from bot.checkins.service.slots import slot_message
from bot.checkins.service.tick import ask_slot, claim_owner, due_by_slot, mark_reminded, settle_reminders
from bot.checkins.views import prompt
from bot.core import people
from bot.core.config import WorkspaceSettings
from bot.core.workspaces import settings_for


def nudge_owner(
    session: Session, team_id: str, owner_id: str, defaults: WorkspaceSettings, now: datetime
) -> Counter[str]:
    """Ask `owner_id` about every initiative of theirs that is due: one DM per slot; the previous
    unanswered check-in of each becomes missed (excused while they are out of office, when the slot
    is recorded as excused and nothing is sent). Then schedule the next slot.

    Counts: asked, excused, missed, messages, busy (another process holds this owner)."""
    counts: Counter[str] = Counter()
    settings = settings_for(session, team_id, defaults)
    person = claim_owner(session, team_id, owner_id, now)
    if person is None:
        counts["busy"] += 1
        return counts
    by_slot = due_by_slot(session, team_id, owner_id, person, settings, now)
    tz = people.zone_of(person, settings)
    calendar = settings.calendar()

    touched: set[tuple[str, datetime]] = set()
    for slot, initiatives in sorted(by_slot.items()):
        asked, closed = ask_slot(
            session,
            team_id=team_id,
            owner_id=owner_id,
            person=person,
            slot=slot,
            initiatives=initiatives,
            settings=settings,
            tz=tz,
            calendar=calendar,
            now=now,
            counts=counts,
        )
        touched |= closed
        if asked:
            message = slot_message(session, team_id, owner_id, slot, settings)
            text, blocks = prompt.slot_message(message)
            if outbox.enqueue(
                session, team_id=team_id, key=message.key, channel=owner_id, text=text, blocks=blocks, now=now
            ):
                counts["messages"] += 1
            else:  # this slot's DM went out already: add the newcomers to it
                outbox.enqueue_update(
                    session,
                    team_id=team_id,
                    key=f"{message.key}:added:{min(asked)}",
                    of=message.key,
                    text=text,
                    blocks=blocks,
                    now=now,
                )
    for old_owner, old_slot in touched:
        refresh_messages(
            session,
            team_id=team_id,
            owner_id=old_owner,
            slot_at=old_slot,
            settings=settings,
            now=now,
            cause=f"closed:{instant(now)}",
        )
    return counts


def remind_owner(
    session: Session, team_id: str, owner_id: str, defaults: WorkspaceSettings, now: datetime
) -> Counter[str]:
    """Remind `owner_id` once about check-ins still unanswered after the reminder window (one DM
    per slot). On the way: a check-in whose initiative closed or changed hands is excused; one whose
    next slot already passed is missed; while the owner is out of office the reminder waits.

    Counts: reminded, messages, missed, closed, postponed, busy."""
    counts: Counter[str] = Counter()
    settings = settings_for(session, team_id, defaults)
    person = claim_owner(session, team_id, owner_id, now)
    if person is None:
        counts["busy"] += 1
        return counts
    tz = people.zone_of(person, settings)
    calendar = settings.calendar()
    to_remind, touched = settle_reminders(
        session,
        team_id=team_id,
        owner_id=owner_id,
        person=person,
        settings=settings,
        tz=tz,
        calendar=calendar,
        now=now,
        counts=counts,
    )

    for slot, pairs in sorted(to_remind.items()):
        reminded = mark_reminded(session, team_id, slot, pairs, now)
        if not reminded:
            continue
        message = slot_message(session, team_id, owner_id, slot, settings)
        text, blocks = prompt.slot_message(message, reminder=True)
        if outbox.enqueue(
            session,
            team_id=team_id,
            key=reminder_key(min(checkin_id for checkin_id, _ in reminded)),
            channel=owner_id,
            text=text,
            blocks=blocks,
            now=now,
        ):
            counts["messages"] += 1
        counts["reminded"] += len(reminded)
    for slot in touched:
        refresh_messages(
            session,
            team_id=team_id,
            owner_id=owner_id,
            slot_at=slot,
            settings=settings,
            now=now,
            cause=f"closed:{instant(now)}",
        )
    return counts

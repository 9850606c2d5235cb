"""Check-ins: owners asked on their initiative's cadence, in their own time zone.

A *slot* is one instant of an initiative's cadence in its owner's zone (Monday 09:00 in Berlin).
When `next_checkin_at` has come, the tick asks about the latest slot that has passed (so after
downtime only the latest is asked, never a burst), in one DM per owner and slot, and schedules the
next slot. The DM's outbox key `checkin:<owner>:<slot>` is its reference: every later change to
one of its check-ins (answered, missed, snoozed, handed over) edits it in place through
`enqueue_update(of=...)`.

Several replicas may tick at once: each pass claims an owner by locking their `person` row
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's single writer serialises anyway), and the unique
`checkin(initiative_id, slot_at)` plus the outbox keys make a repeated pass a no-op.

Answers live in `bot.checkin_answers`; the `/checkin` command in `bot.checkin_command`.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import outbox
from bot.core import authz, history, mrkdwn, people
from bot.core.authz import Action
from bot.core.calendar import Cadence, WorkCalendar, latest_slot, next_slot
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid
from bot.core.text import clean, one_line
from bot.core.workspaces import settings_for
from bot.dependencies import flows as dependencies
from bot.initiatives.service import find_initiative, initiative_subject
from storage.db import insert_ignore, skip_locked
from storage.models import (
    OPEN_STATES,
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
    OutboxState,
    Person,
)

log = logging.getLogger(__name__)

OWNER_BATCH = 500  # owners one pass handles per tick; the rest wait for the next minute
SNOOZE_REASON_LIMIT = 500
OOO_NOTE_LIMIT = 300
OOO_HORIZON = timedelta(days=366)


# -- cadence and scheduling ------------------------------------------------------------------------


def cadence_of(initiative: Initiative, settings: WorkspaceSettings) -> Cadence:
    """The initiative's own cadence, or the workspace default (also if a stored one no longer parses)."""
    if initiative.cadence:
        try:
            return Cadence.parse(initiative.cadence)
        except ValueError:
            log.warning(
                "%s has an unreadable cadence %r; using the default", initiative.key, initiative.cadence
            )
    return settings.cadence()


def _person(session: Session, team_id: str, user_id: str) -> Person | None:
    return session.scalar(sa.select(Person).where(Person.team_id == team_id, Person.user_id == user_id))


def zone_of_user(session: Session, team_id: str, user_id: str, settings: WorkspaceSettings) -> ZoneInfo:
    """A user's zone from the cache, or the workspace's when Slack gave none."""
    return people.zone_of(_person(session, team_id, user_id), settings)


def _schedule(
    initiative: Initiative,
    settings: WorkspaceSettings,
    tz: ZoneInfo,
    calendar: WorkCalendar,
    after: datetime,
) -> datetime:
    slot = next_slot(cadence_of(initiative, settings), after, tz, calendar)
    initiative.next_checkin_at = slot
    return slot


def schedule_next(
    session: Session, initiative: Initiative, settings: WorkspaceSettings, after: datetime
) -> datetime:
    """Set `initiative.next_checkin_at` to its owner's first slot strictly after `after`.

    The cadence is the initiative's own or the workspace default; the slot is in the owner's zone
    (the workspace's when Slack gave none), off weekends and the workspace's holidays.
    Raises ValueError if the initiative has no owner.
    """
    if initiative.owner_id is None:
        raise ValueError(f"{initiative.key} has no owner to check in with")
    tz = zone_of_user(session, initiative.team_id, initiative.owner_id, settings)
    return _schedule(initiative, settings, tz, settings.calendar(), after)


def reschedule_owner(
    session: Session, team_id: str, owner_id: str, settings: WorkspaceSettings, now: datetime
) -> int:
    """Recompute the next slot of every active initiative `owner_id` owns (their zone changed).

    Slots already due are left for the tick to ask. Returns how many moved."""
    tz = zone_of_user(session, team_id, owner_id, settings)
    calendar = settings.calendar()
    moved = 0
    for initiative in session.scalars(
        sa.select(Initiative).where(
            Initiative.team_id == team_id,
            Initiative.owner_id == owner_id,
            Initiative.state == InitiativeState.ACTIVE,
            sa.or_(Initiative.next_checkin_at.is_(None), Initiative.next_checkin_at > now),
        )
    ):
        before = initiative.next_checkin_at
        if _schedule(initiative, settings, tz, calendar, now) != before:
            moved += 1
    return moved


# -- keys ------------------------------------------------------------------------------------------


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def prompt_key(owner_id: str, slot_at: datetime) -> str:
    """The outbox key of the DM asking `owner_id` about everything due at `slot_at`."""
    return f"checkin:{owner_id}:{_instant(slot_at)}"


def reminder_key(checkin_id: int) -> str:
    """The outbox key of the reminder about a slot (named after its first check-in reminded)."""
    return f"checkin:{checkin_id}:reminder"


# -- what a check-in DM shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A key result's metric: where it started, where it is, where it should get."""

    okr_key: str
    unit: str | None
    start: float | None
    current: float | None
    target: float | None


@dataclass(frozen=True)
class Answer:
    """What was recorded for one check-in: the first answer's author and time, the latest values."""

    author_id: str
    at: datetime
    health: Health | None
    done: bool
    progress_pct: int | None
    metric_value: float | None
    count: int  # more than 1: corrected since


@dataclass(frozen=True)
class SlotItem:
    """One initiative in a check-in DM (or in `/checkin`, the App Home)."""

    checkin_id: int
    owner_id: str  # whom this check-in asked
    slot_at: datetime
    status: CheckinStatus
    closed_at: datetime | None
    note: str | None
    initiative_key: str
    title: str
    state: InitiativeState
    current_owner_id: str | None
    health: Health | None
    progress_pct: int | None
    okr_key: str
    okr_title: str
    metric: Metric | None
    answer: Answer | None

    @property
    def answerable(self) -> bool:
        """Still waiting for this owner's answer (quick answers are offered)."""
        return (
            self.status == CheckinStatus.PENDING
            and self.state == InitiativeState.ACTIVE
            and self.current_owner_id == self.owner_id
        )

    @property
    def updatable(self) -> bool:
        """The owner may still add an update (the Update button is offered)."""
        return self.state == InitiativeState.ACTIVE and self.current_owner_id == self.owner_id


@dataclass(frozen=True)
class SlotMessage:
    """Everything one owner was asked at one slot: the content of one DM."""

    team_id: str
    owner_id: str
    slot_at: datetime
    tz: ZoneInfo
    items: list[SlotItem]

    @property
    def key(self) -> str:
        return prompt_key(self.owner_id, self.slot_at)


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


def _items(session: Session, where: list[sa.ColumnElement[bool]], limit: int | None = None) -> list[SlotItem]:
    statement = (
        sa.select(Checkin, Initiative, Okr)
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
        )
        for checkin, initiative, okr in rows
    ]


def slot_message(
    session: Session, team_id: str, owner_id: str, slot_at: datetime, settings: WorkspaceSettings
) -> SlotMessage:
    """The current state of everything `owner_id` was asked at `slot_at`."""
    items = _items(
        session, [Checkin.team_id == team_id, Checkin.owner_id == owner_id, Checkin.slot_at == slot_at]
    )
    return SlotMessage(team_id, owner_id, slot_at, zone_of_user(session, team_id, owner_id, settings), items)


def refresh_messages(
    session: Session,
    *,
    team_id: str,
    owner_id: str,
    slot_at: datetime,
    settings: WorkspaceSettings,
    now: datetime,
    cause: str,
) -> int:
    """Edit in place the DMs about one owner's slot (the prompt, and its reminder if one was sent)
    to show what is recorded now. `cause` makes the edit's outbox key unique. Returns edits queued."""
    from bot.checkins import views

    message = slot_message(session, team_id, owner_id, slot_at, settings)
    if not message.items:
        return 0
    keys = {message.key: False} | {reminder_key(item.checkin_id): True for item in message.items}
    posted = session.scalars(
        sa.select(Outbox.key).where(
            Outbox.team_id == team_id, Outbox.key.in_(list(keys)), Outbox.state != OutboxState.PARKED
        )
    ).all()
    for key in posted:
        text, blocks = views.slot_message(message, reminder=keys[key])
        outbox.enqueue_update(
            session, team_id=team_id, key=f"{key}:{cause}", of=key, text=text, blocks=blocks, now=now
        )
    return len(posted)


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


def _record_miss(
    session: Session, initiative: Initiative, checkin_id: int, slot_at: datetime, now: datetime
) -> None:
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


def _close_before(
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
            _record_miss(session, initiative, row.id, row.slot_at, now)
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


def _away_note(person: Person) -> str:
    until = person.ooo_until.isoformat() if person.ooo_until else "?"
    return f"out of office until {until}" + (f": {person.ooo_note}" if person.ooo_note else "")


# -- the tick: directory -------------------------------------------------------------------------


PROFILE_AHEAD = timedelta(hours=1)


def ensure_owner_people(session: Session, now: datetime, limit: int = OWNER_BATCH) -> int:
    """Create the missing `person` rows of the owners asked within the next hour (or never
    scheduled), so the directory pass fetches their zone before their slot. Only initiatives near
    their slot are looked at (an index range), not every active one: the tick stays as cheap with
    100,000 initiatives as with 1,000. Returns how many were created."""
    missing = session.execute(
        sa.select(Initiative.team_id, Initiative.owner_id)
        .outerjoin(
            Person, sa.and_(Person.team_id == Initiative.team_id, Person.user_id == Initiative.owner_id)
        )
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            sa.or_(Initiative.next_checkin_at.is_(None), Initiative.next_checkin_at <= now + PROFILE_AHEAD),
            Initiative.owner_id.is_not(None),
            Person.id.is_(None),
        )
        .distinct()
        .limit(limit)
    ).all()
    for team_id, owner_id in missing:
        if owner_id:
            people.ensure(session, team_id, owner_id, now)
    return len(missing)


def schedule_unscheduled(
    session: Session, defaults: WorkspaceSettings, now: datetime, limit: int = OWNER_BATCH
) -> int:
    """Give every active, owned initiative without a next check-in its next slot."""
    rows = session.scalars(
        sa.select(Initiative)
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at.is_(None),
            Initiative.owner_id.is_not(None),
        )
        .limit(limit)
    ).all()
    for initiative in rows:
        schedule_next(session, initiative, settings_for(session, initiative.team_id, defaults), now)
    return len(rows)


def cached_zones(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The cached zone of each (team, user)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(Person.team_id, Person.user_id, Person.tz).where(
            Person.user_id.in_({user for _, user in wanted})
        )
    ).all()
    return {(r.team_id, r.user_id): r.tz for r in rows if (r.team_id, r.user_id) in wanted}


def profile_changed(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    name: str | None,
    email: str | None,
    tz: str | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> int:
    """Store what Slack says changed about a user we know (`user_change`; Slack sends it for
    everyone in the workspace, and people we never met are not cached); if their zone moved,
    reschedule the initiatives they own. Returns how many check-ins moved."""
    before = _person(session, team_id, user_id)
    if before is None:
        return 0
    old_tz = before.tz
    person = people.remember(session, team_id, user_id, name=name, email=email, tz=tz, now=now)
    if person.tz == old_tz:
        return 0
    return reschedule_owner(session, team_id, user_id, settings, now)


# -- the tick: nudges ----------------------------------------------------------------------------


def due_owners(session: Session, now: datetime, limit: int = OWNER_BATCH) -> list[tuple[str, str]]:
    """(team, owner) pairs with at least one active initiative whose next check-in has come."""
    rows = session.execute(
        sa.select(Initiative.team_id, Initiative.owner_id)
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at <= now,
            Initiative.owner_id.is_not(None),
        )
        .group_by(Initiative.team_id, Initiative.owner_id)
        .order_by(sa.func.min(Initiative.next_checkin_at))
        .limit(limit)
    ).all()
    return [(r.team_id, r.owner_id) for r in rows]


def _claim_owner(session: Session, team_id: str, user_id: str, now: datetime) -> Person | None:
    """Lock the owner's person row for this transaction; None if another process holds it."""
    person = people.ensure(session, team_id, user_id, now)
    return session.scalar(
        skip_locked(sa.select(Person).where(Person.id == person.id), session).execution_options(
            populate_existing=True
        )
    )


def nudge_owner(
    session: Session, team_id: str, owner_id: str, defaults: WorkspaceSettings, now: datetime
) -> Counter[str]:
    """Ask `owner_id` about every initiative of theirs that is due: one DM per slot; the previous
    unanswered check-in of each becomes missed (excused while they are out of office, when the slot
    is recorded as excused and nothing is sent). Then schedule the next slot.

    Counts: asked, excused, missed, messages, busy (another process holds this owner)."""
    from bot.checkins import views

    counts: Counter[str] = Counter()
    settings = settings_for(session, team_id, defaults)
    person = _claim_owner(session, team_id, owner_id, now)
    if person is None:
        counts["busy"] += 1
        return counts
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

    touched: set[tuple[str, datetime]] = set()
    for slot, initiatives in sorted(by_slot.items()):
        away = people.is_out_of_office(person, slot.astimezone(tz).date())
        excuse = _away_note(person) if away else None
        asked: list[int] = []
        for initiative in initiatives:
            touched |= _close_before(session, initiative, slot, excuse, now, counts)
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
                    sa.select(Checkin.id).where(
                        Checkin.initiative_id == initiative.id, Checkin.slot_at == slot
                    )
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
            _schedule(initiative, settings, tz, calendar, now)
        if asked:
            message = slot_message(session, team_id, owner_id, slot, settings)
            text, blocks = views.slot_message(message)
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
            cause=f"closed:{_instant(now)}",
        )
    return counts


# -- the tick: reminders -------------------------------------------------------------------------


def reminder_owners(session: Session, now: datetime, limit: int = OWNER_BATCH) -> list[tuple[str, str]]:
    """(team, owner) pairs with a pending check-in whose reminder is due and not sent."""
    rows = session.execute(
        sa.select(Checkin.team_id, Checkin.owner_id)
        .where(
            Checkin.status == CheckinStatus.PENDING,
            Checkin.reminder_due_at <= now,
            Checkin.reminded_at.is_(None),
        )
        .group_by(Checkin.team_id, Checkin.owner_id)
        .limit(limit)
    ).all()
    return [(r.team_id, r.owner_id) for r in rows]


def _after_absence(until: date, prompted_at: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    day = calendar.next_working_day(until + timedelta(days=1))
    return datetime.combine(day, prompted_at.astimezone(tz).time(), tzinfo=tz).astimezone(UTC)


def remind_owner(
    session: Session, team_id: str, owner_id: str, defaults: WorkspaceSettings, now: datetime
) -> Counter[str]:
    """Remind `owner_id` once about check-ins still unanswered after the reminder window (one DM
    per slot). On the way: a check-in whose initiative closed or changed hands is excused; one whose
    next slot already passed is missed; while the owner is out of office the reminder waits.

    Counts: reminded, messages, missed, closed, postponed, busy."""
    from bot.checkins import views

    counts: Counter[str] = Counter()
    settings = settings_for(session, team_id, defaults)
    person = _claim_owner(session, team_id, owner_id, now)
    if person is None:
        counts["busy"] += 1
        return counts
    tz = people.zone_of(person, settings)
    calendar = settings.calendar()
    rows = session.execute(
        sa.select(Checkin, Initiative)
        .join(Initiative, Initiative.id == Checkin.initiative_id)
        .where(
            Checkin.team_id == team_id,
            Checkin.owner_id == owner_id,
            Checkin.status == CheckinStatus.PENDING,
            Checkin.reminder_due_at <= now,
            Checkin.reminded_at.is_(None),
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
                _record_miss(session, initiative, checkin.id, checkin.slot_at, now)
                counts["missed"] += 1
                touched.add(checkin.slot_at)
            continue
        if person.ooo_until is not None and people.is_out_of_office(person, now.astimezone(tz).date()):
            checkin.reminder_due_at = _after_absence(person.ooo_until, checkin.prompted_at, tz, calendar)
            counts["postponed"] += 1
            continue
        to_remind[checkin.slot_at].append((checkin.id, initiative.id))

    for slot, pairs in sorted(to_remind.items()):
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
        if not reminded:
            continue
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
        message = slot_message(session, team_id, owner_id, slot, settings)
        text, blocks = views.slot_message(message, reminder=True)
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
            cause=f"closed:{_instant(now)}",
        )
    return counts


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


@dataclass(frozen=True)
class Upcoming:
    initiative_key: str
    title: str
    at: datetime


@dataclass(frozen=True)
class MyCheckins:
    """What `/checkin` (and the App Home) shows a user: check-ins to answer, what comes next."""

    user_id: str
    tz: ZoneInfo
    pending: list[SlotItem]
    more: int  # pending beyond those listed
    upcoming: list[Upcoming]
    ooo_until: date | None
    ooo_note: str | None


def pending_for(
    session: Session, team_id: str, user_id: str, settings: WorkspaceSettings, now: datetime, limit: int = 15
) -> MyCheckins:
    """The check-ins `user_id` has to answer (oldest first), their next ones, and whether they are
    out of office. Three statements, whatever the size."""
    person = _person(session, team_id, user_id)
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


@dataclass(frozen=True)
class Snoozed:
    initiative_key: str
    title: str
    slot_at: datetime
    upcoming: bool  # the slot was not asked yet: it will not be
    reason: str
    next_at: datetime | None
    tz: ZoneInfo


def snooze(
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
    next slot (which is then not asked). Neither counts as missed.

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
    if not upcoming:
        refresh_messages(
            session,
            team_id=team_id,
            owner_id=initiative.owner_id,
            slot_at=slot,
            settings=settings,
            now=now,
            cause=f"snoozed:{checkin_id}",
        )
    return Snoozed(initiative.key, initiative.title, slot, upcoming, reason, next_at, tz)


@dataclass(frozen=True)
class OutOfOffice:
    until: date | None  # None: back
    note: str | None
    tz: ZoneInfo


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


@dataclass(frozen=True)
class Cancelled:
    initiative_key: str
    title: str
    dependencies: int  # open dependencies on either side, cancelled with it


def cancel(
    session: Session,
    initiative: Initiative,
    reason: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Cancelled:
    """Cancel a request or an active initiative: no more check-ins (an open one is excused), its
    open dependencies both ways are cancelled and their escalations resolve, the requester and the
    owner are told. Append-only: the reason is in the history.

    Raises NotAllowed (the owner, a triage lead or the OKR's owner only) or Invalid."""
    authz.require(Action.CLOSE, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state not in OPEN_STATES:
        raise Invalid(f"{initiative.key} is already {initiative.state.value}.")
    reason = one_line(reason)
    if not reason:
        raise Invalid(f"Say why: `/checkin cancel {initiative.key} the customer dropped it`.")
    initiative.state = InitiativeState.CANCELLED
    initiative.next_checkin_at = None
    initiative.updated_at = now
    session.flush()
    _excuse_pending(session, initiative, settings, now, note="cancelled", cause="cancelled")
    closed = dependencies.close_for_closed(session, initiative, actor_id, settings, now)
    event = history.record_initiative(
        session,
        initiative,
        "initiative.cancelled",
        at=now,
        actor_id=actor_id,
        reason=reason,
    )
    session.flush()
    label = f"*{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)}"
    for person in {initiative.requester_id, initiative.owner_id} - {None, actor_id}:
        assert person is not None
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"initiative:{initiative.id}:cancelled:{event.id}:{person}",
            channel=person,
            text=(
                f":heavy_multiplication_x: {mrkdwn.user(actor_id)} cancelled {label}: {mrkdwn.escape(reason)}"
            ),
            now=now,
        )
    return Cancelled(initiative.key, initiative.title, closed)


@dataclass(frozen=True)
class Reassigned:
    initiative_key: str
    title: str
    old_owner_id: str | None
    new_owner_id: str
    next_at: datetime
    owner_tz: ZoneInfo


def reassign(
    session: Session,
    initiative: Initiative,
    new_owner_id: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Reassigned:
    """Hand an active initiative to `new_owner_id`: the old owner's open check-in is excused (their
    DM says so), check-ins are rescheduled in the new owner's zone, and both are told.

    Raises NotAllowed (owner, triage lead or OKR owner only) or Invalid."""
    authz.require(Action.REASSIGN, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state != InitiativeState.ACTIVE:
        raise Invalid(f"{initiative.key} is {initiative.state.value}; only active initiatives change owner.")
    if not is_user_id(new_owner_id):
        raise Invalid("Name the new owner as a Slack user, e.g. `@dana`.")
    if new_owner_id == initiative.owner_id:
        raise Invalid(f"{mrkdwn.user(new_owner_id)} already owns {initiative.key}.")
    old_owner_id = initiative.owner_id
    people.ensure(session, initiative.team_id, new_owner_id, now)
    initiative.owner_id = new_owner_id
    initiative.consecutive_misses = 0  # the old owner's misses are not the new owner's
    initiative.updated_at = now
    session.flush()
    _excuse_pending(
        session,
        initiative,
        settings,
        now,
        note=f"handed over to {new_owner_id}",
        cause="handed",
        except_owner=new_owner_id,
    )
    next_at = schedule_next(session, initiative, settings, now)
    event = history.record_initiative(
        session,
        initiative,
        "initiative.reassigned",
        at=now,
        actor_id=actor_id,
        previous=old_owner_id,
        owner=new_owner_id,
    )
    session.flush()
    tz = zone_of_user(session, initiative.team_id, new_owner_id, settings)
    label = f"*{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)}"
    by = "" if actor_id == new_owner_id else f" (handed over by {mrkdwn.user(actor_id)})"
    outbox.enqueue(
        session,
        team_id=initiative.team_id,
        key=f"checkin:{initiative.id}:owner:{event.id}:{new_owner_id}",
        channel=new_owner_id,
        text=(
            f":handshake: You now own {label}{by}. I'll ask how it is going "
            f"{cadence_of(initiative, settings).describe()} your time; the first check-in is on "
            f"{mrkdwn.date_text(next_at.astimezone(tz))}."
        ),
        now=now,
    )
    if old_owner_id and old_owner_id != actor_id:
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"checkin:{initiative.id}:owner:{event.id}:{old_owner_id}",
            channel=old_owner_id,
            text=(
                f":arrow_right: {mrkdwn.user(actor_id)} handed {label} over to "
                f"{mrkdwn.user(new_owner_id)}. You won't be asked about it any more."
            ),
            now=now,
        )
    from bot.escalation import (
        flows as escalation,  # escalation reads check-ins: imported late to avoid a cycle
    )

    # a stall on missed check-ins was the old owner's: what waits on this may be unstalled now
    escalation.reevaluate_provider(session, initiative, settings, now)
    return Reassigned(initiative.key, initiative.title, old_owner_id, new_owner_id, next_at, tz)


def _excuse_pending(
    session: Session,
    initiative: Initiative,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    note: str,
    cause: str,
    except_owner: str | None = None,
) -> None:
    """Excuse the initiative's unanswered check-ins (all, or those asked of anyone but
    `except_owner`), and edit the DMs that asked for them to say so."""
    query = sa.select(Checkin.id, Checkin.owner_id, Checkin.slot_at).where(
        Checkin.initiative_id == initiative.id, Checkin.status == CheckinStatus.PENDING
    )
    if except_owner is not None:
        query = query.where(Checkin.owner_id != except_owner)
    for checkin_id, owner_id, slot_at in session.execute(query).all():
        if close_pending(session, checkin_id, CheckinStatus.EXCUSED, now, note):
            refresh_messages(
                session,
                team_id=initiative.team_id,
                owner_id=owner_id,
                slot_at=slot_at,
                settings=settings,
                now=now,
                cause=f"{cause}:{checkin_id}",
            )


def is_user_id(user_id: str) -> bool:
    """Looks like a Slack user id (U… or W…)."""
    return bool(user_id) and user_id[:1] in ("U", "W") and user_id.isascii() and user_id.isalnum()


@dataclass(frozen=True)
class CadenceChanged:
    initiative_key: str
    title: str
    cadence: Cadence
    is_default: bool
    next_at: datetime
    owner_tz: ZoneInfo


def change_cadence(
    session: Session,
    initiative: Initiative,
    cadence: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> CadenceChanged:
    """Set how often the owner is asked (`weekly:tue@10:00`, `workdays@09:00`, ... or `default` for
    the workspace's) and reschedule. Raises NotAllowed, or Invalid with field "cadence"."""
    authz.require(Action.REASSIGN, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state != InitiativeState.ACTIVE or initiative.owner_id is None:
        raise Invalid(
            f"{initiative.key} is {initiative.state.value}; only active initiatives have check-ins."
        )
    text = (cadence or "").strip()
    is_default = text.lower() == "default"
    try:
        parsed = settings.cadence() if is_default else Cadence.parse(text)
    except ValueError as exc:
        raise Invalid(mrkdwn.escape(str(exc)), field="cadence") from None
    previous = initiative.cadence
    initiative.cadence = None if is_default else str(parsed)
    initiative.updated_at = now
    next_at = schedule_next(session, initiative, settings, now)
    event = history.record_initiative(
        session,
        initiative,
        "initiative.cadence_changed",
        at=now,
        actor_id=actor_id,
        previous=previous,
        cadence=initiative.cadence,
    )
    session.flush()
    tz = zone_of_user(session, initiative.team_id, initiative.owner_id, settings)
    if actor_id != initiative.owner_id:
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"checkin:{initiative.id}:cadence:{event.id}",
            channel=initiative.owner_id,
            text=(
                f":calendar: {mrkdwn.user(actor_id)} changed the check-ins of "
                f"*{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)} to "
                f"{parsed.describe()} your time; the next is on {mrkdwn.date_text(next_at.astimezone(tz))}."
            ),
            now=now,
        )
    return CadenceChanged(initiative.key, initiative.title, parsed, is_default, next_at, tz)

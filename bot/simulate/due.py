"""When the next real tick could find work: the simulation's clock jumps there instead of stepping
through every minute.

The scheduler ticks at every whole minute; a rule that holds from instant `x` on (`now >= x`) is
first seen by the tick at `x` rounded up to the minute, one that holds only after it (`now > x`)
by the tick at the next whole minute after `x`. Every instant below is one of the tick's own
conditions read from the rows it reads, so the simulated tick runs exactly when one of the real
ticks would first find something, and never later. The workspace's midnights and the digest's
slots are ticked as well: the digest (and its chart checkpoints, which catch up on history) and
housekeeping work on days. Between two ticks only a person can change the rows, and nothing a
person does makes work due sooner than a business day later (a stall, a level, a snooze), so the
next tick is computed once per tick.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.calendar import Cadence, CadenceKind, WorkCalendar, next_slot, zone
from bot.core.config import WorkspaceSettings
from storage.models import (
    Checkin,
    CheckinStatus,
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
)

MINUTE = timedelta(minutes=1)
_TROUBLED = (Health.BLOCKED, Health.AT_RISK)


def from_on(at: datetime) -> datetime:
    """The first minute tick at which `now >= at` holds."""
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + MINUTE


def after(at: datetime) -> datetime:
    """The first minute tick at which `now > at` holds."""
    return at.replace(second=0, microsecond=0) + MINUTE


class DueTimes:
    """The next instants the tick has work, read from the database (read-only)."""

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.settings = settings
        self.tz = zone(settings.timezone)
        self.calendar: WorkCalendar = settings.calendar()
        self._working: dict[tuple[datetime, int], datetime] = {}

    def _add_working_days(self, start: datetime, days: int) -> datetime:
        key = (start, days)
        if key not in self._working:
            self._working[key] = self.calendar.add_working_days(start, days, self.tz)
        return self._working[key]

    def next_after(self, session: Session, now: datetime, *, after_action: bool = False) -> datetime:
        """The first minute after `now` at which a real tick would find something to do. An
        instant already past was ticked at when it came (the work it found is done), except
        after a person's action (`after_action`): a dependency named on a provider already in
        trouble, or an escalation resolved by hand on one still stalled, is work for the next
        minute's tick."""
        local = now.astimezone(self.tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), self.tz)
        digest = next_slot(self.settings.digest_cadence(), now, self.tz, self.calendar)
        candidates = [midnight, from_on(digest), *self._checkins(session, now), *self._ladder(session)]
        stalls = list(self._stalls(session))
        if after_action and any(c <= now for c in stalls):
            candidates.append(after(now))
        candidates += stalls
        return min(c for c in candidates if c > now)

    def _checkins(self, session: Session, now: datetime) -> Iterable[datetime]:
        nudge = session.scalar(
            sa.select(sa.func.min(Initiative.next_checkin_at)).where(
                Initiative.state == InitiativeState.ACTIVE, Initiative.owner_id.is_not(None)
            )
        )
        reminder = session.scalar(
            sa.select(sa.func.min(Checkin.reminder_due_at)).where(
                Checkin.status == CheckinStatus.PENDING, Checkin.reminded_at.is_(None)
            )
        )
        unscheduled = session.scalar(
            sa.select(sa.func.count())
            .select_from(Initiative)
            .where(Initiative.state == InitiativeState.ACTIVE, Initiative.next_checkin_at.is_(None))
        )
        if unscheduled:  # the directory pass schedules them at the next tick
            yield now + MINUTE
        if nudge is not None:  # still due after a tick: more owners than a pass takes; next minute
            yield max(from_on(_aware(nudge)), now + MINUTE)
        if reminder is not None:
            yield max(from_on(_aware(reminder)), now + MINUTE)

    def _ladder(self, session: Session) -> Iterable[datetime]:
        rows = session.execute(
            sa.select(Escalation.opened_at, Escalation.level, Escalation.snoozed_until).where(
                Escalation.resolved_at.is_(None)
            )
        ).all()
        for opened_at, level, snoozed_until in rows:
            if snoozed_until is not None:
                yield from_on(_aware(snoozed_until))
            if level < 2:
                yield from_on(self._add_working_days(_aware(opened_at), self.settings.escalate_level2_days))
            if level < 3:
                yield from_on(self._add_working_days(_aware(opened_at), self.settings.escalate_level3_days))

    def _stalls(self, session: Session) -> Iterable[datetime]:
        """When each open dependency that is not stalled yet would start to: its provider troubled
        for `stall_blocked_days` business days, silent for `stall_silent_periods` periods, or its
        needed-by date past (at the workspace's midnight). Missed check-ins are counted by the
        reminders pass of the same tick the escalation pass runs in."""
        rows = session.execute(
            sa.select(Dependency.needed_by, Initiative)
            .outerjoin(Initiative, Initiative.id == Dependency.provider_id)
            .where(Dependency.state == DependencyState.OPEN, Dependency.stalled_since.is_(None))
        ).all()
        for needed_by, provider in rows:
            if needed_by is not None:
                midnight = datetime.combine(needed_by + timedelta(days=1), datetime.min.time(), self.tz)
                yield from_on(midnight)
            if provider is None or provider.state != InitiativeState.ACTIVE:
                continue
            troubled = provider.troubled_since or provider.health_since
            if provider.health in _TROUBLED and troubled is not None:
                yield after(self._add_working_days(_aware(troubled), self.settings.stall_blocked_days))
            since = provider.last_checkin_at or provider.decided_at or provider.created_at
            yield after(self._silent_until(provider, _aware(since)))

    def _silent_until(self, provider: Initiative, since: datetime) -> datetime:
        # the rule of bot.escalation.service.stalls.silent_until, from the same settings
        try:
            cadence = Cadence.parse(provider.cadence or self.settings.default_cadence)
        except ValueError:
            cadence = self.settings.cadence()
        if cadence.kind is CadenceKind.WORKDAYS:
            return self._add_working_days(since, self.settings.stall_silent_periods)
        return since + cadence.period() * self.settings.stall_silent_periods


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

"""The history of one request as the bot would have written it: submitted, accepted, asked on its
cadence in the owner's zone, answered (as `checkins.answers._record` records an answer), missed,
done or cancelled. Events are collected and written in time order at the end (`flush_events`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.core import history
from bot.core.calendar import Cadence, WorkCalendar, latest_slot, next_slot, zone
from bot.core.config import WorkspaceSettings
from bot.playground.company import CAST, KEY_RESULTS, Story
from storage.models import Checkin, CheckinStatus, CheckinUpdate, Health, Initiative, InitiativeState, Okr

_HEALTH = {"o": Health.ON_TRACK, "r": Health.AT_RISK, "b": Health.BLOCKED}
_TROUBLED = (Health.AT_RISK, Health.BLOCKED)
_TICK = timedelta(microseconds=1)
_DONE_NOTE = "Shipped to every customer"


class Timeline:
    """Writes stories into `team_id` as of `now`; `since` is when the stalling provider turned blocked."""

    def __init__(
        self, session: Session, workspace: WorkspaceSettings, team_id: str, now: datetime, since: datetime
    ) -> None:
        self.s, self.ws, self.team, self.now, self.since = session, workspace, team_id, now, since
        self.calendar = workspace.calendar()
        self.today = now.astimezone(zone(workspace.timezone)).date()
        self.events: list[dict[str, Any]] = []
        self.quarter = quarter_span(now, zone(workspace.timezone))

    def metric_at(self, kr_key: str, at: datetime) -> float:
        """The KR's value at `at`: on its line from start to target over the quarter, at its pace."""
        kr = next(k for k in KEY_RESULTS if k.key == kr_key)
        start, end = self.quarter
        elapsed = min(max((at - start) / (end - start), 0.0), 1.0)
        return round(kr.start + (kr.target - kr.start) * min(elapsed * kr.pace, 1.0), kr.digits)

    def flush_events(self) -> None:
        for event in sorted(self.events, key=lambda e: e["at"]):  # the history in the order it happened
            history.record(self.s, team_id=self.team, **event)
        self.events.clear()

    def submit(self, item: Initiative, okr: Okr, at: datetime) -> None:
        item.created_at = item.updated_at = at
        item.needed_by = item.needed_by or (item.due_date or self.today) + timedelta(days=7)
        self.s.add(item)
        self.s.flush()
        self.event(
            item,
            "request.submitted",
            at,
            item.requester_id,
            key=item.key,
            okr=okr.key,
            impact_level=item.impact_level,
            weight=okr.priority * item.impact_level,
            source_link=None,
        )

    def checked_in(self, story: Story, item: Initiative, okr: Okr) -> None:
        assert story.owner is not None
        owner_tz = zone(next(m.tz for m in CAST if m.user_id == story.owner))
        cadence = Cadence.parse(story.cadence or self.ws.default_cadence)
        slots = _slots_back(
            cadence, self.now - _TICK, owner_tz, self.calendar, len(story.script) + story.back
        )
        slots = slots[: len(story.script)]
        before = (
            latest_slot(cadence, slots[0] - _TICK, owner_tz, self.calendar) or slots[0] - cadence.period()
        )
        accepted = before + timedelta(days=1, hours=2)
        self.submit(item, okr, accepted - timedelta(days=1, hours=3))
        first = next_slot(cadence, accepted, owner_tz, self.calendar)
        item.state, item.owner_id, item.cadence = InitiativeState.ACTIVE, story.owner, str(cadence)
        item.decided_by, item.decided_at = story.accepted_by, accepted
        self.event(
            item,
            "request.accepted",
            accepted,
            story.accepted_by,
            owner=story.owner,
            cadence=item.cadence,
            due_date=item.due_date,
            next_checkin_at=first,
        )
        answers = sum(letter in "orbd" for letter in story.script)
        answered = 0
        for i, (slot, letter) in enumerate(zip(slots, story.script, strict=True)):
            checkin = self._ask(item, slot, owner_tz)
            if letter == "p":
                if checkin.reminder_due_at and checkin.reminder_due_at <= self.now:
                    self._remind(item, checkin)
                continue
            following = slots[i + 1] if i + 1 < len(slots) else self.now
            if letter == "m":
                self._miss(item, checkin, following, owner_tz)
                continue
            # an hour or a few after the nudge (well before the next slot, or `now`)
            delay = timedelta(hours=1 + (story.number * 7 + i * 3) % 5, minutes=(i * 17) % 60)
            at = min(slot + delay, slot + (following - slot) / 2)
            health = _HEALTH.get(letter)
            if story.turns_blocked and at >= self.since:
                health = Health.BLOCKED
            share = answered / max(answers - 1, 1)
            last = answered == answers - 1
            if story.turns_blocked and at > self.since and answered and not item.troubled_since:
                self._turn_blocked(story, item, okr)
            self._answer(
                story,
                item,
                okr,
                checkin,
                at,
                health,
                done=letter == "d",
                progress=round(story.progress[0] + (story.progress[1] - story.progress[0]) * share),
                metric=self.metric_at(story.okr, at) if story.metric else None,
                moved=story.moves[answered] if answered < len(story.moves) else _DONE_NOTE * (letter == "d"),
                forecast=_later(item.due_date, story.forecast_late) if last else None,
            )
            answered += 1
        if story.turns_blocked and item.troubled_since is None:
            self._turn_blocked(story, item, okr)
        if story.state is InitiativeState.CANCELLED:
            at = min(item.updated_at + timedelta(days=2), self.now - timedelta(hours=1))
            item.state, item.next_checkin_at, item.updated_at = InitiativeState.CANCELLED, None, at
            self.event(item, "initiative.cancelled", at, story.owner, reason=story.reason)
        elif item.state is InitiativeState.ACTIVE:
            item.next_checkin_at = next_slot(cadence, self.now, owner_tz, self.calendar)

    def _ask(self, item: Initiative, slot: datetime, tz: ZoneInfo) -> Checkin:
        assert item.owner_id is not None
        checkin = Checkin(
            team_id=self.team,
            initiative_id=item.id,
            owner_id=item.owner_id,
            slot_at=slot,
            prompted_at=slot,
            reminder_due_at=self.calendar.add_working_hours(slot, self.ws.reminder_after_hours, tz),
            status=CheckinStatus.PENDING,
        )
        self.s.add(checkin)
        self.s.flush()
        self.event(item, "checkin.asked", slot, None, subject=f"checkin:{checkin.id}", slot=slot, note=None)
        return checkin

    def _remind(self, item: Initiative, checkin: Checkin) -> None:
        checkin.reminded_at = checkin.reminder_due_at
        assert checkin.reminded_at is not None
        self.event(
            item,
            "checkin.reminded",
            checkin.reminded_at,
            None,
            subject=f"checkin:{checkin.id}",
            slot=checkin.slot_at,
        )

    def _miss(self, item: Initiative, checkin: Checkin, at: datetime, tz: ZoneInfo) -> None:
        if checkin.reminder_due_at and checkin.reminder_due_at < at:
            self._remind(item, checkin)
        checkin.status, checkin.closed_at = CheckinStatus.MISSED, at
        item.consecutive_misses += 1
        self.event(
            item,
            "checkin.missed",
            at,
            None,
            subject=f"checkin:{checkin.id}",
            slot=checkin.slot_at,
            consecutive_misses=item.consecutive_misses,
        )

    def _turn_blocked(self, story: Story, item: Initiative, okr: Okr) -> None:
        """The owner's Update between check-ins: blocked, at the moment the stall window opens."""
        assert self.since < self.now
        self._answer(
            story, item, okr, None, self.since, Health.BLOCKED, done=False, progress=item.progress_pct
        )

    def _answer(
        self,
        story: Story,
        item: Initiative,
        okr: Okr,
        checkin: Checkin | None,
        at: datetime,
        health: Health | None,
        *,
        done: bool,
        progress: int | None,
        metric: float | None = None,
        moved: str = "",
        forecast: date | None = None,
    ) -> None:
        """An answer, recorded as the check-in feature records one (`checkins.answers._record`)."""
        assert item.owner_id is not None
        if done:
            progress, health = 100, None
        blockers = story.blocker if health in _TROUBLED else ""
        update = CheckinUpdate(
            team_id=self.team,
            initiative_id=item.id,
            checkin_id=checkin.id if checkin is not None else None,
            author_id=item.owner_id,
            health=health,
            done=done,
            progress_pct=progress,
            metric_value=metric,
            moved=moved,
            blockers=blockers,
            next_milestone=forecast,
            created_at=at,
        )
        self.s.add(update)
        if checkin is not None:
            checkin.status, checkin.closed_at = CheckinStatus.ANSWERED, at
        self.s.flush()
        previous = item.health
        if health is not None and health != previous:
            if health not in _TROUBLED:
                item.troubled_since = None
            elif previous in _TROUBLED:
                item.troubled_since = item.troubled_since or item.health_since
            else:
                item.troubled_since = at
            item.health, item.health_since = health, at
            self.event(item, "health.changed", at, item.owner_id, previous=previous, health=health)
        item.last_checkin_at, item.updated_at, item.consecutive_misses = at, at, 0
        item.progress_pct = progress if progress is not None else item.progress_pct
        item.forecast_date = forecast or item.forecast_date
        if done:
            item.state, item.done_at, item.next_checkin_at = InitiativeState.DONE, at, None
            self.event(item, "initiative.done", at, item.owner_id)
        if metric is not None:
            self.event(
                item,
                "okr.metric_updated",
                at,
                item.owner_id,
                subject=f"okr:{okr.id}",
                previous=okr.metric_current,
                value=metric,
            )
            okr.metric_current, okr.updated_at = metric, at
        self.event(
            item,
            "checkin.answered",
            at,
            item.owner_id,
            subject=f"checkin:{checkin.id}" if checkin is not None else None,
            update_id=update.id,
            slot=checkin.slot_at if checkin is not None else None,
            health=health,
            done=done,
            correction=False,
        )

    # -- dependencies -------------------------------------------------------------------------------

    def event(
        self,
        item: Initiative,
        kind: str,
        at: datetime,
        actor: str | None,
        *,
        subject: str | None = None,
        **data: Any,
    ) -> None:
        self.events.append(
            {
                "initiative_id": item.id,
                "subject": subject or f"initiative:{item.id}",
                "kind": kind,
                "actor_id": actor,
                "at": at,
                **data,
            }
        )


def _slots_back(
    cadence: Cadence, before: datetime, tz: ZoneInfo, calendar: WorkCalendar, count: int
) -> list[datetime]:
    """The `count` slots of `cadence` at or before `before`, oldest first."""
    found: list[datetime] = []
    at = before
    while len(found) < count:
        slot = latest_slot(cadence, at, tz, calendar)
        if slot is None:
            raise ValueError(f"no slot of {cadence} before {at.isoformat()}")
        found.insert(0, slot)
        at = slot - _TICK
    return found


def _later(day: date | None, days: int) -> date | None:
    return None if day is None else day + timedelta(days=days)


def quarter_span(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The quarter `now` falls in, from local midnight of its first day to that of the next's."""
    local = now.astimezone(tz)
    first = (local.month - 1) // 3 * 3 + 1
    start = datetime(local.year, first, 1, tzinfo=tz)
    year, month = (local.year + 1, 1) if first == 10 else (local.year, first + 3)
    end = datetime(year, month, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)

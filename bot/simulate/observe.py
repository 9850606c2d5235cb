"""What the simulation saw: every bot message that arrived in the local Slack (a DM's kind read from
the outbox key it carries), when each escalation reached each level, and, at the end, the
check-ins and escalations as the database holds them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.calendar import zone
from bot.core.config import WorkspaceSettings
from bot.escalation.models import StallCause
from bot.escalation.service.stalls import silent_until, stall_causes
from bot.simulate.company import Company
from bot.simulate.due import after, from_on
from storage.models import Checkin, CheckinStatus, Dependency, Escalation, Initiative

KINDS = ("nudges", "reminders", "notices", "escalations")
_LEVEL = re.compile(r"^escalation:(\d+):level([123]):")
_PROMPT = re.compile(r"^checkin:[UW][A-Z0-9]+:\d{4}-")


def kind_of(key: str) -> str:
    """nudge, reminder, notice or escalation, from an outbox key."""
    if key.startswith("escalation:"):
        return "escalation"
    if _PROMPT.match(key):
        return "nudge"
    if key.startswith("checkin:") and key.endswith(":reminder"):
        return "reminder"
    return "notice"


def notice_topic(key: str) -> str:
    """What a notice was about, from its key: `health`, `dependency added`, ..."""
    parts = key.split(":")
    if parts[0] == "dependency" and len(parts) > 2:
        return f"dependency {parts[2]}"
    if parts[0] in ("checkin", "initiative") and len(parts) > 2:
        return f"{parts[0]} {parts[2]}"
    return parts[0]


@dataclass
class Stall:
    escalation_id: int
    waiter: str
    provider: str
    cause: str
    cause_at: datetime
    expected: dict[int, datetime]  # level -> when the ladder's business days say
    named_at: datetime  # when the dependency was recorded (after the cause, for some)
    reached: dict[int, datetime] = field(default_factory=dict)
    resolved: str = ""  # "by hand", "by itself" or "" (still open)


@dataclass
class Observed:
    start: datetime
    company: Company
    settings: WorkspaceSettings
    dms: list[tuple[str, datetime, str]] = field(default_factory=list)  # (user, at, kind)
    channel_posts: Counter[str] = field(default_factory=Counter)
    notice_topics: Counter[str] = field(default_factory=Counter)
    stalls: dict[int, Stall] = field(default_factory=dict)
    checkins: Counter[str] = field(default_factory=Counter)
    escalations: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    ticks: int = 0
    steps: int = 0
    _pending_levels: list[tuple[int, int, datetime]] = field(default_factory=list)

    def arrived(self, channel: str, key: str, now: datetime) -> None:
        kind = kind_of(key)
        if channel.startswith("D"):
            self.dms.append(("U" + channel[1:], now, kind))
            if kind == "notice":
                self.notice_topics[notice_topic(key)] += 1
        else:
            self.channel_posts[channel] += 1
        level = _LEVEL.match(key)
        if level:
            self._pending_levels.append((int(level.group(1)), int(level.group(2)), now))

    @property
    def has_new_levels(self) -> bool:
        return bool(self._pending_levels)

    def read_levels(self, session: Session) -> None:
        """Record the levels that arrived since the last call (with the stall's cause, read when
        level 1 arrives: the rows then are the rows the ladder opened on)."""
        for escalation_id, level, at in self._pending_levels:
            stall = self.stalls.get(escalation_id)
            if stall is None:
                stall = self._open(session, escalation_id)
                self.stalls[escalation_id] = stall
            stall.reached.setdefault(level, at)
        self._pending_levels.clear()

    def _open(self, session: Session, escalation_id: int) -> Stall:
        escalation = session.get_one(Escalation, escalation_id)
        dependency = session.get_one(Dependency, escalation.dependency_id)
        provider = session.get(Initiative, dependency.provider_id) if dependency.provider_id else None
        waiter = session.get_one(Initiative, dependency.waiter_id)
        opened = _aware(escalation.opened_at)
        s, tz, calendar = self.settings, zone(self.settings.timezone), self.settings.calendar()
        best: tuple[datetime, str, datetime] | None = None
        for found in stall_causes(dependency, provider, s, opened):
            if found.cause is StallCause.BLOCKED and provider is not None:
                cause_at = _aware(provider.troubled_since or provider.health_since or opened)
                due = after(calendar.add_working_days(cause_at, s.stall_blocked_days, tz))
            elif found.cause is StallCause.OVERDUE and dependency.needed_by is not None:
                cause_at = datetime.combine(dependency.needed_by + timedelta(days=1), datetime.min.time(), tz)
                due = from_on(cause_at)
            elif found.cause is StallCause.SILENT and provider is not None:
                cause_at = _aware(provider.last_checkin_at or provider.decided_at or provider.created_at)
                due = after(silent_until(provider, cause_at, s))
            else:  # missed check-ins: the miss is recorded by the tick whose escalation pass sees it
                missed = session.scalar(
                    sa.select(sa.func.max(Checkin.closed_at)).where(
                        Checkin.initiative_id == (provider.id if provider else 0),
                        Checkin.status == CheckinStatus.MISSED,
                    )
                )
                cause_at = _aware(missed) if missed else opened
                due = from_on(cause_at)
            # a dependency named once its provider is already in trouble stalls at the next tick
            due = max(due, from_on(_aware(dependency.created_at)))
            if best is None or due < best[0]:
                best = (due, found.cause.value, cause_at)
        due1, cause, cause_at = best or (opened, "unknown", opened)
        expected = {
            1: due1,
            2: from_on(calendar.add_working_days(due1, s.escalate_level2_days, tz)),
            3: from_on(calendar.add_working_days(due1, s.escalate_level3_days, tz)),
        }
        return Stall(
            escalation_id,
            waiter.key,
            provider.key if provider else str(dependency.provider_team),
            cause,
            cause_at,
            expected,
            _aware(dependency.created_at),
        )

    def finish(self, session: Session, end: datetime) -> None:
        self.read_levels(session)
        for status, count in session.execute(
            sa.select(Checkin.status, sa.func.count()).group_by(Checkin.status)
        ).all():
            self.checkins[str(status.value if hasattr(status, "value") else status)] = int(count)
        for escalation in session.scalars(sa.select(Escalation).order_by(Escalation.id)):
            self.escalations["opened"] += 1
            self.escalations["acknowledged"] += escalation.acknowledged_at is not None
            if escalation.resolved_at is not None:
                by_hand = escalation.resolved_by is not None
                self.escalations["resolved by hand" if by_hand else "resolved by themselves"] += 1
                if escalation.id in self.stalls:
                    self.stalls[escalation.id].resolved = "by hand" if by_hand else "by itself"
            else:
                self.escalations["still open"] += 1


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

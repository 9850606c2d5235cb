"""Working days, cadences and slots, in a person's own time zone.

A cadence is data (`weekly:mon@09:00`), not code: the next slot is computed from it, so a missed
scheduler run catches up instead of being skipped, and 09:00 stays 09:00 local across DST.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Every other week counts from this Monday, so biweekly slots need no per-row anchor.
_BIWEEKLY_EPOCH = date(2001, 1, 1)
# How far ahead a slot is looked for; a monthly cadence with a long holiday still fits.
_HORIZON_DAYS = 800


class CadenceKind(StrEnum):
    WORKDAYS = "workdays"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


_CADENCE_RE = re.compile(
    r"^\s*(?P<kind>workdays|weekly|biweekly|monthly)"
    r"(?::(?P<day>mon|tue|wed|thu|fri|sat|sun))?"
    r"(?:@(?P<hh>\d{1,2}):(?P<mm>\d{2}))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cadence:
    """When an owner is asked: `workdays@09:00`, `weekly:mon@09:00`, `biweekly:wed@10:30`,
    `monthly:mon@09:00` (the first Monday of each month)."""

    kind: CadenceKind
    weekday: int = 0  # 0 = Monday; ignored for workdays
    at: time = time(9, 0)

    @classmethod
    def parse(cls, text: str) -> Cadence:
        """Parse a cadence; raises ValueError with a message that shows the accepted forms."""
        match = _CADENCE_RE.match(text or "")
        if not match:
            raise ValueError(
                f"{text!r} is not a cadence; use workdays@09:00, weekly:mon@09:00, "
                "biweekly:mon@09:00 or monthly:mon@09:00"
            )
        kind = CadenceKind(match["kind"].lower())
        day = (match["day"] or "mon").lower()
        if kind is CadenceKind.WORKDAYS and match["day"]:
            raise ValueError(f"{text!r}: workdays takes no day; use workdays@09:00")
        hh, mm = int(match["hh"] or 9), int(match["mm"] or 0)
        if hh > 23 or mm > 59:
            raise ValueError(f"{text!r}: {hh:02d}:{mm:02d} is not a time of day")
        return cls(kind=kind, weekday=WEEKDAYS.index(day), at=time(hh, mm))

    def __str__(self) -> str:
        at = self.at.strftime("%H:%M")
        if self.kind is CadenceKind.WORKDAYS:
            return f"workdays@{at}"
        return f"{self.kind.value}:{WEEKDAYS[self.weekday]}@{at}"

    def describe(self) -> str:
        """In words, for people: "weekly on Monday at 09:00"."""
        at = self.at.strftime("%H:%M")
        day = WEEKDAY_NAMES[self.weekday]
        return {
            CadenceKind.WORKDAYS: f"every working day at {at}",
            CadenceKind.WEEKLY: f"weekly on {day} at {at}",
            CadenceKind.BIWEEKLY: f"every two weeks on {day} at {at}",
            CadenceKind.MONTHLY: f"monthly on the first {day} at {at}",
        }[self.kind]

    def period(self) -> timedelta:
        """The nominal length of one period, for "no check-in for N periods"."""
        return {
            CadenceKind.WORKDAYS: timedelta(days=1),
            CadenceKind.WEEKLY: timedelta(weeks=1),
            CadenceKind.BIWEEKLY: timedelta(weeks=2),
            CadenceKind.MONTHLY: timedelta(days=31),
        }[self.kind]

    def _nominal_days(self, start: date) -> Iterator[date]:
        """The days the cadence names, from `start` on, before moving off holidays."""
        day = start
        for _ in range(_HORIZON_DAYS):
            if self.kind is CadenceKind.WORKDAYS:
                yield day
            elif day.weekday() == self.weekday:
                if self.kind is CadenceKind.WEEKLY:
                    yield day
                elif self.kind is CadenceKind.BIWEEKLY:
                    if ((day - _BIWEEKLY_EPOCH).days // 7) % 2 == 0:
                        yield day
                elif day.day <= 7:  # monthly: the first such weekday of the month
                    yield day
            day += timedelta(days=1)


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The ZoneInfo for `name`, or for `fallback` when Slack gave none or an unknown one."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)") from exc
    return name


@dataclass(frozen=True)
class WorkCalendar:
    """Weekends plus a public-holiday calendar (`DE-BE`, `US-CA`, `IN`) plus extra closed days."""

    holidays: str = ""
    extra_closed: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if self.holidays:
            _holiday_set(self.holidays)  # fail early on an unknown calendar

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra_closed:
            return False
        return not (self.holidays and day in _holiday_set(self.holidays))

    def holiday_name(self, day: date) -> str | None:
        if not self.holidays:
            return None
        return _holiday_set(self.holidays).get(day)

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        for _ in range(_HORIZON_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day found in the calendar horizon")

    def add_working_days(self, start: datetime, days: int, tz: ZoneInfo) -> datetime:
        """`start` moved forward by `days` working days, same local wall time."""
        local = start.astimezone(tz)
        day = local.date()
        moved = 0
        while moved < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                moved += 1
        return _at_local(day, local.time().replace(tzinfo=None), tz)

    def working_days_between(self, start: datetime, end: datetime, tz: ZoneInfo) -> int:
        """Whole working days from `start` to `end`, counted by local date (0 when end <= start)."""
        first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        if last <= first:
            return 0
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def add_working_hours(self, start: datetime, hours: float, tz: ZoneInfo) -> datetime:
        """`start` plus `hours` of wall-clock time counted only on working days, in `tz`.

        24 working hours from Friday 09:00 is Monday 09:00; a holiday is skipped the same way.
        """
        local = start.astimezone(tz).replace(tzinfo=None)
        remaining = timedelta(hours=hours)
        for _ in range(_HORIZON_DAYS):
            midnight = datetime.combine(local.date() + timedelta(days=1), time(0))
            if self.is_working_day(local.date()):
                left_today = midnight - local
                if remaining <= left_today:
                    target = local + remaining
                    return _at_local(target.date(), target.time(), tz)
                remaining -= left_today
            local = midnight
        raise ValueError("working hours exceed the calendar horizon")


@lru_cache(maxsize=32)
def _holiday_set(spec: str) -> holidays_lib.HolidayBase:
    country, _, subdiv = spec.strip().partition("-")
    try:
        return holidays_lib.country_holidays(country.upper(), subdiv=subdiv.upper() or None)
    except (NotImplementedError, KeyError) as exc:
        raise ValueError(
            f"{spec!r} is not a holiday calendar; use a country code with an optional region, "
            "e.g. DE, DE-BE, US-CA, IN"
        ) from exc


def check_holidays(spec: str) -> str:
    if spec:
        _holiday_set(spec)
    return spec


def _at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def slots(cadence: Cadence, tz: ZoneInfo, calendar: WorkCalendar, start: date) -> Iterator[datetime]:
    """Every slot (UTC) from local date `start` on, in order.

    A weekly, biweekly or monthly slot that falls on a closed day moves to the next working day;
    a workdays cadence simply has no slot on closed days.
    """
    last: date | None = None
    for nominal in cadence._nominal_days(start):
        if cadence.kind is CadenceKind.WORKDAYS:
            if not calendar.is_working_day(nominal):
                continue
            effective = nominal
        else:
            effective = calendar.next_working_day(nominal)
        if last is not None and effective <= last:
            continue
        last = effective
        yield _at_local(effective, cadence.at, tz)


def next_slot(cadence: Cadence, after: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    """The first slot strictly after `after`."""
    # start a few days back: a slot moved forward by a holiday may land after `after`
    start = after.astimezone(tz).date() - timedelta(days=14)
    for slot in slots(cadence, tz, calendar, start):
        if slot > after:
            return slot
    raise ValueError(f"no slot for {cadence} within the calendar horizon")


def latest_slot(
    cadence: Cadence, at_or_before: datetime, tz: ZoneInfo, calendar: WorkCalendar
) -> datetime | None:
    """The last slot at or before `at_or_before` (within about two months), or None."""
    start = at_or_before.astimezone(tz).date() - timedelta(days=70)
    found: datetime | None = None
    for slot in slots(cadence, tz, calendar, start):
        if slot > at_or_before:
            break
        found = slot
    return found

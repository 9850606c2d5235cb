"""When a digest posts and what it covers: the reporting period ending at a digest slot (or, for a
preview, the one in progress), the next slot, and the chart's weekly grid of instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.calendar import latest_slot, next_slot, zone
from bot.core.config import WorkspaceSettings
from bot.digest.models import CHART_WEEKS, ReportingPeriod


def scheduled_period(settings: WorkspaceSettings, now: datetime) -> ReportingPeriod | None:
    """The period of the latest digest slot at or before `now`, or None if there is none."""
    cadence = settings.digest_cadence()
    tz = zone(settings.timezone)
    calendar = settings.calendar()
    end = latest_slot(cadence, now, tz, calendar)
    if end is None:
        return None
    start = latest_slot(cadence, end - timedelta(microseconds=1), tz, calendar) or end - cadence.period()
    return ReportingPeriod(start=start, end=end, zone_name=settings.timezone)


def preview_period(settings: WorkspaceSettings, now: datetime) -> ReportingPeriod:
    """The period in progress: from the last slot before `now` up to `now`."""
    cadence = settings.digest_cadence()
    tz = zone(settings.timezone)
    start = latest_slot(cadence, now - timedelta(microseconds=1), tz, settings.calendar())
    return ReportingPeriod(
        start=start or now - cadence.period(), end=now, zone_name=settings.timezone, in_progress=True
    )


def next_digest_at(settings: WorkspaceSettings, now: datetime) -> datetime:
    return next_slot(settings.digest_cadence(), now, zone(settings.timezone), settings.calendar())


def chart_grid(
    settings: WorkspaceSettings, moment: datetime, count: int, *, inclusive: bool
) -> list[datetime]:
    """The `count` latest instants of the chart's weekly grid before `moment` (or at it, if
    `inclusive`), oldest first: every week on the digest schedule's weekday at its time of day, in
    the workspace's zone (Mondays for a workdays schedule). Holidays do not move them."""
    cadence = settings.digest_cadence()
    tz = zone(settings.timezone)
    local = moment.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - cadence.weekday) % 7)
    found: list[datetime] = []
    while len(found) < count:
        instant = datetime.combine(day, cadence.at, tzinfo=tz).astimezone(UTC)
        if instant < moment or (inclusive and instant == moment):
            found.append(instant)
        day -= timedelta(days=7)
    return found[::-1]


def chart_points(settings: WorkspaceSettings, period: ReportingPeriod) -> list[datetime]:
    """The chart's instants, oldest first: the grid's last 7 before the period's end, and the end."""
    return [*chart_grid(settings, period.end, CHART_WEEKS - 1, inclusive=False), period.end]

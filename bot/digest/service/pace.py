"""Key results: progress from start to target, and where a straight line over the OKR's period
says they should be by the end of the digest's period (pace)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.digest.models import PACE_TOLERANCE, KeyResult, Pace, ReportingPeriod
from bot.digest.service.statements import _one_line
from bot.okrs.models import progress as okr_progress
from bot.okrs.service.periods import read_period
from storage.models import Okr


def okr_period_span(text: str | None, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The (start, end) instants of an OKR period such as `2026-Q1`, `2026-H2`, `2026-03` or
    `2026` (also `Q1 2026`, `2026Q1`, `FY2026`: `bot.okrs.service.periods` reads them), from local
    midnight of its first day to local midnight after its last; None for anything else."""
    period = read_period(text)  # the registry's one grammar, every form stored data may use
    if period is None or period.end.year > 9998:  # the midnight after its last day must exist
        return None
    return _local_midnight(period.start, tz), _local_midnight(period.end + timedelta(days=1), tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _key_result(
    okr: Okr,
    okr_period: str | None,
    period: ReportingPeriod,
    previous_progress: dict[str, float],
    previous_at_target: set[str] | None,
) -> KeyResult:
    start, target, current = okr.metric_start, okr.metric_target, okr.metric_current
    progress = okr_progress(okr)  # None without a start, a target and a current value
    expected = expected_value = None
    pace: Pace | None = None
    if progress is not None and start is not None and target is not None:
        span = okr_period_span(okr_period, period.tz)
        if span is not None:
            begin, finish = span
            elapsed = (period.end - begin).total_seconds() / (finish - begin).total_seconds()
            expected = min(1.0, max(0.0, elapsed))
            expected_value = start + (target - start) * expected
        if progress >= 1:
            pace = Pace.AT_TARGET
        elif expected is not None:
            if progress < expected - PACE_TOLERANCE:
                pace = Pace.BEHIND
            elif progress > expected + PACE_TOLERANCE:
                pace = Pace.AHEAD
            else:
                pace = Pace.ON_PACE
    before = previous_progress.get(okr.key)
    return KeyResult(
        key=okr.key,
        title=_one_line(okr.title),
        owner_id=okr.owner_id,
        url=okr.url,
        unit=okr.metric_unit,
        start=start,
        current=current,
        target=target,
        progress=progress,
        expected=expected,
        expected_value=expected_value,
        pace=pace,
        delta=(progress - before) if progress is not None and before is not None else None,
        reached_this_period=pace == Pace.AT_TARGET
        and previous_at_target is not None
        and okr.key not in previous_at_target,
    )

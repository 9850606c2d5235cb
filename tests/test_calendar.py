"""Cadences and working time in a person's own zone, across DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.calendar import Cadence, CadenceKind, WorkCalendar, latest_slot, next_slot, slots

NONE = WorkCalendar()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly:mon@09:00", Cadence(CadenceKind.WEEKLY, 0, time(9))),
        ("weekly:fri", Cadence(CadenceKind.WEEKLY, 4, time(9))),
        ("weekly", Cadence(CadenceKind.WEEKLY, 0, time(9))),
        ("WORKDAYS@8:30", Cadence(CadenceKind.WORKDAYS, 0, time(8, 30))),
        ("biweekly:wed@10:00", Cadence(CadenceKind.BIWEEKLY, 2, time(10))),
        ("monthly:tue@17:45", Cadence(CadenceKind.MONTHLY, 1, time(17, 45))),
    ],
)
def test_cadences_parse_and_print_back(text: str, expected: Cadence) -> None:
    assert Cadence.parse(text) == expected
    assert Cadence.parse(str(expected)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "weekly:someday",
        "daily@09:00",
        "weekly:mon@25:00",
        "workdays:mon",
        "weekly:mon@9",
        "monthly:mon@09:60",
    ],
)
def test_bad_cadences_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="cadence|time|workdays"):
        Cadence.parse(text)


@given(st.text(max_size=40))
def test_any_text_either_parses_or_raises_value_error(text: str) -> None:
    try:
        parsed = Cadence.parse(text)
    except ValueError:
        return
    assert Cadence.parse(str(parsed)) == parsed


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Europe/Berlin", "America/Los_Angeles"])
def test_weekly_slot_stays_at_nine_local_across_dst(zone: str) -> None:
    tz = ZoneInfo(zone)
    cadence = Cadence.parse("weekly:mon@09:00")
    found = [s for s in slots(cadence, tz, NONE, date(2026, 3, 1))][:40]
    assert all(s.astimezone(tz).time() == time(9) for s in found)
    assert all(s.astimezone(tz).weekday() == 0 for s in found)
    # the UTC hour changes when the zone changes offset (not in Kolkata)
    utc_hours = {s.hour for s in found}
    assert len(utc_hours) == (1 if zone == "Asia/Kolkata" else 2)


def test_a_holiday_moves_a_weekly_slot_to_the_next_working_day() -> None:
    berlin = WorkCalendar("DE-BE")
    tz = ZoneInfo("Europe/Berlin")
    cadence = Cadence.parse("weekly:mon@09:00")
    # Easter Monday 2026 is 6 April
    after = datetime(2026, 4, 3, 12, tzinfo=UTC)
    assert next_slot(cadence, after, tz, berlin) == datetime(2026, 4, 7, 7, 0, tzinfo=UTC)
    assert next_slot(cadence, after, tz, NONE) == datetime(2026, 4, 6, 7, 0, tzinfo=UTC)


def test_workdays_skip_weekends_and_holidays() -> None:
    cadence = Cadence.parse("workdays@09:00")
    tz = ZoneInfo("Europe/Berlin")
    found = [s.astimezone(tz).date() for s in slots(cadence, tz, WorkCalendar("DE-BE"), date(2026, 12, 23))][
        :5
    ]
    assert found == [
        date(2026, 12, 23),
        date(2026, 12, 24),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
    ]


def test_biweekly_and_monthly() -> None:
    tz = ZoneInfo("UTC")
    two = [s.date() for s in slots(Cadence.parse("biweekly:mon@09:00"), tz, NONE, date(2026, 1, 1))][:3]
    assert (two[1] - two[0]).days == 14 and (two[2] - two[1]).days == 14
    monthly = [s.date() for s in slots(Cadence.parse("monthly:mon@09:00"), tz, NONE, date(2026, 1, 1))][:3]
    assert monthly == [date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)]


def test_latest_slot_is_the_one_to_catch_up_after_downtime() -> None:
    cadence = Cadence.parse("weekly:mon@09:00")
    tz = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 3, 25, 12, tzinfo=UTC)  # a Wednesday, three Mondays after 2 March
    assert latest_slot(cadence, now, tz, NONE) == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_working_hours_skip_the_weekend_and_holidays() -> None:
    tz = ZoneInfo("Europe/Berlin")
    friday = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    assert NONE.add_working_hours(friday, 24, tz) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Mon 09:00 CEST
    thursday_before_easter = datetime(2026, 4, 2, 7, 0, tzinfo=UTC)
    assert WorkCalendar("DE-BE").add_working_hours(thursday_before_easter, 24, tz) == datetime(
        2026, 4, 7, 7, 0, tzinfo=UTC
    )


def test_working_days_between() -> None:
    tz = ZoneInfo("UTC")
    friday = datetime(2026, 3, 6, 10, tzinfo=UTC)
    assert NONE.working_days_between(friday, datetime(2026, 3, 9, 9, tzinfo=UTC), tz) == 1
    assert NONE.working_days_between(friday, datetime(2026, 3, 11, 9, tzinfo=UTC), tz) == 3
    assert NONE.add_working_days(friday, 3, tz) == datetime(2026, 3, 11, 10, tzinfo=UTC)


def test_unknown_holiday_calendar_is_refused() -> None:
    with pytest.raises(ValueError, match="not a holiday calendar"):
        WorkCalendar("XX")

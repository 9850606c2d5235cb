"""Properties of the digest's parsers and of its rendering of whatever people type."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blockkit.blocks import MESSAGE_BLOCKS, SECTION_LIMIT
from bot.core.config import WorkspaceSettings
from bot.digest import models as digest_models
from bot.digest.models import (
    Changes,
    DigestData,
    HealthCounts,
    InitiativeItem,
    KeyResult,
    Listing,
    ObjectiveDigest,
    Pace,
    ReportingPeriod,
    Stall,
)
from bot.digest.service import pace as digest_pace
from bot.digest.service import periods as digest_periods
from bot.digest.views import message as views
from storage.models import Health
from tests.slackfake import broadcasts, validate_blocks

ZONES = st.sampled_from(["Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "UTC", "Australia/Sydney"])
PARTS = st.sampled_from(["", "Q1", "Q2", "Q3", "Q4", "H1", "H2"])
SEPARATORS = st.sampled_from(["-", " ", "/", ""])


@given(
    year=st.integers(1990, 2100),
    part=PARTS,
    sep=SEPARATORS,
    zone=ZONES,
    lower=st.booleans(),
    flip=st.booleans(),
)
def test_okr_periods_parse_to_local_calendar_spans(
    year: int, part: str, sep: str, zone: str, lower: bool, flip: bool
) -> None:
    text = (f"{part}{sep}{year}" if flip else f"{year}{sep}{part}") if part else str(year)
    span = digest_pace.okr_period_span(text.lower() if lower else text, ZoneInfo(zone))
    assert span is not None
    start, end = span
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    assert (local_start.hour, local_start.minute, local_start.day) == (0, 0, 1)
    assert (local_end.hour, local_end.minute, local_end.day) == (0, 0, 1)
    months = {"": 12, "Q": 3, "H": 6}[part[:1]]
    assert (local_end.year * 12 + local_end.month) - (local_start.year * 12 + local_start.month) == months
    first_month = {"": 1, "Q": lambda n: 3 * n - 2, "H": lambda n: 6 * n - 5}
    expected_first = 1 if not part else first_month[part[0]](int(part[1]))  # type: ignore[operator]
    assert (local_start.year, local_start.month) == (year, expected_first)


@given(st.text(max_size=30), ZONES)
def test_any_text_is_a_period_or_none_and_never_an_error(text: str, zone: str) -> None:
    span = digest_pace.okr_period_span(text, ZoneInfo(zone))
    assert span is None or span[0] < span[1]


def test_quarters_tile_the_year() -> None:
    tz = ZoneInfo("Europe/Berlin")
    spans = [digest_pace.okr_period_span(f"2026-Q{q}", tz) for q in range(1, 5)]
    assert all(s is not None for s in spans)
    for before, after in itertools.pairwise(spans):
        assert before is not None and after is not None and before[1] == after[0]
    assert digest_pace.okr_period_span("2026", tz) == (spans[0][0], spans[3][1])  # type: ignore[index]
    for unknown in ("2026-Q5", "2026-H3", "Q1", "next quarter", "26-Q1", "2026-Q1-2", "2026-13", "2026-00"):
        assert digest_pace.okr_period_span(unknown, tz) is None


def test_months_tile_the_year_too() -> None:
    """`2026-03` is a period the registry accepts: the digest measures pace against it as well."""
    tz = ZoneInfo("America/Los_Angeles")
    months = [digest_pace.okr_period_span(f"2026-{m:02d}", tz) for m in range(1, 13)]
    assert all(s is not None for s in months)
    for before, after in itertools.pairwise(months):
        assert before is not None and after is not None and before[1] == after[0]
    assert digest_pace.okr_period_span("2026", tz) == (months[0][0], months[11][1])  # type: ignore[index]
    march = months[2]
    assert march is not None
    assert march[0].astimezone(tz).date().isoformat() == "2026-03-01"
    assert march[1].astimezone(tz).date().isoformat() == "2026-04-01"


@settings(deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    day=st.sampled_from(["mon", "wed", "fri"]),  # weekend slots move to Monday: see test_digest.py
    hour=st.integers(0, 23),
    zone=ZONES,
)
def test_the_scheduled_period_ends_at_the_latest_slot(now: datetime, day: str, hour: int, zone: str) -> None:
    settings_ = WorkspaceSettings(timezone=zone, digest_schedule=f"weekly:{day}@{hour:02d}:30")
    period = digest_periods.scheduled_period(settings_, now)
    assert period is not None
    tz = ZoneInfo(zone)
    end, start = period.end.astimezone(tz), period.start.astimezone(tz)
    assert period.end <= now < period.end + timedelta(weeks=1, hours=1)
    assert end.strftime("%a").lower()[:3] == day and start.weekday() == end.weekday()
    assert (end.date() - start.date()).days == 7 and period.start < period.end
    assert digest_periods.next_digest_at(settings_, period.end) > period.end


# -- whatever people type comes out escaped ----------------------------------------------------------

TITLES = st.lists(
    st.sampled_from([*"ab <>&|*_~`@!#:/.\n$é🚀", "<!channel>", "<@U0X>", "&amp;", "<https://x.io|y>"]),
    max_size=40,
).map("".join)
TRUSTED = re.compile(r"<@U[A-Z0-9]+>|<#C[A-Z0-9]+>|<https?://[^|<>\s]+\|[^<>]*>")


def item(key: str, title: str) -> InitiativeItem:
    return InitiativeItem(key, title, "U0ALICE", "O1-KR1", Health.BLOCKED, None, date(2026, 3, 5), 1)


def data_with(titles: list[str], key: str) -> DigestData:
    items = tuple(item(f"{key}-{n}", t) for n, t in enumerate(titles))
    kr = KeyResult(
        key=key,
        title=titles[0],
        owner_id="U0DAN",
        url="https://okr.example.com/kr?a=1&b=<2>",
        unit=titles[-1][:10],
        start=0,
        current=5,
        target=10,
        progress=0.5,
        expected=0.7,
        expected_value=7,
        pace=Pace.BEHIND,
        delta=0.1,
    )
    stall = Stall(
        waiter_key=key,
        waiter_title=titles[0],
        waiter_owner_id="U0ALICE",
        okr_key=key,
        provider_key=None,
        provider_title=None,
        provider_team=titles[-1][:100],
        provider_people=("U0DAN",),
        what=titles[-1],
        reason=titles[0],
        since=None,
        days=3,
        level=2,
    )
    objective = ObjectiveDigest(
        key=key,
        title=titles[0],
        owner_id="U0CAROL",
        url="javascript:alert(1)",
        priority=5,
        period=titles[-1][:20],
        key_results=[kr],
        health=HealthCounts(1, 1, 1, 0),
        changes=Changes(newly_blocked=Listing(items, len(items) + 4), done=Listing(items, len(items))),
        stalls=Listing((stall,), 1),
        intake=2,
        intake_by_okr=[(key, 1), (titles[-1], 1)],
        health_weeks=[HealthCounts()] * digest_models.CHART_WEEKS,
    )
    end = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    return DigestData(
        team_id="T0FAKE",
        period=ReportingPeriod(end - timedelta(weeks=1), end, "Europe/Berlin"),
        cadence="weekly",
        noun="week",
        objectives=[objective] * 20,
        decisions=Listing(),
        escalations_level3=0,
        missed_by=Listing(),
        previous_digest=None,
        week_ends=[end] * digest_models.CHART_WEEKS,
    )


@settings(deadline=None, max_examples=60)
@given(titles=st.lists(TITLES, min_size=1, max_size=4), key=TITLES.map(lambda s: s[:40] or "O1"))
def test_user_text_in_any_part_is_escaped_and_the_message_fits(titles: list[str], key: str) -> None:
    rendered = views.render(data_with(titles, key))
    dicts = [b.to_dict() for b in rendered.blocks]
    validate_blocks(dicts, MESSAGE_BLOCKS)
    texts = [rendered.text]
    for block in dicts:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
    assert broadcasts(texts) == []
    for text in texts:
        leftover = TRUSTED.sub("", text)
        assert "<" not in leftover and ">" not in leftover, text
        assert not re.search(r"&(?!amp;|lt;|gt;)", leftover), text

"""The OKR registry's rules, without Slack: periods, links, rows, adding, archiving, finding."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotAllowed, NotFound
from bot.okrs import models as okr_models
from bot.okrs.models import ChangeKind, OkrCommandKind, SourceRow
from bot.okrs.service import command as okr_command
from bot.okrs.service import edits as okr_edits
from bot.okrs.service import files as okr_files
from bot.okrs.service import links as okr_links
from bot.okrs.service import periods as okr_periods
from bot.okrs.service import plan as okr_plan
from bot.okrs.service import reading as okr_reading
from bot.okrs.service import rows as okr_rows
from storage.db import Database
from storage.models import Event, Okr
from tests import factories as f
from tests.conftest import START
from tests.hostile import hostile_text

WS = WorkspaceSettings(admins=["U0ADMIN"], okr_url_patterns=["https://okr.example.com/*"])
TODAY = date(2026, 3, 2)
TEAM = f.TEAM


# -- periods and links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_periods(text: str, start: date, end: date) -> None:
    period = okr_periods.parse_period(text)
    assert (period.start, period.end, period.text) == (start, end, text.upper())
    assert not period.is_over(end) and period.is_over(end + timedelta(days=1))


@given(st.text(max_size=20))
def test_any_period_text_parses_or_says_what_is_accepted(text: str) -> None:
    try:
        period = okr_periods.parse_period(text)
    except ValueError as exc:
        assert "should look like 2026-Q1" in str(exc) or "not a year" in str(exc)
    else:
        assert period.start <= period.end and okr_periods.parse_period(period.text) == period


@given(st.dates(min_value=date(1900, 1, 1)))
def test_a_day_is_inside_its_quarter(day: date) -> None:
    period = okr_periods.parse_period(okr_periods.quarter_of(day))
    assert period.start <= day <= period.end


@given(
    st.sampled_from(["https", "HTTPS", "Https"]),
    st.sampled_from(["okr.example.com", "OKR.Example.COM"]),
    st.text(alphabet="abcXYZ019-_/", max_size=20),
    st.sampled_from(["", "/", "//"]),
)
def test_links_compare_whatever_the_case_of_scheme_and_host_and_trailing_slashes(
    scheme: str, host: str, path: str, slash: str
) -> None:
    url = f"{scheme}://{host}/o/{path}{slash}"
    normalised = okr_links.normalise_url(url)
    assert normalised == okr_links.normalise_url(f"https://okr.example.com/o/{path}")
    assert okr_links.normalise_url(normalised) == normalised
    assert okr_links.url_allowed(WS, url)


@given(hostile_text())
def test_hostile_links_are_never_allowed_off_the_tool(text: str) -> None:
    url = "https://evil.example/" + text
    assert not okr_links.url_allowed(WS, url)
    assert not okr_links.url_allowed(WS, "https://okr.example.com.evil.example/" + text)


# -- rows -----------------------------------------------------------------------------------------


def rows(*items: dict[str, str]) -> list[SourceRow]:
    return [SourceRow(n + 2, item) for n, item in enumerate(items)]


def test_a_plan_refuses_kind_changes_nested_key_results_and_shared_links(db: Database) -> None:
    with db.session() as s:
        o1 = f.okr(s, "O1", now=START, url="https://okr.example.com/o/1")
        f.okr(s, "O1-KR1", now=START, parent=o1)
        f.okr(s, "O2", now=START)
        planned = okr_plan.plan(
            s,
            TEAM,
            rows(
                {"key": "O2", "title": "now a key result", "parent": "O1"},
                {"key": "O1-KR1-KR1", "title": "a KR of a KR", "parent": "O1-KR1"},
                {
                    "key": "O5",
                    "title": "same link",
                    "owner": "U0CAROL",
                    "period": "2026-Q1",
                    "url": "https://OKR.example.com/o/1/",
                },
                {"key": "O6", "title": "no owner, no period"},
            ),
            {"U0CAROL": "U0CAROL"},
            TODAY,
        )
    assert [str(e) for e in planned.errors] == [
        "line 2: O2 is registered as an objective; it can't change kind",
        "line 3: O1-KR1 is a key result; a key result belongs to an objective",
        "line 4: url is already O1's (registered)",
        "line 5: objective O6 needs an owner (a Slack user ID or email)",
        "line 5: objective O6 needs a period, e.g. 2026-Q1",
    ]


@given(st.dictionaries(st.sampled_from(okr_models.COLUMNS), hostile_text(max_size=60), max_size=13))
def test_any_row_is_either_planned_or_refused_with_reasons(values: dict[str, str]) -> None:
    fields, errors = okr_rows._parse_fields(values)
    assert all(isinstance(m, str) and m for m in errors.values())
    assert set(errors) <= set(okr_models.COLUMNS)
    if not errors:
        assert fields.key and fields.title


@given(st.text(max_size=300))
def test_any_text_reads_as_csv_rows_or_line_numbered_errors(text: str) -> None:
    try:
        found = okr_files.read_csv("key,title\n" + text)
    except okr_files.FileFormatError as exc:
        assert all(e.startswith("line ") for e in exc.errors)
    else:
        assert all(row.line >= 2 for row in found)


@given(st.text(max_size=300))
def test_any_text_reads_as_yaml_rows_or_line_numbered_errors(text: str) -> None:
    try:
        okr_files.read_yaml(text)
    except okr_files.FileFormatError as exc:
        assert all(e.startswith("line ") for e in exc.errors)


# -- adding -----------------------------------------------------------------------------------------


def add(db: Database, actor: str, **values: str) -> Okr:
    with db.session() as s:
        return okr_edits.add(
            s, team_id=TEAM, actor_id=actor, settings=WS, now=START, values=values, today=TODAY
        )


def test_an_admin_adds_an_objective_and_its_owner_adds_key_results(db: Database) -> None:
    o7 = add(db, "U0ADMIN", key="o7", title="Enter Japan", owner="U0CAROL", period="2026-Q2", priority="4")
    assert (o7.key, o7.priority, o7.owner_id) == ("O7", 4, "U0CAROL")
    kr = add(db, "U0CAROL", key="O7-KR1", title="Five resellers", metric_target="5", metric_unit="resellers")
    assert (kr.parent_id, kr.priority, kr.period, kr.owner_id) == (o7.id, 4, "2026-Q2", None)
    with db.session() as s:
        assert s.scalars(sa.select(Event.kind).order_by(Event.id)).all() == ["okr.created", "okr.created"]


@pytest.mark.parametrize(
    ("actor", "values"),
    [
        ("U0CAROL", {"key": "O8", "title": "Her own objective", "owner": "U0CAROL", "period": "2026-Q2"}),
        ("U0BOB", {"key": "O7-KR2", "title": "Under someone else's objective"}),
    ],
)
def test_others_may_not_add(db: Database, actor: str, values: dict[str, str]) -> None:
    add(db, "U0ADMIN", key="O7", title="Enter Japan", owner="U0CAROL", period="2026-Q2")
    with pytest.raises(NotAllowed):
        add(db, actor, **values)


def test_add_reports_every_field_by_column(db: Database) -> None:
    add(db, "U0ADMIN", key="O7", title="Enter Japan", owner="U0CAROL", period="2026-Q2")
    with pytest.raises(InvalidFields) as caught:
        add(db, "U0ADMIN", key="O7", title="", owner="", period="soon", priority="7", metric_start="x")
    assert set(caught.value.errors) == {"key", "title", "owner", "period", "priority", "metric_start"}
    assert "O7 already exists" in caught.value.errors["key"]
    with pytest.raises(InvalidFields) as caught:
        add(db, "U0ADMIN", key="O9", title="", owner="", period="soon", priority="7", metric_start="x")
    assert set(caught.value.errors) == {"title", "owner", "period", "priority", "metric_start"}


# -- archiving ------------------------------------------------------------------------------------


def archive(db: Database, key: str, actor: str = "U0ADMIN", today: date = TODAY) -> okr_models.Archived:
    with db.session() as s:
        return okr_edits.archive(
            s, team_id=TEAM, key=key, actor_id=actor, settings=WS, now=START, today=today
        )


def test_archiving_waits_for_the_period_to_end_and_takes_the_key_results(db: Database) -> None:
    with db.session() as s:
        o1 = f.okr(s, "O1", now=START, owner_id="U0CAROL", period="2026-Q1")
        f.okr(s, "O1-KR1", now=START, parent=o1, owner_id="U0BOB", period="2026-Q1")
        f.okr(s, "O1-KR2", now=START, parent=o1, period="2026-Q1")
    with pytest.raises(InvalidFields) as caught:
        archive(db, "O1")
    assert "runs until 31 Mar 2026" in caught.value.errors["period"]
    with pytest.raises(NotAllowed):
        archive(db, "O1", actor="U0BOB", today=date(2026, 4, 1))  # owns a KR, not the objective
    done = archive(db, "o1", actor="U0CAROL", today=date(2026, 4, 1))
    assert (done.key, done.key_results) == ("O1", ["O1-KR1", "O1-KR2"])
    with pytest.raises(Conflict):
        archive(db, "O1", today=date(2026, 4, 1))
    with pytest.raises(NotFound):
        archive(db, "O404")
    with db.session() as s:
        assert okr_reading.choices(s, TEAM) == [] and okr_reading.search(s, TEAM) == []
        assert s.scalar(sa.select(sa.func.count()).select_from(Okr).where(Okr.archived_at.is_not(None))) == 3


def test_a_key_results_owner_may_archive_it(db: Database) -> None:
    with db.session() as s:
        o1 = f.okr(s, "O1", now=START, period="2025-Q4")
        f.okr(s, "O1-KR1", now=START, parent=o1, owner_id="U0BOB", period="2025-Q4")
    assert archive(db, "O1-KR1", actor="U0BOB").key_results == []


# -- finding ----------------------------------------------------------------------------------------


def test_choices_and_search_leave_out_archived_okrs_and_their_key_results(db: Database) -> None:
    with db.session() as s:
        o1 = f.okr(s, "O1", now=START, title="Grow revenue")
        f.okr(s, "O1-KR1", now=START, parent=o1, title="Deals")
        old = f.okr(s, "O9", now=START, title="Old revenue goal", archived_at=START)
        f.okr(s, "O9-KR1", now=START, parent=old, title="Old deals")
        assert [c.text for c in okr_reading.choices(s, TEAM, "revenue")] == [
            "O1 · Grow revenue",
            "O1-KR1 · Deals",
        ]
        assert [c.text for c in okr_reading.choices(s, TEAM, "100%_")] == []  # LIKE wildcards are literal
        groups = okr_reading.search(s, TEAM, "deals")
        assert [(g.objective.key, [k.key for k in g.key_results]) for g in groups] == [("O1", ["O1-KR1"])]


def test_progress_runs_from_start_to_target_either_way() -> None:
    down = Okr(metric_start=4.0, metric_target=3.0, metric_current=3.6)
    up = Okr(metric_start=0.0, metric_target=20.0, metric_current=6.0)
    assert okr_models.progress(down) == pytest.approx(0.4) and okr_models.progress(up) == pytest.approx(0.3)
    assert okr_models.progress(Okr(metric_target=3.0)) is None


@given(st.text(max_size=60))
def test_okr_commands_never_fail_and_unknown_words_are_a_search(text: str) -> None:
    command = okr_command.parse_command(text)
    first = text.split()[0].lower() if text.split() else ""
    if first not in ("help", "?", "-h", "--help", "add", "archive"):
        assert command == okr_models.OkrCommand(OkrCommandKind.LIST, " ".join(text.split()))


def test_okr_subcommands() -> None:
    assert okr_command.parse_command("") == okr_models.OkrCommand(OkrCommandKind.LIST)
    assert okr_command.parse_command(" HELP ").kind is OkrCommandKind.HELP
    assert okr_command.parse_command("add O1-KR4") == okr_models.OkrCommand(OkrCommandKind.ADD, "O1-KR4")
    assert okr_command.parse_command("archive O1") == okr_models.OkrCommand(OkrCommandKind.ARCHIVE, "O1")
    assert okr_command.parse_command("digest") == okr_models.OkrCommand(OkrCommandKind.LIST, "digest")


def test_planning_an_unchanged_file_changes_nothing(db: Database) -> None:
    with db.session() as s:
        planned = okr_plan.plan(
            s,
            TEAM,
            rows({"key": "O1", "title": "x", "owner": "U0CAROL", "period": "2026"}),
            {"U0CAROL": "U0CAROL"},
            TODAY,
        )
        okr_plan.apply(s, planned, START)
        again = okr_plan.plan(
            s,
            TEAM,
            rows({"key": "O1", "title": "x", "owner": "U0CAROL", "period": "2026"}),
            {"U0CAROL": "U0CAROL"},
            TODAY,
        )
    assert [c.kind for c in again.changes] == [ChangeKind.UNCHANGED]

"""The digest's figures, its rendering (golden files), its templates and its chart."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from matplotlib import image as mpimg

from bot.blockkit.blocks import MESSAGE_BLOCKS, SECTION_LIMIT
from bot.core import calendar
from bot.core.config import WorkspaceSettings
from bot.digest import flows as digest_flows
from bot.digest import models as digest_models
from bot.digest.models import HealthCounts, Pace
from bot.digest.service import build as digest_build
from bot.digest.service import checkpoints as digest_checkpoints
from bot.digest.service import periods as digest_periods
from bot.digest.views import chart
from bot.digest.views import message as views
from storage.db import Database
from storage.models import CheckinStatus, Digest, Health, HealthCheckpoint, Initiative, InitiativeState, Okr
from tests import digest_org
from tests import factories as f
from tests.golden import assert_golden
from tests.slackfake import broadcasts, validate_blocks
from tests.sqlcount import count_statements

TEAM = f.TEAM


def workspace_settings(**overrides: object) -> WorkspaceSettings:
    values: dict[str, object] = {
        "timezone": "Europe/Berlin",
        "digest_channel": "C0DIGEST",
        "governance_channel": "C0GOVERN",
        "triage_leads": ["U0LEAD"],
        "teams": {"Platform": "U0LEAD", "Data": "U0DAN"},
    }
    values.update(overrides)
    return WorkspaceSettings.model_validate(values)


def build(db: Database, settings: WorkspaceSettings | None = None, now: datetime = digest_org.NOW):
    settings = settings or workspace_settings()
    with db.session() as session:
        period = digest_periods.scheduled_period(settings, now)
        assert period is not None
        return digest_build.build(session, TEAM, settings, period)


@pytest.fixture
def org(db: Database) -> Database:
    with db.session() as session:
        digest_org.seed(session)
    return db


def objective(data: digest_models.DigestData, key: str) -> digest_models.ObjectiveDigest:
    (found,) = [o for o in data.objectives if o.key == key]
    return found


# -- the figures -------------------------------------------------------------------------------------


def test_the_period_is_the_week_ending_at_the_slot(org: Database) -> None:
    data = build(org)
    assert data.period.start == digest_org.PERIOD_START and data.period.end == digest_org.PERIOD_END
    assert (data.period.start_date, data.period.end_date) == (date(2026, 2, 27), date(2026, 3, 6))
    assert data.noun == "week" and data.cadence == "weekly on Friday at 16:00"


def test_milestones_met_against_plan(org: Database) -> None:
    data = build(org)
    o1, o2 = objective(data, "O1"), objective(data, "O2")
    # O1: REQ-1 due Wed and done Tue (met), REQ-5 due Thu still open (missed), REQ-7 done early
    assert (o1.milestones.planned, o1.milestones.met, o1.milestones.missed, o1.milestones.early) == (
        2,
        1,
        1,
        1,
    )
    assert [i.key for i in o1.milestones.met_items] == ["REQ-1"]
    assert [(i.key, i.days) for i in o1.milestones.missed_items] == [("REQ-5", 1)]
    # O2: REQ-10 was due the Friday before and is still open: carried over, a week late
    assert (o2.milestones.planned, o2.milestones.met) == (1, 0)
    assert [(i.key, i.days) for i in o2.milestones.missed_items] == [("REQ-10", 7)]
    total = data.milestones
    assert (total.planned, total.met, total.missed, total.early) == (3, 1, 2, 1)


def test_key_results_against_a_straight_line_through_the_okr_period(org: Database) -> None:
    data = build(org)
    krs = {kr.key: kr for kr in data.key_results}
    arr = krs["O1-KR1"]
    # Q1 in Berlin: 1 Jan 00:00 CET to 1 Apr 00:00 CEST; Fri 6 Mar 16:00 is 1552 h into its 2159 h
    assert arr.expected == pytest.approx(1552 / 2159)
    assert arr.expected_value == pytest.approx(100 + 200 * 1552 / 2159)
    assert arr.progress == pytest.approx(0.6) and arr.pace is Pace.BEHIND
    assert arr.delta == pytest.approx(0.1)  # 50% at the last digest
    partners = krs["O1-KR2"]
    assert partners.pace is Pace.AT_TARGET and partners.reached_this_period
    incidents = krs["O2-KR2"]  # a falling metric: 12 -> 4, now 5
    assert incidents.progress == pytest.approx(7 / 8) and incidents.pace is Pace.AHEAD
    assert data.kr_counts == {"measurable": 4, "at_target": 1, "reached": 1, "behind": 2, "on_pace": 1}


def test_a_kr_with_an_unknown_period_shows_no_pace(org: Database) -> None:
    with org.session() as session:
        kr = session.scalars(sa.select(Okr).where(Okr.key == "O1-KR1")).one()
        kr.period = "someday"
        session.get(Okr, kr.parent_id).period = None  # type: ignore[union-attr]
    arr = {kr.key: kr for kr in build(org).key_results}["O1-KR1"]
    assert arr.progress == pytest.approx(0.6)
    assert arr.expected is None and arr.expected_value is None and arr.pace is None


def test_a_kr_without_a_start_is_listed_with_its_value_but_no_progress(org: Database) -> None:
    with org.session() as session:
        kr = session.scalars(sa.select(Okr).where(Okr.key == "O1-KR1")).one()
        kr.metric_start = None
    data = build(org)
    arr = {kr.key: kr for kr in data.key_results}["O1-KR1"]
    assert arr.progress is None and arr.pace is None and arr.current is not None
    text = str([b.to_dict() for b in views.render(data).blocks])
    assert "(no start value, so no progress or pace)" in text and "*O1-KR1*" in text


def test_health_and_what_changed_since_the_last_digest(org: Database) -> None:
    data = build(org)
    o1 = objective(data, "O1")
    assert o1.health == HealthCounts(on_track=2, at_risk=1, blocked=1, unknown=1)
    assert [i.key for i in o1.changes.newly_blocked] == ["REQ-2"]  # was at risk
    assert [i.key for i in o1.changes.newly_at_risk] == ["REQ-3"]
    assert [i.key for i in o1.changes.recovered] == ["REQ-4"]
    assert [i.key for i in o1.changes.done] == ["REQ-1", "REQ-7"]
    assert not objective(data, "O2").changes.any  # REQ-10 was at risk then and is now: no change
    assert data.changes == {"newly_blocked": 1, "newly_at_risk": 1, "recovered": 1, "done": 2}


def test_before_the_first_digest_changes_come_from_the_check_in_history(org: Database) -> None:
    with org.session() as session:
        session.execute(sa.delete(Digest))
    data = build(org)
    o1 = objective(data, "O1")
    assert data.first
    assert [i.key for i in o1.changes.newly_blocked] == ["REQ-2"]
    assert [i.key for i in o1.changes.recovered] == ["REQ-4"]
    assert not objective(data, "O2").changes.newly_at_risk
    partners = {kr.key: kr for kr in data.key_results}["O1-KR2"]
    assert partners.pace is Pace.AT_TARGET and not partners.reached_this_period  # since when? unknown


def test_a_posted_digest_is_what_the_next_one_compares_with(org: Database) -> None:
    """Posting stores on each initiative the health the digest saw. A week later REQ-2, blocked
    then and now, is no news; REQ-11, whose health changed after the digest's moment, still is."""
    with org.session() as session:
        late = session.scalar(sa.select(Initiative).where(Initiative.key == "REQ-11"))
        assert late is not None and late.health == Health.ON_TRACK
        late.health, late.health_since = Health.BLOCKED, digest_org.NOW + timedelta(minutes=1)
    settings = workspace_settings(digest_channel="C0DIGEST")
    assert (
        digest_flows.post_scheduled(org, settings, TEAM, digest_org.NOW).outcome
        == digest_models.Outcome.POSTED
    )
    with org.read() as session:
        seen = dict(session.execute(sa.select(Initiative.key, Initiative.digest_health)).all())
    assert (seen["REQ-2"], seen["REQ-3"], seen["REQ-4"]) == (Health.BLOCKED, Health.AT_RISK, Health.ON_TRACK)
    assert seen["REQ-11"] is None  # changed after the digest's moment: the old snapshot stays
    assert seen["REQ-1"] is None  # done: not active

    week_later = build(org, settings, digest_org.NOW + timedelta(weeks=1))
    assert not objective(week_later, "O1").changes.newly_blocked  # REQ-2: blocked then, blocked now
    assert [i.key for i in objective(week_later, "O2").changes.newly_blocked] == ["REQ-11"]


def test_stalls_escalations_and_decisions(org: Database) -> None:
    data = build(org)
    o1 = objective(data, "O1")
    assert o1.stalls.total == 2 and o1.escalations == 2
    first, second = o1.stalls
    assert (first.waiter_key, first.provider_key, first.level, first.days) == ("REQ-2", "REQ-11", 3, 9)
    assert first.provider_people == ("U0BOB",)
    assert (second.provider_team, second.provider_people, second.level) == ("Data", ("U0DAN",), 1)
    assert not objective(data, "O2").stalls  # REQ-12 waits on REQ-10, but nothing has stalled
    assert data.escalations_level3 == 1
    kinds = [(d.kind, d.key, d.deciders, d.days) for d in data.decisions]
    # the level-3 escalation (2 days at governance), and REQ-8, waiting for triage since before the week
    assert kinds == [("escalation", "REQ-2", ("U0CAROL",), 2), ("triage", "REQ-8", ("U0CAROL",), 14)]


def test_check_in_participation_and_intake(org: Database) -> None:
    data = build(org)
    total = data.participation
    assert (total.answered, total.missed, total.pending, total.snoozed, total.excused) == (4, 3, 1, 1, 1)
    assert total.due == 9 and total.rate == 44
    assert [(m.owner_id, m.count) for m in data.missed_by] == [("U0BOB", 2), ("U0CAROL", 1)]
    o2 = objective(data, "O2")
    assert o2.intake == 2 and o2.intake_by_okr == [("O2-KR2", 2)] and o2.awaiting_triage == 1
    assert data.intake == 3 and data.awaiting_triage == 2


def test_health_over_the_last_eight_weeks_from_the_latest_check_in_each_week(org: Database) -> None:
    data = build(org)
    o1, o2 = objective(data, "O1"), objective(data, "O2")
    assert len(o1.health_weeks) == digest_models.CHART_WEEKS and data.week_ends[-1] == digest_org.PERIOD_END
    assert o1.health_weeks[0] == HealthCounts(on_track=4)  # REQ-1, -2, -4, -5
    assert o1.health_weeks[-1] == HealthCounts(on_track=2, at_risk=1, blocked=1)  # REQ-1 and -7 done
    assert o2.health_weeks[-2] == HealthCounts(on_track=1, at_risk=2)


def test_an_archived_objective_and_an_empty_one(org: Database) -> None:
    data = build(org)
    assert [o.key for o in data.objectives] == ["O1", "O2", "O3"]  # by priority; O4 was archived
    empty = objective(data, "O3")
    assert empty.quiet and not empty.key_results and empty.health_weeks == [HealthCounts()] * 8
    assert data.health.blocked == 1  # the archived objective's blocked initiative is not counted


# -- the message ---------------------------------------------------------------------------------------


def test_golden_digest_of_the_seeded_organisation(org: Database) -> None:
    rendered = views.render(build(org))
    validate_blocks([b.to_dict() for b in rendered.blocks], MESSAGE_BLOCKS)
    assert_golden("digest_seeded.txt", views.as_text(rendered.blocks))
    assert_golden("digest_seeded.notification.txt", rendered.text + "\n")


def test_golden_digest_of_an_empty_week(db: Database) -> None:
    with db.session() as session:
        o1 = f.okr(session, "O1", now=digest_org.at(1, month=1), title="Grow revenue", priority=5)
        f.okr(
            session,
            "O1-KR1",
            now=digest_org.at(1, month=1),
            parent=o1,
            title="ARR",
            metric_start=0,
            metric_target=100,
            metric_current=80,
        )
        f.okr(session, "O2", now=digest_org.at(1, month=1), title="Hire well")
    rendered = views.render(build(db))
    data_text = views.as_text(rendered.blocks)
    assert "A quiet week." in data_text
    assert_golden("digest_empty_week.txt", data_text)


def test_a_workspace_without_okrs_says_so(db: Database) -> None:
    text = views.as_text(views.render(build(db)).blocks)
    assert "*No OKRs yet.*" in text


def test_user_text_is_escaped_and_cannot_broadcast(org: Database) -> None:
    rendered = views.render(build(org))
    texts = [b.to_dict()["text"]["text"] for b in rendered.blocks if b.to_dict()["type"] == "section"]
    assert broadcasts(texts) == []
    joined = "\n".join(texts)
    assert "Payment gateway &lt;!channel&gt; migration" in joined
    assert "Checkout in German &amp; French" in joined
    # the mrkdwn we mean survives: mentions, channel links, the OKR's link
    assert "<@U0CAROL>" in joined and "<#C0GOVERN>" in joined
    assert "<https://okr.example.com/o1|Grow revenue in EMEA>" in joined


def test_the_terminal_text_reads_as_plain_text(org: Database) -> None:
    text = views.as_text(views.render(build(org)).blocks, terminal=True)
    assert "Payment gateway <!channel> migration" in text
    assert "Checkout in German & French" in text
    assert "@U0CAROL" in text and "Grow revenue in EMEA (https://okr.example.com/o1)" in text


def test_fit_cuts_at_a_line_with_a_pointer() -> None:
    text = "\n".join(f"• line {i} <@U0ALICE> &amp; more" for i in range(400))
    cut = views.fit(text, pointer="`/initiative okr O1`")
    assert len(cut) <= SECTION_LIMIT
    assert cut.endswith("_… cut short: `/initiative okr O1` shows the rest_")
    assert all(line.startswith("• line") for line in cut.split("\n")[:-1])
    one_line = "x" * 2990 + " <@U0ALICE> &amp; tail" * 3
    cut = views.fit(one_line)
    assert len(cut) <= SECTION_LIMIT and "<@U0A" not in cut.split("\n")[0][-12:]


# -- templates --------------------------------------------------------------------------------------


def test_an_override_template_replaces_a_packaged_one_and_is_escaped(org: Database, tmp_path: Path) -> None:
    (tmp_path / "digest").mkdir()
    (tmp_path / "digest" / "objective.md.j2").write_text(
        "{{ objective.key }}: {{ objective.title }} by {{ objective.owner_id|user }}"
        "{% for i in objective.changes.newly_blocked %} [{{ i.title }}]{% endfor %}"
    )
    (tmp_path / "digest" / "header.txt.j2").write_text("Strategy & progress, {{ period.end|day }}")
    rendered = views.render(build(org), tmp_path)
    dicts = [b.to_dict() for b in rendered.blocks]
    assert dicts[0]["text"]["text"] == "Strategy & progress, Fri 6 Mar"  # plain text: not escaped
    objectives = [
        d["text"]["text"] for d in dicts if str(d.get("block_id", "")).startswith("digest_objective")
    ]
    assert (
        objectives[0] == "O1: Grow revenue in EMEA by <@U0CAROL> [Payment gateway &lt;!channel&gt; migration]"
    )
    # the templates not overridden are the packaged ones
    assert any("Decisions needed" in d.get("text", {}).get("text", "") for d in dicts)


def test_a_broken_or_unsafe_override_falls_back_to_the_packaged_template(
    org: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "digest").mkdir()
    (tmp_path / "digest" / "overview.md.j2").write_text("{{ digest.no_such_figure }}")
    (tmp_path / "digest" / "decisions.md.j2").write_text(
        "{{ digest.__class__.__init__.__globals__ }}{{ ''.__class__.__mro__ }}"
    )
    (tmp_path / "digest" / "footer.md.j2").write_text("{{ digest.intake / 0 }}")
    with caplog.at_level(logging.ERROR, logger="bot.digest.views.message"):
        rendered = views.render(build(org), tmp_path)
    text = views.as_text(rendered.blocks)
    assert "This week at a glance" in text and "Decisions needed (2)" in text
    assert "__globals__" not in text and "mro" not in text
    failed = {r.args[0] for r in caplog.records}
    assert failed == {"digest/overview.md.j2", "digest/decisions.md.j2", "digest/footer.md.j2"}


def test_overrides_that_render_nothing_leave_their_block_out(org: Database, tmp_path: Path) -> None:
    (tmp_path / "digest").mkdir()
    for name in ("header.txt.j2", "intro.md.j2", "overview.md.j2", "decisions.md.j2", "footer.md.j2"):
        (tmp_path / "digest" / name).write_text("{# nothing #}\n")
    rendered = views.render(build(org), tmp_path)
    dicts = [b.to_dict() for b in rendered.blocks]
    validate_blocks(dicts, MESSAGE_BLOCKS)
    assert dicts[0]["text"]["text"] == "Leadership digest"
    assert [d["type"] for d in dicts] == ["header", "divider", "section", "section", "section"]


def test_the_template_dir_setting_is_read_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    from bot.core.config import load_settings

    monkeypatch.setenv("THROUGHLINE_TEMPLATE_DIR", str(tmp_path))
    assert load_settings().template_dir == tmp_path


# -- the chart ----------------------------------------------------------------------------------------


def cancel(db: Database, key: str) -> None:
    with db.session() as session:
        session.scalars(
            sa.select(Initiative).where(Initiative.key == key)
        ).one().state = InitiativeState.CANCELLED


def test_the_chart_reads_the_stored_checkpoints_and_later_changes_do_not_rewrite_them(org: Database) -> None:
    settings = workspace_settings()
    replayed = build(org)
    assert (
        digest_checkpoints.take_checkpoints(org, TEAM, settings, digest_org.NOW) == digest_models.CHART_WEEKS
    )
    assert (
        digest_checkpoints.take_checkpoints(org, TEAM, settings, digest_org.NOW) == 0
    )  # each is stored once

    with count_statements(org.engine) as seen:
        stored = build(org)
    assert [o.health_weeks for o in stored.objectives] == [o.health_weeks for o in replayed.objectives]
    assert not [sql for sql in seen.reads() if "checkin_update" in sql and "lead(" in sql]  # no replay

    cancel(org, "REQ-4")  # on track in every past week of O1
    o1 = objective(build(org), "O1")
    assert o1.health_weeks[0] == HealthCounts(on_track=4)  # what that week was: REQ-1, -2, -4, -5
    assert o1.health_weeks[-1] == HealthCounts(on_track=2, at_risk=1, blocked=1)  # stored at the slot
    with org.session() as session:  # a replay of the history would have dropped it from every week
        session.execute(sa.delete(HealthCheckpoint))
    assert objective(build(org), "O1").health_weeks[0] == HealthCounts(on_track=3)


def test_a_preview_charts_the_past_weeks_from_checkpoints_and_now_from_the_live_counts(
    org: Database,
) -> None:
    settings = workspace_settings()
    wednesday = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
    digest_checkpoints.take_checkpoints(org, TEAM, settings, wednesday)
    with org.session() as session:
        data = digest_build.preview(session, TEAM, settings, wednesday)
    # the past seven Fridays at 16:00 in Berlin (15:00 UTC), then now
    assert data.week_ends[0] == datetime(2026, 1, 23, 15, 0, tzinfo=UTC)
    assert data.week_ends[-2:] == [digest_org.PERIOD_END, wednesday]
    o1 = objective(data, "O1")
    assert o1.health == HealthCounts(on_track=2, at_risk=1, blocked=1, unknown=1)  # REQ-6: no answer yet
    assert o1.health_weeks[-1] == HealthCounts(on_track=2, at_risk=1, blocked=1)
    assert o1.health_weeks[-2] == HealthCounts(on_track=2, at_risk=1, blocked=1)  # the Friday checkpoint


def test_the_charts_weekly_grid_keeps_the_local_time_across_summer_time() -> None:
    settings = workspace_settings()  # weekly:fri@16:00, Europe/Berlin; summer time from 29 March 2026
    grid = digest_periods.chart_grid(settings, datetime(2026, 4, 10, 14, 0, tzinfo=UTC), 4, inclusive=True)
    assert grid == [
        datetime(2026, 3, 20, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 27, 15, 0, tzinfo=UTC),
        datetime(2026, 4, 3, 14, 0, tzinfo=UTC),
        datetime(2026, 4, 10, 14, 0, tzinfo=UTC),
    ]
    assert digest_periods.chart_grid(
        settings, datetime(2026, 4, 10, 14, 0, tzinfo=UTC), 1, inclusive=False
    ) == [datetime(2026, 4, 3, 14, 0, tzinfo=UTC)]
    monthly = workspace_settings(digest_schedule="monthly:mon@09:00")  # the grid is weekly all the same
    assert digest_periods.chart_grid(monthly, datetime(2026, 3, 4, 12, 0, tzinfo=UTC), 2, inclusive=True) == [
        datetime(2026, 2, 23, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    ]


def test_the_chart_is_a_valid_png(org: Database) -> None:
    data = build(org)
    png = chart.render(data)
    assert png.startswith(chart.PNG_MAGIC)
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    assert width == 1200 and height > 400
    assert chart.title(data) == "Health and pace, week to 6 Mar 2026"


def test_the_chart_copes_with_no_data_and_with_awkward_titles(db: Database) -> None:
    assert chart.render(build(db)).startswith(chart.PNG_MAGIC)  # no objectives at all
    with db.session() as session:
        o1 = f.okr(session, "O1", now=digest_org.at(1, month=1), title="Save $5 and $10 🚀 <!here>")
        f.okr(
            session,
            "O1-KR1",
            now=digest_org.at(1, month=1),
            parent=o1,
            title="Cost $ per user 💸",
            metric_start=10,
            metric_target=5,
            metric_current=12,
        )
    png = chart.render(build(db))
    assert mpimg.imread(io.BytesIO(png), format="png").shape[1] == 1200


# -- statements -----------------------------------------------------------------------------------------


def test_the_digest_is_a_fixed_number_of_statements(org: Database) -> None:
    from tests.sqlcount import count_statements

    settings = workspace_settings()
    period = digest_periods.scheduled_period(settings, digest_org.NOW)
    assert period is not None
    with org.session() as session, count_statements(org.engine) as small:
        digest_build.build(session, TEAM, settings, period)
    with org.session() as session:  # many more rows of every kind
        okr = session.scalars(sa.select(Okr).where(Okr.key == "O2-KR1")).one()
        for n in range(100, 160):
            row = f.initiative(session, okr, now=digest_org.at(2), number=n, health=Health.AT_RISK)
            f.checkin_update(session, row, at=digest_org.at(2), health=Health.AT_RISK)
            f.checkin(session, row, slot_at=digest_org.at(3), status=CheckinStatus.MISSED)
            f.dependency(
                session, row, now=digest_org.at(2), provider_team="Data", stalled_since=digest_org.at(3)
            )
    with org.session() as session, count_statements(org.engine) as large:
        digest_build.build(session, TEAM, settings, period)
    assert large.count == small.count
    assert small.count <= 12


def test_period_of_a_preview_is_the_week_so_far() -> None:
    settings = workspace_settings()
    wednesday = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    period = digest_periods.preview_period(settings, wednesday)
    assert period.in_progress and period.start == digest_org.PERIOD_START and period.end == wednesday
    at_the_slot = digest_periods.preview_period(settings, digest_org.PERIOD_END)
    assert at_the_slot.start == digest_org.PERIOD_START  # exactly at the slot: the whole week
    assert digest_periods.next_digest_at(settings, wednesday) == digest_org.PERIOD_END
    assert digest_periods.scheduled_period(settings, wednesday) == digest_models.ReportingPeriod(
        digest_org.PERIOD_START - timedelta(weeks=1), digest_org.PERIOD_START, "Europe/Berlin"
    )


def test_a_digest_due_on_a_public_holiday_posts_on_the_next_working_day() -> None:
    settings = workspace_settings(holidays="DE-BE")  # Good Friday: 3 April 2026
    berlin = calendar.zone("Europe/Berlin")
    easter_monday = datetime(2026, 4, 6, 16, 0, tzinfo=berlin)  # a holiday too
    after = datetime(2026, 4, 7, 16, 0, tzinfo=berlin)
    assert digest_periods.next_digest_at(settings, datetime(2026, 3, 28, tzinfo=UTC)) == after
    period = digest_periods.scheduled_period(settings, after)
    assert period is not None
    assert period.start == datetime(2026, 3, 27, 16, 0, tzinfo=berlin) and period.end == after
    assert digest_periods.scheduled_period(settings, easter_monday) == digest_periods.scheduled_period(
        settings, datetime(2026, 3, 27, 16, 0, tzinfo=berlin)
    )


def test_a_stall_that_began_today_reads_since_today_not_zero_days(db: Database) -> None:
    with db.session() as session:
        o1 = f.okr(session, "O1", now=digest_org.at(1, month=1), title="Grow revenue", priority=5)
        waiter = f.initiative(session, o1, now=digest_org.at(2), number=1, health=Health.ON_TRACK)
        f.dependency(
            session,
            waiter,
            now=digest_org.at(2),
            provider_team="Data",
            stalled_since=digest_org.NOW - timedelta(hours=3),
            stall_reason="no check-in on the data export",
        )
    text = views.as_text(views.render(build(db)).blocks)
    assert "stalled since today" in text
    assert "the oldest" not in text and "Stalled:* 1 dependency, since today" in text
    assert "0 days" not in text

"""The playground's demo company, seeded into the test database and met through the real app: the
status cards and "your work" read right, the dependency about to stall reaches level 1 a day later,
Friday's digest names the objectives with its chart, and Monday's check-ins go out in each zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core.calendar import Cadence, next_slot, zone
from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.playground import seed as playground
from bot.playground.seed import CAST, CHANNELS, Demo
from storage.db import Database
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    DependencyState,
    Event,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
    Person,
    Workspace,
)
from tests.conftest import SIGNING_SECRET, Rig
from tests.ladder import ladder_dms
from tests.slackfake import BOT_TOKEN, TEAM_ID, FakeSlack, visible_text

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # Tuesday 10 March, 10:30 in Berlin
BERLIN = zone("Europe/Berlin")
DIGEST = CHANNELS["digest"].id
DIEGO, AMELIA, MARCUS, PRIYA, SAM, LENA = "U0DIEGO", "U0AMELIA", "U0MARCUS", "U0PRIYA", "U0SAM", "U0LENA"


@pytest.fixture
def demo_settings(fake: FakeSlack, database_url: str) -> Settings:
    for m in CAST:
        fake.add_user(m.user_id, m.name, tz=m.tz, email=f"{m.name}@fernhill.example")
    for channel in CHANNELS.values():
        fake.add_channel(channel.id, channel.name)
    return playground.settings(
        database_url, fake.url, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, slack_post_rate=1000
    )


@pytest.fixture
def demo(db: Database, demo_settings: Settings) -> Demo:
    return playground.seed(db, demo_settings.workspace_defaults(), TEAM_ID, NOW)


@pytest.fixture
def world(demo: Demo, demo_settings: Settings, fake: FakeSlack) -> Iterator[Rig]:
    rig = Rig(demo_settings, fake, FixedClock(NOW))
    yield rig
    rig.close()


def ask(rig: Rig, text: str, user: str) -> str:
    reply = rig.slack.command("/initiative", text, user=user, channel=CHANNELS["general"].id)
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return visible_text({"blocks": body.get("blocks"), "text": body.get("text")})


# -- what was written ------------------------------------------------------------------------------


def test_the_seed_writes_a_whole_company_and_no_messages(db: Database, demo: Demo) -> None:
    with db.session() as s:
        items = list(s.scalars(sa.select(Initiative).order_by(Initiative.number)))
        workspace = s.scalars(sa.select(Workspace)).one()
        assert [i.key for i in items] == [f"REQ-{n}" for n in range(1, 16)]
        assert workspace.next_request_number == 16 and workspace.created_at == NOW
        assert {i.state for i in items} == set(InitiativeState)
        active = [i for i in items if i.state is InitiativeState.ACTIVE]
        assert {i.health for i in active} == set(Health)
        assert all(i.next_checkin_at is not None and i.next_checkin_at > NOW for i in active)
        assert sum(i.consecutive_misses for i in active) >= 1
        for item in items:
            if item.state in (InitiativeState.DONE, InitiativeState.CANCELLED, InitiativeState.DECLINED):
                assert item.next_checkin_at is None and item.decided_at is not None
        assert all(i.done_at for i in items if i.state is InitiativeState.DONE)
        assert all(i.decline_reason and i.decided_by for i in items if i.state is InitiativeState.DECLINED)
        # 6-8 weeks of check-ins, a few missed, one still waiting; every answer after its slot
        statuses = [c.status for c in s.scalars(sa.select(Checkin))]
        assert statuses.count(CheckinStatus.MISSED) >= 2 and statuses.count(CheckinStatus.PENDING) == 1
        first = s.scalar(sa.select(sa.func.min(Checkin.slot_at)))
        assert first is not None and timedelta(weeks=6) <= NOW - first <= timedelta(weeks=8)
        for update, checkin in s.execute(
            sa.select(CheckinUpdate, Checkin).join(Checkin, Checkin.id == CheckinUpdate.checkin_id)
        ):
            assert checkin.slot_at < update.created_at < NOW
        assert (
            s.scalar(
                sa.select(sa.func.count())
                .select_from(CheckinUpdate)
                .where(CheckinUpdate.metric_value.is_not(None))
            )
            > 10
        )
        assert {d.state for d in s.scalars(sa.select(Dependency))} == {
            DependencyState.MET,
            DependencyState.OPEN,
        }
        periods = {o.period for o in s.scalars(sa.select(Okr))}
        assert periods == {"2026-Q1"}
        kinds = set(s.scalars(sa.select(Event.kind)))
        assert {
            "request.submitted",
            "request.accepted",
            "request.declined",
            "checkin.asked",
            "checkin.answered",
            "checkin.missed",
            "health.changed",
            "dependency.added",
            "dependency.met",
            "initiative.done",
            "initiative.cancelled",
            "okr.metric_updated",
        } <= kinds
        assert all(p.profile_fetched_at == NOW for p in s.scalars(sa.select(Person)))
        assert s.scalar(sa.select(sa.func.count()).select_from(Outbox)) == 0
    assert demo.triage_key == "REQ-14"
    assert (demo.stall_waiter_key, demo.stall_provider_key) == ("REQ-6", "REQ-3")


def test_the_seed_refuses_a_workspace_that_has_data(
    db: Database, demo: Demo, demo_settings: Settings
) -> None:
    with pytest.raises(ValueError, match="already has OKRs or requests"):
        playground.seed(db, demo_settings.workspace_defaults(), TEAM_ID, NOW)


@pytest.mark.parametrize(
    ("now", "stall_at"),
    [
        # Tuesday 10:30 Berlin: blocked since Friday 09:30, stalls Wednesday 09:30
        (NOW, datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        # Friday: the next working day is Monday
        (datetime(2026, 3, 13, 12, 0, tzinfo=UTC), datetime(2026, 3, 16, 11, 0, tzinfo=UTC)),
        # across the change to summer time (29 March): the same wall time in Berlin
        (datetime(2026, 3, 27, 9, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_stall_is_crossed_just_under_a_day_later(
    demo_settings: Settings, now: datetime, stall_at: datetime
) -> None:
    workspace = demo_settings.workspace_defaults()
    since, at = playground.stall_window(workspace, now)
    assert at == stall_at and since < now < at
    calendar = workspace.calendar()
    assert calendar.add_working_days(since, workspace.stall_blocked_days, BERLIN) == at


# -- what people see -----------------------------------------------------------------------------


STATE_WORDS = {
    InitiativeState.PROPOSED: "waiting for triage",
    InitiativeState.ACTIVE: "active",
    InitiativeState.DONE: "done",
    InitiativeState.DECLINED: "declined",
    InitiativeState.CANCELLED: "cancelled",
}
HEALTH_WORDS = {Health.ON_TRACK: "on track", Health.AT_RISK: "at risk", Health.BLOCKED: "blocked"}


def test_every_status_card_shows_its_state_health_and_owner(world: Rig, demo: Demo) -> None:
    for item in demo.initiatives:
        card = ask(world, item.key, user=SAM)
        assert f"{item.key} · {item.title}" in card
        assert f"*State*\n{STATE_WORDS[item.state]}" in card
        if item.owner_id:
            assert f"*Owner*\n<@{item.owner_id}>" in card
        if item.health:
            assert "*Health*\n" in card and HEALTH_WORDS[item.health] in card.split("*Health*")[1]


def test_the_stalling_provider_reads_blocked_with_its_story(world: Rig, demo: Demo) -> None:
    card = ask(world, demo.stall_provider_key, user=DIEGO)
    assert ":red_circle: blocked since Fri 06 Mar 2026" in card
    assert "*Owner*\n<@U0AMELIA>" in card
    assert "the contract amendment" in card  # the blocker of the last check-in
    assert "*Waited on by*\n:large_green_circle: *REQ-6* Partner API for resellers · on track" in card
    # Diego in Los Angeles reads Amelia's Monday 09:00 London check-in in his own time
    assert "*Next check-in*\nMon 16 Mar 2026 02:00" in card


def test_the_request_waiting_for_triage_and_the_decided_ones(world: Rig, demo: Demo) -> None:
    card = ask(world, demo.triage_key, user=LENA)
    assert "*State*\nwaiting for triage" in card and "nobody yet (waiting for triage)" in card
    declined = ask(world, "REQ-12", user=SAM)
    assert "*Declined* by <@U0LENA>: No OKR this quarter is about churn" in declined
    done = ask(world, "REQ-2", user=MARCUS)
    assert "*State*\ndone" in done and ":white_check_mark: done" in done
    queue = ask(world, "queue", user=LENA)
    assert queue.index("REQ-14") < queue.index("REQ-15")  # highest strategic weight first


def test_an_owner_sees_their_work(world: Rig) -> None:
    mine = ask(world, "", user=PRIYA)
    assert "*Check-ins due from you*\n:memo: *REQ-8* Self-serve SQL sandbox for analysts" in mine
    assert (
        "*You own*\n:large_yellow_circle: *REQ-7* Revenue dashboard everyone trusts · O3-KR1\n"
        ":large_green_circle: *REQ-8* Self-serve SQL sandbox for analysts · O3-KR2"
    ) in mine
    mine = ask(world, "", user=MARCUS)
    assert (
        "*You own*\n:red_circle: *REQ-11* Apple Pay and Google Pay at checkout · O1-KR2\n"
        ":large_green_circle: *REQ-1* Self-serve refunds in the billing portal · O1-KR1"
    ) in mine
    assert (
        "*Waiting on you*\n:large_yellow_circle: *REQ-7* Revenue dashboard everyone trusts (<@U0PRIYA>) "
        "waits on you: a daily export of refunds and chargebacks"
    ) in mine


def test_a_day_later_the_stall_reaches_both_owners(world: Rig, demo: Demo) -> None:
    world.tick(NOW)
    world.tick(demo.stall_at)  # crossed only after the instant
    assert ladder_dms(world.fake, DIEGO) == [] and ladder_dms(world.fake, AMELIA) == []
    world.tick(NOW + timedelta(days=1))
    stalled = f":warning: {demo.stall_waiter_key} waits on {demo.stall_provider_key}, and it has stalled: "
    reason = f"{demo.stall_provider_key} has been blocked since Fri 06 Mar 2026"
    for user in (DIEGO, AMELIA):
        (dm,) = ladder_dms(world.fake, user)
        assert dm.text == stalled + reason
        assert "A dependency has stalled" in dm.visible
    assert world.fake.posts(CHANNELS["governance"].id) == []
    # nobody else hears of it at level 1
    assert all(ladder_dms(world.fake, m.user_id) == [] for m in CAST if m.user_id not in (DIEGO, AMELIA))


def test_fridays_digest_names_the_objectives_with_its_chart(world: Rig) -> None:
    friday = datetime(2026, 3, 13, 16, 0, tzinfo=BERLIN).astimezone(UTC)
    world.tick(NOW)
    world.tick(friday - timedelta(minutes=1))
    assert world.fake.posts(DIGEST) == []
    report = world.tick(friday)
    assert report.counts["digest"] == {"posted": 1}
    (message,) = world.fake.posts(DIGEST)
    assert "Milestones missed: *REQ-11* Apple Pay and Google Pay at checkout" in message.visible
    for title in (
        "Make paying us effortless",
        "Run a platform nobody has to think about",
        "Decide with data, not anecdotes",
    ):
        assert title in message.visible
    (upload,) = world.fake.files.values()
    assert upload["completed"] and upload["channel"] == DIGEST and upload["thread_ts"] == message.ts
    assert upload["content"].startswith(b"\x89PNG")


@pytest.mark.parametrize("owner", [MARCUS, PRIYA, AMELIA, DIEGO])
def test_monday_nine_in_each_owners_zone_brings_their_check_in(world: Rig, owner: str) -> None:
    tz = zone(next(m.tz for m in CAST if m.user_id == owner))
    monday = next_slot(Cadence.parse("weekly:mon@09:00"), NOW, tz, world.services.defaults.calendar())
    assert monday.astimezone(tz).strftime("%a %H:%M") == "Mon 09:00"
    with world.db.session() as s:
        keys = set(
            s.scalars(
                sa.select(Initiative.key).where(
                    Initiative.owner_id == owner, Initiative.next_checkin_at == monday
                )
            )
        )
    assert keys
    world.tick(monday - timedelta(minutes=1))
    before = checkin_dms(world.fake, owner)
    world.tick(monday)
    (dm,) = checkin_dms(world.fake, owner)[len(before) :]
    assert all(key in dm.visible for key in keys)


def checkin_dms(fake: FakeSlack, user_id: str) -> list[Any]:
    return [m for m in fake.dms(user_id) if m not in ladder_dms(fake, user_id)]


def test_an_operators_own_settings_never_leak_into_the_demo(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    # someone trying the demo on the machine where production runs: its environment names other
    # channels, a slower ladder and its own templates
    monkeypatch.setenv("THROUGHLINE_ESCALATE_LEVEL2_DAYS", "4")
    monkeypatch.setenv("THROUGHLINE_ESCALATE_LEVEL3_DAYS", "9")
    monkeypatch.setenv("THROUGHLINE_TRIAGE_CHANNEL", "C0PRODTRIAGE")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-production")
    shown = playground.settings(database_url, "http://127.0.0.1:1/api/")
    assert (shown.escalate_level2_days, shown.escalate_level3_days) == (2, 5)
    assert shown.triage_channel == CHANNELS["triage"].id
    assert shown.slack_app_token is None

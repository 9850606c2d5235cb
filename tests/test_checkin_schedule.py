"""Nudges on a cadence, through the tick: 09:00 in the owner's own zone across DST changes, off
weekends and the workspace's holidays, once per owner and slot, the latest only after downtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.app.tick import tick
from bot.core.config import Settings
from storage.models import CheckinStatus, Initiative, InitiativeState, Person
from tests import factories as f
from tests.checkin_support import checkin_rows, initiative, key_of, local, nudges, post_count, reminders, seed
from tests.conftest import START, Rig, make_settings
from tests.slackfake import FakeSlack

OWNERS = {"U0ALICE": "Europe/Berlin", "U0BOB": "America/Los_Angeles", "U0CAROL": "Asia/Kolkata"}


@pytest.fixture
def settings(fake: FakeSlack, database_url: str) -> Settings:
    # Berlin's public holidays: Good Friday 2026-04-03 and Easter Monday 2026-04-06 are closed
    return make_settings(fake, database_url, holidays="DE-BE")


def slot_of(key: str) -> datetime:
    """The slot a nudge's key names: `checkin:U0ALICE:2026-03-02T08:00Z`."""
    return datetime.strptime(key.split(":", 2)[2], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def test_owners_in_three_zones_are_nudged_at_nine_their_time_across_dst_and_holidays(rig: Rig) -> None:
    for owner in OWNERS:
        seed(rig.db, rig.services.defaults, owner=owner)

    # Mondays around the US (8 March) and EU (29 March) spring changes, Easter Monday (a Berlin
    # holiday: the slot moves to Tuesday), then the EU (25 October) and US (1 November) autumn ones.
    spring = [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]
    autumn = [date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)]
    expected: dict[str, list[date]] = {owner: [*spring, date(2026, 4, 7), *autumn] for owner in OWNERS}
    expected["U0CAROL"].remove(date(2026, 3, 2))  # seeded at 12:30 in Kolkata: first asked a week later
    days = [*spring, date(2026, 4, 6), date(2026, 4, 7), *autumn]

    def instants(days: list[date]) -> list[datetime]:
        found = set()
        for day in days:
            for zone in OWNERS.values():
                for hour, minute in ((8, 0), (8, 59), (9, 0), (10, 0)):
                    found.add(local(zone, day.year, day.month, day.day, hour, minute))
        return sorted(found)

    first_seen: dict[str, datetime] = {}

    def run(at: datetime) -> None:
        rig.tick(at)
        for owner in OWNERS:
            for message in nudges(rig.fake, owner):
                first_seen.setdefault(key_of(message), at)

    for at in instants(days[:7]):
        run(at)
        if at.astimezone(UTC).minute in (0, 30):
            run(at)  # the same tick again sends nothing more

    # five months without a tick: one nudge per owner, for the latest slot only (12 October)
    seen_before = set(first_seen)
    downtime = datetime(2026, 10, 17, 12, 0, tzinfo=UTC)
    run(downtime)
    caught_up = {key: at for key, at in first_seen.items() if key not in seen_before}
    assert sorted(caught_up) == sorted(
        f"checkin:{owner}:{local(zone, 2026, 10, 12).strftime('%Y-%m-%dT%H:%MZ')}"
        for owner, zone in OWNERS.items()
    )

    for at in instants(days[7:]):
        run(at)

    for owner, zone in OWNERS.items():
        mine = {
            k: v for k, v in first_seen.items() if k.startswith(f"checkin:{owner}:") and k not in caught_up
        }
        assert sorted(slot_of(k) for k in mine) == [
            local(zone, d.year, d.month, d.day) for d in expected[owner]
        ]
        for key, at in mine.items():
            assert at == slot_of(key), f"{key} was sent at {at}, not at its slot"
            assert at.astimezone(ZoneInfo(zone)).time() == time(9)
        # once: every slot is one chat.postMessage, however many ticks ran
        assert len(nudges(rig.fake, owner)) == len(mine) + 1
    # the UTC hour moves with each zone's own change, never with another's
    assert local("America/Los_Angeles", 2026, 3, 2) == datetime(2026, 3, 2, 17, tzinfo=UTC)
    assert first_seen["checkin:U0BOB:2026-03-09T16:00Z"] == datetime(2026, 3, 9, 16, tzinfo=UTC)
    assert first_seen["checkin:U0ALICE:2026-03-23T08:00Z"] == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert first_seen["checkin:U0ALICE:2026-03-30T07:00Z"] == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert first_seen["checkin:U0ALICE:2026-10-26T08:00Z"] == datetime(2026, 10, 26, 8, tzinfo=UTC)
    assert first_seen["checkin:U0BOB:2026-10-26T16:00Z"] == datetime(2026, 10, 26, 16, tzinfo=UTC)
    assert first_seen["checkin:U0BOB:2026-11-02T17:00Z"] == datetime(2026, 11, 2, 17, tzinfo=UTC)
    assert first_seen["checkin:U0CAROL:2026-03-09T03:30Z"] == datetime(2026, 3, 9, 3, 30, tzinfo=UTC)


def test_workdays_skip_the_weekend_and_easter(rig: Rig) -> None:
    key = seed(
        rig.db,
        rig.services.defaults,
        owner="U0ALICE",
        cadence="workdays@09:00",
        now=local("Europe/Berlin", 2026, 4, 1, 12),
    )
    for day in range(2, 9):
        rig.tick(local("Europe/Berlin", 2026, 4, day, 9))
    asked = [
        slot_of(key_of(m)).astimezone(ZoneInfo("Europe/Berlin")).date() for m in nudges(rig.fake, "U0ALICE")
    ]
    # Good Friday (3rd), the weekend and Easter Monday (6th) are closed in Berlin
    assert asked == [date(2026, 4, 2), date(2026, 4, 7), date(2026, 4, 8)]
    assert [c.status for c in checkin_rows(rig.db, key)] == [
        CheckinStatus.MISSED,
        CheckinStatus.MISSED,
        CheckinStatus.PENDING,
    ]


def test_after_downtime_only_the_latest_slot_is_asked_and_the_old_one_missed_once(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(local("Europe/Berlin", 2026, 3, 2, 9))
    rig.tick(local("Europe/Berlin", 2026, 3, 25, 14))  # three Mondays later

    messages = nudges(rig.fake, "U0ALICE")
    assert [slot_of(key_of(m)) for m in messages] == [
        local("Europe/Berlin", 2026, 3, 2),
        local("Europe/Berlin", 2026, 3, 23),
    ]
    rows = checkin_rows(rig.db, key)
    assert [(r.slot_at, r.status) for r in rows] == [
        (local("Europe/Berlin", 2026, 3, 2), CheckinStatus.MISSED),
        (local("Europe/Berlin", 2026, 3, 23), CheckinStatus.PENDING),
    ]
    assert initiative(rig.db, key).consecutive_misses == 1
    assert initiative(rig.db, key).next_checkin_at == local("Europe/Berlin", 2026, 3, 30)
    # the first DM now says it was missed, and offers no stale buttons
    assert "Missed" in messages[0].visible and "On track" not in messages[0].visible


def test_several_initiatives_due_at_once_share_one_dm(rig: Rig) -> None:
    keys = [
        seed(rig.db, rig.services.defaults, owner="U0ALICE", title="Checkout revamp"),
        seed(rig.db, rig.services.defaults, owner="U0ALICE", title="Search <ranking>"),
        seed(rig.db, rig.services.defaults, owner="U0ALICE", title="Daily one", cadence="workdays@09:00"),
    ]
    rig.tick(local("Europe/Berlin", 2026, 3, 2, 9))
    (monday,) = nudges(rig.fake, "U0ALICE")
    for key in keys:
        assert key in monday.visible
    assert "Search &lt;ranking&gt;" in monday.visible
    assert monday.text.startswith("Check-in: how are ")

    rig.tick(local("Europe/Berlin", 2026, 3, 3, 9))
    tuesday = nudges(rig.fake, "U0ALICE")[1]
    assert keys[2] in tuesday.visible and keys[0] not in tuesday.visible
    # Tuesday 09:00 is also 24 working hours after Monday's nudge: one reminder for the two still open
    (reminder,) = reminders(rig.fake, "U0ALICE")
    assert reminder.text == f"Reminder: how are {keys[0]} and {keys[1]} going?"
    assert "Missed" in nudges(rig.fake, "U0ALICE")[0].visible  # the daily one, on Monday's DM
    assert post_count(rig.fake, "U0ALICE") == 3


def test_the_same_tick_twice_sends_once(rig: Rig) -> None:
    for owner in OWNERS:
        seed(rig.db, rig.services.defaults, owner=owner)
        seed(rig.db, rig.services.defaults, owner=owner)
    at = datetime(2026, 3, 9, 18, tzinfo=UTC)  # after 09:00 in all three zones
    rig.tick(at)
    rig.tick(at)
    for owner in OWNERS:
        assert post_count(rig.fake, owner) == 1


def test_a_crash_after_enqueueing_never_sends_the_slot_twice(rig: Rig, settings: Settings) -> None:
    from bot.app.runtime import Runtime

    seed(rig.db, rig.services.defaults, owner="U0ALICE")
    at = local("Europe/Berlin", 2026, 3, 2, 9)
    rig.clock.set(at)
    report = tick(rig.services, at)  # enqueued, then the process dies before delivering
    assert report.counts["checkins"] == {"asked": 1, "messages": 1}
    assert rig.fake.calls_to("chat.postMessage") == []

    restarted = Runtime(settings, clock=rig.clock)
    try:
        restarted.tick(at)
        restarted.tick(at + timedelta(minutes=1))
    finally:
        restarted.stop()
    rig.settle()
    assert post_count(rig.fake, "U0ALICE") == 1


def test_two_ticks_at_once_send_one_dm_per_owner_per_slot(rig: Rig, settings: Settings) -> None:
    """Two replicas (their own engines and deliverers) tick the same instant concurrently."""
    import threading

    from bot.app.runtime import Runtime

    for owner in OWNERS:
        for _ in range(3):
            seed(rig.db, rig.services.defaults, owner=owner)
    at = datetime(2026, 3, 9, 18, tzinfo=UTC)
    rig.clock.set(at)
    replicas = [rig.runtime, Runtime(settings, clock=rig.clock)]
    barrier = threading.Barrier(len(replicas))
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run(runtime: Runtime) -> None:
        try:
            barrier.wait(5)
            reports.append(runtime.tick(at))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in replicas]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        replicas[1].stop()
    rig.settle()
    assert not errors and all(r.ok for r in reports), (errors, [r.failed for r in reports])
    for owner in OWNERS:
        assert post_count(rig.fake, owner) == 1, owner
        (message,) = nudges(rig.fake, owner)
        assert message.visible.count("On track") == 3
    asked = sum(r.counts["checkins"].get("asked", 0) for r in reports)
    assert asked == 9


@pytest.mark.postgres_only
def test_an_owner_claimed_by_another_replica_is_left_to_it(rig: Rig) -> None:
    seed(rig.db, rig.services.defaults, owner="U0ALICE")
    seed(rig.db, rig.services.defaults, owner="U0BOB")
    at = datetime(2026, 3, 2, 18, tzinfo=UTC)  # after 09:00 in Berlin and Los Angeles
    with rig.db.engine.connect() as other:
        transaction = other.begin()
        other.execute(sa.select(Person.id).where(Person.user_id == "U0ALICE").with_for_update())
        report = rig.tick(at)  # Alice's row is held: skipped, not waited on
        assert report.counts["checkins"].get("busy") == 1
        assert nudges(rig.fake, "U0ALICE") == [] and len(nudges(rig.fake, "U0BOB")) == 1
        transaction.rollback()
    rig.tick(at)
    assert len(nudges(rig.fake, "U0ALICE")) == 1 and len(nudges(rig.fake, "U0BOB")) == 1


@pytest.mark.parametrize("state", [InitiativeState.DONE, InitiativeState.DECLINED, InitiativeState.CANCELLED])
def test_closed_initiatives_stop_nudging(rig: Rig, state: InitiativeState) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(local("Europe/Berlin", 2026, 3, 2, 9))
    with rig.db.session() as s:
        s.execute(sa.update(Initiative).where(Initiative.key == key).values(state=state))
    rig.tick(local("Europe/Berlin", 2026, 3, 3, 9, 30))  # the reminder would be due: instead, closed
    rig.tick(local("Europe/Berlin", 2026, 3, 9, 9))
    rig.tick(local("Europe/Berlin", 2026, 3, 16, 9))

    assert len(nudges(rig.fake, "U0ALICE")) == 1
    assert [r.status for r in checkin_rows(rig.db, key)] == [CheckinStatus.EXCUSED]
    (message,) = nudges(rig.fake, "U0ALICE")
    assert f"is {state.value}: nothing to answer" in message.visible and "On track" not in message.visible


def test_an_owner_slack_gives_no_zone_is_asked_in_the_workspace_zone(rig: Rig) -> None:
    rig.fake.add_user("U0EVE", "eve", tz=None)
    seed(rig.db, rig.services.defaults, owner="U0EVE", tz=None)
    for day in (2, 9):  # on the 9th the stale profile is fetched again: Slack still gives no zone
        rig.tick(local("Europe/Berlin", 2026, 3, day, 8, 59))
        assert len(nudges(rig.fake, "U0EVE")) == (day > 2)
        rig.tick(local("Europe/Berlin", 2026, 3, day, 9))
        assert len(nudges(rig.fake, "U0EVE")) == 1 + (day > 2)


def test_the_directory_pass_adds_owners_and_refreshes_their_zone(rig: Rig) -> None:
    with rig.db.session() as s:
        # an initiative accepted elsewhere, whose owner we know nothing about, and not scheduled
        okr = f.okr(s, "O77", now=START)
        f.initiative(s, okr, now=START, owner_id="U0CAROL", title="Unscheduled")
    report = rig.tick(START)
    # the new zone schedules it (it had no next check-in), in Kolkata's time
    assert report.counts["directory"] == {"people_added": 1, "refreshed": 1, "rescheduled": 1}
    with rig.db.session() as s:
        carol = s.scalars(sa.select(Person).where(Person.user_id == "U0CAROL")).one()
        assert carol.tz == "Asia/Kolkata" and carol.name == "carol"
        found = s.scalars(sa.select(Initiative).where(Initiative.title == "Unscheduled")).one()
        assert found.next_checkin_at == local("Asia/Kolkata", 2026, 3, 9)


def test_the_directory_pass_is_bounded_per_tick(rig: Rig) -> None:
    with rig.db.session() as s:
        for n in range(30):
            user = f"U0P{n:03d}"
            rig.fake.add_user(user, f"p{n}", tz="Europe/Berlin")
            s.add(Person(team_id=f.TEAM, user_id=user, created_at=START))
    rig.tick(START)
    assert len(rig.fake.calls_to("users.info")) == 20
    rig.tick(START + timedelta(minutes=1))
    assert len(rig.fake.calls_to("users.info")) == 30


def test_a_changed_zone_from_slack_moves_the_next_nudge(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    reply = rig.slack.event(
        {
            "type": "user_change",
            "user": {
                "id": "U0ALICE",
                "team_id": "T0FAKE",
                "name": "alice",
                "tz": "America/New_York",
                "profile": {"display_name": "alice", "email": "alice@example.com"},
            },
        }
    )
    assert reply.status == 200
    rig.settle()
    assert initiative(rig.db, key).next_checkin_at == local("America/New_York", 2026, 3, 2)
    rig.fake.users["U0ALICE"].tz = "America/New_York"  # what users.info says from now on
    # someone Throughline never dealt with changes their profile: nothing is stored about them
    rig.slack.event({"type": "user_change", "user": {"id": "U0MALLORY", "tz": "Asia/Tokyo"}})
    rig.settle()
    with rig.db.session() as s:
        assert s.scalar(sa.select(Person).where(Person.user_id == "U0MALLORY")) is None
    rig.tick(local("Europe/Berlin", 2026, 3, 2, 9))
    assert nudges(rig.fake, "U0ALICE") == []
    rig.tick(local("America/New_York", 2026, 3, 2, 9))
    assert len(nudges(rig.fake, "U0ALICE")) == 1

"""Leases are reckoned by the database's clock, and a message is sent only while its claim is still
ours, checked after any wait: a replica whose clock runs ahead, or a deliverer that waited out a
pace or a Retry-After past its lease, never makes a second copy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.core.services import make_client
from bot.outbox.deliverer import Deliverer, DeliveryReport
from bot.outbox.pace import Pace
from storage.db import Database
from storage.models import OutboxState
from tests.outbox_support import age_leases, copies, post, row
from tests.slackfake import FakeSlack


def deliverer_at(db: Database, settings: Settings, clock: FixedClock, **kw) -> Deliverer:
    return Deliverer(
        db, make_client(settings, retry_rate_limits=False), clock, settings.workspace_defaults(), **kw
    )


@pytest.fixture
def deliverer(db: Database, settings: Settings, clock: FixedClock) -> Deliverer:
    return deliverer_at(db, settings, clock)


@pytest.mark.parametrize("ahead", [timedelta(seconds=150), timedelta(hours=3)])
def test_a_replica_whose_clock_runs_ahead_does_not_take_over_a_live_claim(
    db, clock, settings, deliverer, fake: FakeSlack, ahead: timedelta
) -> None:
    post(db, clock, "once")
    (claim,) = deliverer._claim()  # this replica holds it, about to send
    fast = deliverer_at(db, settings, FixedClock(clock.now() + ahead))

    assert fast.drain().handled == 0  # its clock says the lease ran out; the database's does not

    report = DeliveryReport()
    deliverer._deliver(claim, report)
    assert report.sent == 1 and len(copies(fake, "once")) == 1
    assert row(db, "once").state == OutboxState.SENT


def test_a_lease_that_ran_out_on_the_database_clock_is_taken_over_whatever_the_replica_clocks_say(
    db, clock, settings, deliverer, fake: FakeSlack
) -> None:
    post(db, clock, "crashed")
    deliverer._claim()  # then the process died
    slow = deliverer_at(db, settings, FixedClock(clock.now() - timedelta(minutes=10)))
    assert slow.drain().sent == 0  # the lease is live
    age_leases(db, deliverer.lease + timedelta(seconds=1))

    assert slow.drain().sent == 1  # a clock behind does not keep a dead lease alive
    assert len(copies(fake, "crashed")) == 1


class TakenOverWhileWaiting:
    """A pace whose wait lasts past the lease: meanwhile another replica takes the row over and
    sends it, as it may once the lease has run out."""

    def __init__(self, db: Database, other: Deliverer, lease: timedelta) -> None:
        self.db, self.other, self.lease = db, other, lease
        self.waits = 0

    def sleep(self, _seconds: float) -> None:
        if self.waits == 0:
            age_leases(self.db, self.lease + timedelta(seconds=1))
            assert self.other.drain().sent == 1
        self.waits += 1


@pytest.mark.parametrize("wait", ["pace", "retry-after"])
def test_a_send_after_a_wait_longer_than_the_lease_is_not_made_once_the_row_was_taken_over(
    db, clock, settings, fake: FakeSlack, wait: str
) -> None:
    other = deliverer_at(db, settings, clock)
    waiting = TakenOverWhileWaiting(db, other, timedelta(seconds=120))
    now = [0.0]

    def sleep(seconds: float) -> None:
        waiting.sleep(seconds)
        now[0] += seconds

    if wait == "pace":  # an empty bucket: the first message waits for its token
        pace = Pace(rate=0.01, burst=1, monotonic=lambda: now[0], sleep=sleep)
        pace.acquire()
    else:  # Slack said 429, Retry-After 100: every sender waits
        pace = Pace(rate=1000, burst=100, monotonic=lambda: now[0], sleep=sleep)
        fake.fail("chat.postMessage", status=429, retry_after=100)
    slowed = deliverer_at(db, settings, clock, pace=pace)
    post(db, clock, "once")

    report = slowed.drain()

    assert waiting.waits >= 1
    assert report.sent == 0 and len(copies(fake, "once")) == 1  # the other replica's copy, only
    assert row(db, "once").state == OutboxState.SENT


def test_a_claim_held_through_a_slow_batch_is_renewed_at_the_database_before_its_send(
    db, clock, settings, deliverer, fake: FakeSlack
) -> None:
    post(db, clock, "late")
    (claim,) = deliverer._claim()
    age_leases(db, deliverer.lease * 3 / 4)  # the batch was slow: a quarter of the lease is left

    report = DeliveryReport()
    deliverer._deliver(claim, report)

    assert report.sent == 1 and len(copies(fake, "late")) == 1


def test_a_message_enqueued_by_a_replica_whose_clock_runs_ahead_is_found_after_an_unclear_answer(
    db, settings, fake: FakeSlack
) -> None:
    """Its created_at is 150 s in Slack's future: the lookup must still see the stored post."""
    from datetime import UTC, datetime

    ahead = FixedClock(datetime.now(UTC) + timedelta(seconds=150))
    post(db, ahead, "early")
    fake.fail("chat.postMessage", status=500, after_store=True)
    fast = deliverer_at(db, settings, ahead)
    assert fast.drain().unknown == 1

    ahead.advance(timedelta(hours=1))
    fast.drain()

    assert len(copies(fake, "early")) == 1 and row(db, "early").state == OutboxState.SENT

"""When Slack's answer is unclear: a 5xx, a read timeout or a dropped connection after Slack stored
the post. The outcome is unknown, not failed: the deliverer looks for the message before any
re-send, and exactly one copy ends up in the conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot import outbox
from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.core.services import make_client
from bot.outbox.deliverer import Deliverer
from storage.db import Database
from storage.models import Outbox, OutboxState
from tests.slackfake import FakeSlack, SlackRateLimits

TEAM = "T0FAKE"
TIMEOUT = 1  # the deliverer's client gives up after this; a "timeout" fault answers later

# each way an answer can be lost after Slack stored the post
AFTER_STORE: dict[str, dict[str, Any]] = {
    "5xx": {"status": 500},
    "internal_error": {"status": 200, "error": "internal_error"},
    "timeout": {"sleep": TIMEOUT + 0.5},
    "drop": {"drop": True},
}


@pytest.fixture
def deliverer(db: Database, settings: Settings, clock: FixedClock) -> Deliverer:
    """As the runtime builds it: the client retries 5xx and dropped connections for the idempotent
    calls, and leaves 429s to the deliverer's pace."""
    client = make_client(settings, timeout=TIMEOUT, retry_rate_limits=False)
    return Deliverer(db, client, clock, settings.workspace_defaults())


def post(db: Database, clock: FixedClock, key: str, channel: str = "C0TRIAGE", **kw: Any) -> None:
    with db.session() as session:
        outbox.enqueue(
            session, team_id=TEAM, key=key, channel=channel, text=f"text of {key}", now=clock.now(), **kw
        )


def row(db: Database, key: str) -> Outbox:
    with db.session() as session:
        return session.scalars(sa.select(Outbox).where(Outbox.key == key)).one()


def copies(fake: FakeSlack, key: str) -> list[str]:
    """The ts of every message in the workspace carrying this outbox key."""
    return [m.ts for m in fake.posts() if ((m.metadata or {}).get("event_payload") or {}).get("key") == key]


def later(clock: FixedClock, deliverer: Deliverer, passes: int = 3) -> None:
    for _ in range(passes):
        clock.advance(timedelta(hours=1))
        deliverer.drain()


@pytest.mark.parametrize("fault", list(AFTER_STORE))
@pytest.mark.parametrize("where", ["top-level", "thread reply", "dm"])
def test_a_post_stored_before_an_unclear_answer_ends_up_once(
    db, clock, deliverer, fake: FakeSlack, fault: str, where: str
) -> None:
    if where == "thread reply":
        post(db, clock, "parent")
        deliverer.drain()
        post(db, clock, "reply", thread_of="parent")
    else:
        post(db, clock, "reply", channel="U0BOB" if where == "dm" else "C0TRIAGE")
    fake.fail("chat.postMessage", after_store=True, **AFTER_STORE[fault])

    report = deliverer.drain()

    assert report.unknown == 1 and report.sent == 0
    stored = row(db, "reply")
    assert stored.state == OutboxState.PENDING and stored.unconfirmed
    assert len(copies(fake, "reply")) == 1  # Slack has it; nobody re-posted at once

    later(clock, deliverer)

    (ts,) = copies(fake, "reply")
    stored = row(db, "reply")
    assert stored.state == OutboxState.SENT and stored.result_ts == ts and not stored.unconfirmed
    if where == "thread reply":
        assert fake.calls_to("conversations.replies") and not fake.calls_to("conversations.history")


@pytest.mark.parametrize("fault", ["5xx", "drop"])
def test_an_unclear_answer_where_slack_stored_nothing_is_sent_after_the_lookup_proves_it_absent(
    db, clock, deliverer, fake: FakeSlack, fault: str
) -> None:
    post(db, clock, "k")
    fake.fail("chat.postMessage", **AFTER_STORE[fault])  # refused before storing
    assert deliverer.drain().unknown == 1 and copies(fake, "k") == []

    later(clock, deliverer)

    assert len(copies(fake, "k")) == 1 and row(db, "k").state == OutboxState.SENT
    assert len(fake.calls_to("conversations.history")) == 1


@pytest.mark.parametrize(
    "lookup_fault",
    [{"status": 500, "times": 3}, {"status": 429, "retry_after": 30}, {"drop": True, "times": 3}],
    ids=["5xx", "429", "drop"],
)
def test_a_lookup_that_fails_keeps_the_row_unknown_and_a_later_pass_resolves_it(
    db, clock, deliverer, fake: FakeSlack, lookup_fault: dict[str, Any]
) -> None:
    post(db, clock, "k")
    fake.fail("chat.postMessage", status=503, after_store=True)
    deliverer.drain()
    fake.fail("conversations.history", **lookup_fault)

    clock.advance(timedelta(hours=1))
    report = deliverer.drain()

    assert report.unknown == 1 and report.sent == 0
    stored = row(db, "k")
    assert (
        stored.state == OutboxState.PENDING and stored.unconfirmed and "lookup" in (stored.last_error or "")
    )
    if lookup_fault.get("status") == 429:
        assert stored.next_attempt_at >= clock.now() + timedelta(seconds=30)
    assert len(fake.calls_to("chat.postMessage")) == 1  # never posted blind

    later(clock, deliverer)

    (ts,) = copies(fake, "k")
    assert row(db, "k").state == OutboxState.SENT and row(db, "k").result_ts == ts


@pytest.mark.parametrize("fault", ["5xx", "timeout", "drop"])
def test_a_file_shared_before_an_unclear_answer_is_shared_once(
    db, clock, deliverer, fake: FakeSlack, fault: str
) -> None:
    post(db, clock, "digest", channel="C0DIGEST")
    deliverer.drain()
    with db.session() as session:
        outbox.enqueue_upload(
            session,
            team_id=TEAM,
            key="digest:chart",
            channel="C0DIGEST",
            filename="chart.png",
            title="Health",
            content=b"\x89PNG",
            now=clock.now(),
            thread_of="digest",
        )
    fake.fail("files.completeUploadExternal", after_store=True, **AFTER_STORE[fault])

    assert deliverer.drain().unknown == 1
    later(clock, deliverer)

    shared = [f for f in fake.files.values() if f["completed"]]
    assert len(shared) == 1
    assert row(db, "digest:chart").state == OutboxState.SENT
    assert row(db, "digest:chart").result_ts == shared[0]["id"]


def test_one_history_read_clears_every_unknown_row_of_a_channel_under_one_request_a_minute(
    db, clock, deliverer, fake: FakeSlack
) -> None:
    """Commercially distributed apps outside the Marketplace get conversations.history and
    .replies at 1 request a minute since 2025: recovery must fit that budget."""
    for n in range(6):
        post(db, clock, f"m{n}", channel="C0GENERAL")
        post(db, clock, f"t{n}", channel="C0TRIAGE")
    fake.fail("chat.postMessage", times=12, status=502, after_store=True)
    assert deliverer.drain().unknown == 12
    fake.limiter = SlackRateLimits(tier3_per_minute=1)

    clock.advance(timedelta(hours=1))
    first = deliverer.drain()  # one read allowed: one channel's six rows cleared from it

    assert first.sent == 6 and first.unknown == 6
    assert len(fake.calls_to("conversations.history", ok=True)) == 1
    assert len(fake.calls_to("conversations.history", ok=False)) == 1  # the 429: then no more reads
    waiting = [r for r in (row(db, f"{p}{n}") for p in "mt" for n in range(6)) if r.state != OutboxState.SENT]
    assert len(waiting) == 6 and all(r.unconfirmed and r.last_error == "lookup: ratelimited" for r in waiting)
    assert all(r.next_attempt_at >= clock.now() + timedelta(seconds=1) for r in waiting)

    fake.limiter = None  # a minute later
    later(clock, deliverer, passes=1)

    for p in "mt":
        for n in range(6):
            assert len(copies(fake, f"{p}{n}")) == 1
            assert row(db, f"{p}{n}").state == OutboxState.SENT
    assert len(fake.calls_to("chat.postMessage")) == 12  # nothing was posted twice

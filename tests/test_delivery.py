"""The outbox: nothing lost, nothing doubled, faults waited out or parked with a person told."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import outbox
from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.core.services import make_client
from bot.outbox import admin
from bot.outbox.deliverer import Deliverer, DeliveryReport
from bot.outbox.pace import RATE_LIMIT_RETRIES, Pace
from storage.db import Database
from storage.models import Outbox, OutboxState
from tests.outbox_support import age_leases
from tests.slackfake import FakeSlack
from tests.sqlcount import count_statements

TEAM = "T0FAKE"


@pytest.fixture
def deliverer(db: Database, settings: Settings, clock: FixedClock) -> Deliverer:
    return Deliverer(db, make_client(settings), clock, settings.workspace_defaults())


def post(
    db: Database, clock: FixedClock, key: str, channel: str = "C0TRIAGE", text: str = "hello", **kw
) -> bool:
    with db.session() as session:
        return outbox.enqueue(
            session, team_id=TEAM, key=key, channel=channel, text=text, now=clock.now(), **kw
        )


def rows(db: Database) -> list[Outbox]:
    with db.session() as session:
        return list(session.scalars(sa.select(Outbox).order_by(Outbox.id)))


def test_a_key_is_sent_once_however_often_it_is_enqueued(db, clock, deliverer, fake: FakeSlack) -> None:
    assert post(db, clock, "nudge:1") is True
    assert post(db, clock, "nudge:1", text="again") is False
    deliverer.drain()
    deliverer.drain()

    messages = fake.posts("C0TRIAGE")
    assert [m.text for m in messages] == ["hello"]
    assert messages[0].metadata == {"event_type": "throughline_outbox", "event_payload": {"key": "nudge:1"}}
    (row,) = rows(db)
    assert row.state == OutboxState.SENT and row.result_ts == messages[0].ts and row.attempts == 1


def test_a_dm_goes_to_the_users_conversation(db, clock, deliverer, fake: FakeSlack) -> None:
    post(db, clock, "dm:1", channel="U0ALICE", text="for alice")
    deliverer.drain()
    assert [m.text for m in fake.dms("U0ALICE")] == ["for alice"]


def test_an_update_edits_the_message_in_place_after_it_was_posted(db, clock, deliverer, fake) -> None:
    post(db, clock, "triage:REQ-1", text="REQ-1 waiting for triage")
    with db.session() as session:
        outbox.enqueue_update(
            session,
            team_id=TEAM,
            key="triage:REQ-1:accepted",
            of="triage:REQ-1",
            text="REQ-1 accepted by lead",
            now=clock.now(),
        )
    deliverer.drain()

    (message,) = fake.posts("C0TRIAGE")
    assert message.text == "REQ-1 accepted by lead"
    assert message.history == [{"text": "REQ-1 waiting for triage", "blocks": None}]


def test_edits_of_one_message_go_in_order_whoever_sends_them(db, clock, settings, deliverer, fake) -> None:
    post(db, clock, "escalation:7", channel="C0GOVERN", text="REQ-2 waits on REQ-3")
    deliverer.drain()
    with db.session() as session:
        for n, text in enumerate(["acknowledged by lead", "resolved by lead"]):
            outbox.enqueue_update(
                session, team_id=TEAM, key=f"escalation:7:{n}", of="escalation:7", text=text, now=clock.now()
            )
    other = Deliverer(db, make_client(settings), clock, settings.workspace_defaults())

    first, second = deliverer._claim(), other._claim()  # two replicas claim at the same moment

    assert [c.key for c in first] == ["escalation:7:0"] and second == []  # the later edit waits its turn
    report = DeliveryReport()
    for claim in first:
        deliverer._deliver(claim, report)
    assert other.drain().sent == 1
    (message,) = fake.posts("C0GOVERN")
    assert message.text == "resolved by lead"
    assert [h["text"] for h in message.history] == ["REQ-2 waits on REQ-3", "acknowledged by lead"]


def test_a_reply_waits_for_its_parent_and_lands_in_its_thread(db, clock, deliverer, fake) -> None:
    with db.session() as session:  # the reply is enqueued first but must be sent second
        outbox.enqueue(
            session,
            team_id=TEAM,
            key="reply",
            channel="C0DIGEST",
            text="in thread",
            now=clock.now(),
            thread_of="parent",
        )
    post(db, clock, "parent", channel="C0DIGEST", text="digest")
    deliverer.drain()
    clock.advance(timedelta(seconds=3))
    deliverer.drain()

    parent, reply = sorted(fake.posts("C0DIGEST"), key=lambda m: m.ts)
    assert parent.text == "digest" and reply.thread_ts == parent.ts


def test_rate_limit_is_waited_out_and_the_message_sent_once(db, clock, deliverer, fake) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=1)
    post(db, clock, "k")
    deliverer.drain()

    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    assert len(fake.posts("C0TRIAGE")) == 1


def test_persistent_server_errors_leave_the_row_pending_with_backoff(db, clock, deliverer, fake) -> None:
    """A 5xx on a post is an unknown outcome: no retry by the client, a lookup before each re-send."""
    fake.fail("chat.postMessage", status=503, times=3)
    post(db, clock, "k")
    report = deliverer.drain()

    (row,) = rows(db)
    assert report.unknown == 1 and row.state == OutboxState.PENDING and row.unconfirmed
    assert row.last_error and row.next_attempt_at > clock.now()
    assert fake.posts("C0TRIAGE") == [] and len(fake.calls_to("chat.postMessage")) == 1

    deliverer.drain()  # not due yet
    assert fake.posts("C0TRIAGE") == []
    for _ in range(3):  # each pass looks first, finds nothing, posts; the third post goes through
        clock.advance(timedelta(hours=1))
        deliverer.drain()
    assert len(fake.posts("C0TRIAGE")) == 1 and rows(db)[0].state == OutboxState.SENT
    assert len(fake.calls_to("conversations.history")) == 3


def test_permanent_errors_park_the_row_and_tell_an_admin_once(db, clock, deliverer, fake) -> None:
    post(db, clock, "a", channel="C0GONE")
    post(db, clock, "b", channel="C0GONE")
    fake.add_channel("C0PRIVATE", member=False)
    post(db, clock, "c", channel="C0PRIVATE")
    deliverer.drain()

    states = {r.key: (r.state, r.last_error) for r in rows(db)}
    assert states["a"] == (OutboxState.PARKED, "channel_not_found")
    assert states["b"] == (OutboxState.PARKED, "channel_not_found")
    assert states["c"] == (OutboxState.PARKED, "not_in_channel")
    notices = [m.text for m in fake.dms("U0ADMIN")]
    assert len(notices) == 2  # one per (error, channel), not one per message
    assert any("channel_not_found" in n for n in notices) and any("not_in_channel" in n for n in notices)

    fake.add_channel("C0GONE")
    with db.session() as session:
        assert admin.requeue(session, [], clock.now(), all_parked=True) == 3
    deliverer.drain()
    assert len(fake.posts("C0GONE")) == 2


def test_after_a_crash_between_send_and_mark_the_message_is_not_posted_again(
    db, clock, deliverer, fake
) -> None:
    post(db, clock, "crashy", channel="U0BOB", text="your check-in")
    # the crashed process: claimed the row, Slack accepted the post, then kill -9 before marking
    claim = deliverer._claim()
    make_client_response = deliverer.client.chat_postMessage(
        channel="U0BOB",
        text="your check-in",
        metadata={"event_type": "throughline_outbox", "event_payload": {"key": "crashy"}},
    )
    assert claim and make_client_response["ok"]

    deliverer.drain()  # lease not expired: nobody touches it
    assert len(fake.dms("U0BOB")) == 1 and rows(db)[0].state == OutboxState.SENDING
    age_leases(db, deliverer.lease + timedelta(seconds=1))
    deliverer.drain()

    assert len(fake.dms("U0BOB")) == 1
    (row,) = rows(db)
    assert row.state == OutboxState.SENT and row.result_ts == fake.dms("U0BOB")[0].ts


def test_a_deliverer_whose_lease_expired_mid_batch_does_not_send_what_another_took_over(
    db, clock, settings, deliverer, fake
) -> None:
    post(db, clock, "slow", channel="C0TRIAGE", text="once")
    (stale,) = deliverer._claim()  # claimed, then this deliverer stalls past its lease
    age_leases(db, deliverer.lease + timedelta(seconds=1))
    other = Deliverer(db, make_client(settings), clock, settings.workspace_defaults())
    assert other.drain().sent == 1

    report = DeliveryReport()
    deliverer._deliver(stale, report)  # wakes up: the row is no longer its own
    assert report.handled == 0
    assert [m.text for m in fake.posts("C0TRIAGE")] == ["once"]


def test_a_claimed_message_costs_one_check_that_the_claim_is_ours_and_one_write_marking_it_sent(
    db, clock, deliverer, fake
) -> None:
    """The check (and renewal of the lease, on the database's clock) is one statement, just before
    the send: nothing is sent on a claim that ran out."""
    post(db, clock, "fresh", channel="C0TRIAGE", text="once")
    (claim,) = deliverer._claim()
    report = DeliveryReport()
    with count_statements(db.engine) as seen:
        deliverer._deliver(claim, report)
    assert report.sent == 1 and fake.posts("C0TRIAGE")
    assert [s.split()[0] for s in seen.sql if not s.startswith(("PRAGMA", "SET"))] == ["UPDATE", "UPDATE"]


def test_after_a_crash_before_send_the_message_is_sent_when_the_lease_expires(
    db, clock, deliverer, fake
) -> None:
    post(db, clock, "crashy", channel="C0TRIAGE")
    deliverer._claim()  # claimed, then the process died
    age_leases(db, deliverer.lease + timedelta(seconds=1))
    deliverer.drain()
    assert len(fake.posts("C0TRIAGE")) == 1


def test_concurrent_deliverers_send_each_message_exactly_once(db, clock, settings, fake) -> None:
    for i in range(60):
        post(db, clock, f"m{i}", channel="C0GENERAL", text=f"message {i}")
    workers = [
        Deliverer(db, make_client(settings), clock, settings.workspace_defaults(), batch=7) for _ in range(4)
    ]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    texts = [m.text for m in fake.posts("C0GENERAL")]
    assert sorted(texts) == sorted(f"message {i}" for i in range(60))
    assert all(r.state == OutboxState.SENT for r in rows(db))


def test_a_file_is_uploaded_into_the_thread_of_its_message(db, clock, deliverer, fake) -> None:
    chart(db, clock, deliverer)
    deliverer.drain()

    (message,) = fake.posts("C0DIGEST")
    (upload,) = fake.files.values()
    assert upload["content"] == b"\x89PNG fake" and upload["completed"]
    assert upload["channel"] == "C0DIGEST" and upload["thread_ts"] == message.ts


def chart(db: Database, clock: FixedClock, deliverer: Deliverer) -> None:
    """The digest's post, sent, and its chart queued for the post's thread."""
    post(db, clock, "digest", channel="C0DIGEST", text="digest")
    deliverer.drain()
    with db.session() as session:
        outbox.enqueue_upload(
            session,
            team_id=TEAM,
            key="digest:chart",
            channel="C0DIGEST",
            filename="digest-2026-W10.png",
            title="Health, last 8 weeks",
            content=b"\x89PNG fake",
            now=clock.now(),
            thread_of="digest",
        )


def test_after_a_crash_between_upload_and_mark_the_file_is_not_uploaded_again(
    db, clock, deliverer, fake
) -> None:
    chart(db, clock, deliverer)
    (message,) = fake.posts("C0DIGEST")
    # the crashed process: claimed the upload, Slack shared the file, then kill -9 before marking
    (claim,) = deliverer._claim()
    assert claim.key == "digest:chart"
    deliverer.client.files_upload_v2(
        channel="C0DIGEST",
        thread_ts=message.ts,
        content=b"\x89PNG fake",
        filename="digest-2026-W10.png",
        title="Health, last 8 weeks",
    )
    age_leases(db, deliverer.lease + timedelta(seconds=1))

    deliverer.drain()

    (shared,) = fake.files.values()
    assert shared["completed"] and shared["thread_ts"] == message.ts
    upload = rows(db)[1]
    assert upload.state == OutboxState.SENT and upload.result_ts == shared["id"]
    assert [c.method for c in fake.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


def test_after_a_crash_before_upload_the_file_is_uploaded_when_the_lease_expires(
    db, clock, deliverer, fake
) -> None:
    chart(db, clock, deliverer)
    deliverer._claim()  # claimed the upload, then the process died
    age_leases(db, deliverer.lease + timedelta(seconds=1))

    deliverer.drain()

    (shared,) = fake.files.values()
    assert shared["completed"] and shared["thread_ts"] == fake.posts("C0DIGEST")[0].ts
    assert rows(db)[1].state == OutboxState.SENT


class FakeTime:
    """A monotonic clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pace_lets_a_burst_through_then_holds_to_the_rate() -> None:
    t = FakeTime()
    pace = Pace(rate=10, burst=5, monotonic=t.monotonic, sleep=t.sleep)
    waits = [pace.acquire() for _ in range(25)]
    assert waits[:5] == [0, 0, 0, 0, 0]  # the burst
    assert t.now == pytest.approx(100 + 20 / 10)  # then 10 a second
    pace.pause(3)
    before = t.now
    pace.acquire()
    assert t.now == pytest.approx(before + 3 + 0.1)  # the pause, then an empty bucket's first token


def test_a_429_pauses_every_sender_and_the_message_goes_after_retry_after(db, clock, settings, fake) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=1)
    t = FakeTime()
    paced = Deliverer(
        db,
        make_client(settings, retry_rate_limits=False),
        clock,
        settings.workspace_defaults(),
        pace=Pace(rate=50, burst=50, monotonic=t.monotonic, sleep=t.sleep),
    )
    post(db, clock, "a", text="first")
    post(db, clock, "b", text="second")
    report = paced.drain()

    assert report.sent == 2 and report.retrying == 0
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200, 200]
    assert t.now >= 101  # held back for Retry-After
    assert [m.text for m in fake.posts("C0TRIAGE")] == ["first", "second"]


def test_a_message_that_keeps_hitting_429_is_rescheduled_not_spun_on(db, clock, settings, fake) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=2, times=10)
    t = FakeTime()
    paced = Deliverer(
        db,
        make_client(settings, retry_rate_limits=False),
        clock,
        settings.workspace_defaults(),
        pace=Pace(rate=50, burst=50, monotonic=t.monotonic, sleep=t.sleep),
    )
    post(db, clock, "a")
    report = paced.drain()
    (row,) = rows(db)
    assert report.retrying == 1 and row.state == OutboxState.PENDING and row.last_error == "ratelimited"
    assert row.next_attempt_at == clock.now() + timedelta(seconds=2)
    assert len(fake.calls_to("chat.postMessage")) == RATE_LIMIT_RETRIES + 1

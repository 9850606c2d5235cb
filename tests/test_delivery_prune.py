"""The tick prunes what is kept only for a while: sent outbox rows past the retention period
(THROUGHLINE_OUTBOX_RETENTION_DAYS), and Slack deliveries past their retry horizon, in batches.
A pruned post can still be edited and replied to: its Slack reference stays."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot import outbox
from bot.outbox.prune import prune_sent
from bot.slack import redelivery
from storage.models import Outbox, OutboxState, SeenRequest
from tests.outbox_support import TEAM, post, row


def states(db) -> dict[str, OutboxState]:
    with db.session() as session:
        return {r.key: r.state for r in session.scalars(sa.select(Outbox))}


def test_the_tick_prunes_sent_rows_past_the_retention_and_an_old_post_can_still_be_edited(rig) -> None:
    db, clock, fake = rig.db, rig.clock, rig.fake
    start = clock.now()
    post(db, clock, "triage:1", channel="C0TRIAGE", text="REQ-1 waiting for triage")
    post(db, clock, "triage:1:reply", channel="C0TRIAGE", thread_of="triage:1", text="in thread")
    with db.session() as session:
        outbox.enqueue_update(
            session, team_id=TEAM, key="triage:1:asked", of="triage:1", text="REQ-1: asked", now=clock.now()
        )
        outbox.enqueue_upload(
            session,
            team_id=TEAM,
            key="digest:chart",
            channel="C0TRIAGE",
            filename="chart.png",
            title="Health",
            content=b"\x89PNG" * 10_000,
            now=clock.now(),
            thread_of="triage:1",
        )
    post(db, clock, "gone", channel="C0GONE")  # parked: needs a person, never pruned
    rig.settle()
    assert states(db)["gone"] == OutboxState.PARKED
    clock.advance(timedelta(days=20))
    post(db, clock, "recent", channel="C0GENERAL")
    rig.settle()

    report = rig.tick(start + timedelta(days=30, hours=1))

    assert report.counts["housekeeping"]["outbox_deleted"] == 4  # and the notice about "gone"
    after = states(db)
    assert "triage:1:asked" not in after and "triage:1:reply" not in after and "digest:chart" not in after
    assert after["triage:1"] == OutboxState.PRUNED and after["recent"] == OutboxState.SENT
    assert after["gone"] == OutboxState.PARKED
    kept = row(db, "triage:1")
    assert kept.payload == {} and kept.result_ts and kept.result_channel == "C0TRIAGE"
    assert not any(k.startswith("notice:") for k in after)  # the admin's notice went too

    with db.session() as session:  # a decision two months later edits the message in place
        outbox.enqueue_update(
            session,
            team_id=TEAM,
            key="triage:1:accepted",
            of="triage:1",
            text="REQ-1 accepted",
            now=clock.now(),
        )
    rig.settle()
    (message,) = [m for m in fake.posts("C0TRIAGE") if m.thread_ts is None and not m.files]
    assert message.text == "REQ-1 accepted" and row(db, "triage:1:accepted").state == OutboxState.SENT
    assert post(db, clock, "triage:1", text="again") is False  # its key is still known: no second post


def test_pruning_goes_in_batches_and_stops_at_the_limit_for_the_next_tick(db, clock) -> None:
    sent_at = clock.now()
    with db.session() as session:
        session.execute(
            sa.insert(Outbox),
            [
                {
                    "team_id": TEAM,
                    "key": f"dm:{i}",
                    "method": "post",
                    "channel": "U0BOB",
                    "ref_key": f"checkin:{i}",  # replies in a thread: deleted outright
                    "payload": {"text": "x" * 500},
                    "state": OutboxState.SENT,
                    "attempts": 1,
                    "next_attempt_at": sent_at,
                    "created_at": sent_at,
                    "sent_at": sent_at,
                }
                for i in range(25)
            ],
        )
    later = sent_at + timedelta(days=31)

    first = prune_sent(db, later, timedelta(days=30), batch=10, max_batches=2)
    assert first.deleted == 20 and len(states(db)) == 5
    assert prune_sent(db, later, timedelta(days=30), batch=10, max_batches=2).deleted == 5
    assert states(db) == {}
    assert prune_sent(db, sent_at + timedelta(days=29), timedelta(days=30)).deleted == 0


def test_seen_slack_deliveries_are_forgotten_in_batches(rig) -> None:
    db, clock = rig.db, rig.clock
    with db.session() as session:
        old = clock.now() - redelivery.KEEP_FOR - timedelta(minutes=1)
        session.execute(
            sa.insert(SeenRequest),
            [{"key": f"event:{i}", "team_id": TEAM, "seen_at": old} for i in range(2500)]
            + [{"key": "event:new", "team_id": TEAM, "seen_at": clock.now()}],
        )

    report = rig.tick(clock.now())

    assert report.counts["housekeeping"]["forgotten_requests"] == 2500
    with db.session() as session:
        assert list(session.scalars(sa.select(SeenRequest.key))) == ["event:new"]

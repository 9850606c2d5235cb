"""No message held up by another: a claim is fair across workspaces and conversations, and rows
that cannot be sent yet (a reply or an edit whose message has no ts yet) are never claimed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.core.config import Settings
from bot.core.services import make_client
from bot.outbox.deliverer import Deliverer
from storage.models import Outbox, OutboxState
from tests.outbox_support import TEAM, copies, post, row
from tests.slackfake import FakeSlack

BUSY = "T0BUSY"


def bulk(db, rows: list[dict[str, Any]]) -> None:
    with db.session() as session:
        session.execute(sa.insert(Outbox), rows)


def busy_rows(clock, n: int, **values: Any) -> list[dict[str, Any]]:
    due = clock.now() - timedelta(hours=1)  # due long before the other workspace's message
    prefix = values.pop("prefix")
    return [
        {
            "team_id": BUSY,
            "key": f"{prefix}:{i}",
            "method": "post",
            "payload": {"text": f"{prefix} {i}", "blocks": None, "thread": values.get("ref_key") is not None},
            "state": OutboxState.PENDING,
            "attempts": 0,
            "next_attempt_at": due,
            "created_at": due,
            **values,
        }
        for i in range(n)
    ]


def test_a_workspace_with_thousands_of_blocked_and_failing_rows_does_not_delay_another(
    db, clock, settings: Settings, fake: FakeSlack
) -> None:
    fake.add_channel("C0BUSY")
    fake.add_channel("C0BROKEN")
    fake.fail_channel("C0BROKEN", "service_degraded")  # an answer nobody knows will pass
    # the busy workspace: a post not sent yet (its retry is an hour away), 2,000 replies waiting in
    # its thread, and 2,000 posts to a channel that refuses every one
    post(db, clock, "busy:parent", channel="C0BUSY", team_id=BUSY)
    with db.session() as session:
        session.execute(
            sa.update(Outbox)
            .where(Outbox.key == "busy:parent")
            .values(next_attempt_at=clock.now() + timedelta(hours=1), attempts=3, last_error="http_503")
        )
    bulk(db, busy_rows(clock, 2000, prefix="reply", channel="C0BUSY", ref_key="busy:parent"))
    bulk(db, busy_rows(clock, 2000, prefix="broken", channel="C0BROKEN"))
    post(db, clock, "other:hello", channel="C0GENERAL", team_id=TEAM)  # the newest, due last
    deliverer = Deliverer(db, make_client(settings), clock, settings.workspace_defaults())

    report = deliverer.run_once()

    assert len(copies(fake, "other:hello")) == 1 and row(db, "other:hello").state == OutboxState.SENT
    assert report.waiting == 0  # no reply was claimed only to be put back
    tried = fake.calls_to("chat.postMessage")
    assert len(tried) <= 1 + deliverer.per_target  # the broken channel got its share, not the batch
    assert not fake.posts("C0BUSY")


def test_a_reply_is_not_claimed_until_its_parent_is_sent_then_goes_at_once(
    db, clock, settings: Settings, fake: FakeSlack
) -> None:
    post(db, clock, "parent", channel="C0DIGEST", text="digest")
    fake.fail("chat.postMessage", error="service_degraded")
    deliverer = Deliverer(db, make_client(settings), clock, settings.workspace_defaults())
    assert deliverer.drain().retrying == 1
    post(db, clock, "reply", channel="C0DIGEST", thread_of="parent", text="chart")

    for _ in range(5):  # the parent's retry is not due yet: the reply is not claimed at all
        assert deliverer.drain().handled == 0
        clock.advance(timedelta(seconds=3))
    assert row(db, "reply").attempts == 0

    clock.advance(timedelta(minutes=1))
    report = deliverer.drain()

    assert report.sent == 2
    parent, reply = sorted(fake.posts("C0DIGEST"), key=lambda m: m.ts)
    assert reply.thread_ts == parent.ts


def test_claims_take_workspaces_in_turn(db, clock, settings: Settings, fake: FakeSlack) -> None:
    for team in ("T0A", "T0B", "T0C"):
        bulk(
            db,
            [
                r | {"team_id": team, "key": f"{team}:{r['key']}"}
                for r in busy_rows(clock, 40, prefix="m", channel=f"C0{team[-1]}")
            ],
        )
        fake.add_channel(f"C0{team[-1]}")
    deliverer = Deliverer(db, make_client(settings), clock, settings.workspace_defaults(), batch=9)

    claims = deliverer._claim()

    assert sorted(c.team_id for c in claims) == ["T0A"] * 3 + ["T0B"] * 3 + ["T0C"] * 3

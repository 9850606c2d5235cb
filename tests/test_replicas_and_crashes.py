"""Real processes under faults. Three `throughline serve` replicas with their schedulers on, one
PostgreSQL: every nudge, reminder, escalation and digest is sent exactly once. A process killed
with SIGKILL in the middle of sending 500 nudges: after a restart all 500 arrive, none twice."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core import workspaces
from bot.core.clock import SystemClock
from storage.db import Database
from storage.models import Checkin, Health, Initiative, InitiativeState, Outbox, OutboxState
from tests import factories as f
from tests.conftest import ON_POSTGRES
from tests.processes import Server
from tests.slackfake import FakeSlack

pytestmark = pytest.mark.slow
TEAM = "T0FAKE"


def delivered(fake: FakeSlack) -> Counter[str]:
    """How many times each outbox key reached Slack (posts carry their key in metadata)."""
    keys: Counter[str] = Counter()
    for call in fake.calls_to("chat.postMessage", ok=True):
        keys[((call.args.get("metadata") or {}).get("event_payload") or {}).get("key", "?")] += 1
    for call in fake.calls_to("files.completeUploadExternal", ok=True):
        keys["upload:" + str(call.args.get("channel_id"))] += 1
    return keys


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def seed_due_owners(
    db: Database, fake: FakeSlack, now: datetime, count: int, prefix: str = "U0OWN"
) -> list[str]:
    """`count` owners, each with one active initiative whose check-in is due now."""
    owners = [f"{prefix}{n:04d}" for n in range(count)]
    for owner in owners:
        fake.add_user(owner, owner.lower(), tz="Europe/Berlin")
    with db.session() as s:
        workspaces.ensure_workspace(s, TEAM, now - timedelta(days=60))
        okr = f.okr(s, f"O{prefix}", now=now)
        f.bulk_rows(
            s,
            Initiative,
            [
                {
                    "number": 10_000 + n,
                    "key": f"{prefix}-{n}",
                    "title": f"Work of {owner}",
                    "description": "",
                    "requester_id": "U0DAN",
                    "owner_id": owner,
                    "okr_id": okr.id,
                    "state": InitiativeState.ACTIVE,
                    "cadence": "workdays@09:00",
                    "next_checkin_at": now - timedelta(minutes=1),
                    "created_at": now - timedelta(days=30),
                    "updated_at": now,
                }
                for n, owner in enumerate(owners)
            ],
        )
    return owners


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()
    logs = "\n".join(p.read_text() for p in tmp_path.glob("*.log"))
    assert "Traceback" not in logs, logs[-3000:]


@pytest.mark.skipif(not ON_POSTGRES, reason="several replicas need PostgreSQL: set TEST_DATABASE_URL")
def test_three_replicas_send_every_message_exactly_once(
    database_url: str, db: Database, fake: FakeSlack, tmp_path: Path, servers: list[Server]
) -> None:
    now = SystemClock().now()
    owners = seed_due_owners(db, fake, now, 60)
    with db.session() as s:
        okr = f.okr(s, "O9", now=now)
        # 20 check-ins asked a day ago and still unanswered: each gets one reminder
        reminded = []
        for n in range(20):
            owner = f"U0REM{n:03d}"
            fake.add_user(owner, owner.lower(), tz="UTC")
            item = f.initiative(
                s,
                okr,
                now=now,
                owner_id=owner,
                cadence="monthly:mon@09:00",
                next_checkin_at=now + timedelta(days=20),
            )
            f.checkin(s, item, slot_at=now - timedelta(days=1), reminder_due_at=now - timedelta(minutes=5))
            reminded.append(item.id)
        # 5 dependencies past their needed-by date: each escalates to level 1 (two DMs)
        for n in range(5):
            provider = f.initiative(
                s,
                okr,
                now=now,
                owner_id="U0BOB",
                health=Health.ON_TRACK,
                next_checkin_at=now + timedelta(days=20),
            )
            waiter = f.initiative(
                s, okr, now=now, owner_id="U0ALICE", next_checkin_at=now + timedelta(days=20)
            )
            f.dependency(
                s,
                waiter,
                provider,
                now=now - timedelta(days=20),
                what=f"part {n}",
                needed_by=date.today() - timedelta(days=10),
            )

    settings = {
        "THROUGHLINE_TICK_SECONDS": "1",
        "THROUGHLINE_DIGEST_CHANNEL": "C0DIGEST",
        "THROUGHLINE_DIGEST_SCHEDULE": "workdays@00:01",
        "THROUGHLINE_TIMEZONE": "UTC",
        "THROUGHLINE_SLACK_POST_RATE": "1000",
    }
    servers += [Server(fake, database_url, tmp_path / f"replica{n}.log", **settings) for n in range(3)]
    for server in servers:
        server.wait_healthy()

    def all_there() -> bool:
        keys = delivered(fake)
        return (
            sum(1 for k in keys if k.startswith("checkin:") and not k.endswith(":reminder")) >= 60
            and sum(1 for k in keys if k.endswith(":reminder")) >= 20
            and sum(1 for k in keys if k.startswith("escalation:")) >= 10
            and any(k.startswith("digest:") for k in keys)
            and "upload:C0DIGEST" in keys
        )

    wait_until(all_there, 90, "every nudge, reminder, escalation and digest")
    time.sleep(4)  # four more ticks on each replica: nothing may come twice

    keys = delivered(fake)
    doubled = {k: n for k, n in keys.items() if n > 1}
    assert doubled == {}
    nudged = {k.split(":")[1] for k in keys if k.startswith("checkin:") and not k.endswith(":reminder")}
    assert nudged == set(owners)
    assert sum(1 for k in keys if k.endswith(":reminder")) == 20
    assert sum(1 for k in keys if k.startswith("escalation:")) == 10
    assert sum(1 for k in keys if k.startswith("digest:")) == 1 and keys["upload:C0DIGEST"] == 1
    with db.session() as s:
        assert set(s.scalars(sa.select(Outbox.state))) == {OutboxState.SENT}
        assert s.scalar(sa.select(sa.func.count()).select_from(Checkin)) == 60 + 20


def test_a_process_killed_mid_delivery_sends_everything_once_after_restart(
    database_url: str, db: Database, fake: FakeSlack, tmp_path: Path, servers: list[Server]
) -> None:
    now = datetime.now(UTC)
    owners = seed_due_owners(db, fake, now, 500)
    fake.latency = 0.01  # Slack takes ~10 ms an answer: 500 posts take seconds, time to pull the plug
    settings = {
        "THROUGHLINE_TICK_SECONDS": "1",
        "THROUGHLINE_DELIVERY_LEASE_SECONDS": "3",
        "THROUGHLINE_SLACK_POST_RATE": "1000",
    }

    first = Server(fake, database_url, tmp_path / "first.log", **settings)
    servers.append(first)
    wait_until(lambda: len(fake.calls_to("chat.postMessage", ok=True)) >= 120, 60, "the first 120 nudges")
    first.kill()
    sent_before = len(fake.calls_to("chat.postMessage", ok=True))
    with db.session() as s:
        in_flight = s.scalar(
            sa.select(sa.func.count()).select_from(Outbox).where(Outbox.state == OutboxState.SENDING)
        )
    assert sent_before < 500, "the process finished before it was killed: nothing was tested"

    second = Server(fake, database_url, tmp_path / "second.log", **settings)
    servers.append(second)
    wait_until(lambda: len(delivered(fake)) >= 500, 120, "all 500 nudges")
    time.sleep(4)  # a lease and a tick more: any duplicate would show by now

    keys = delivered(fake)
    assert {k: n for k, n in keys.items() if n > 1} == {}
    assert {k.split(":")[1] for k in keys} == set(owners)
    with db.session() as s:
        states = Counter(s.scalars(sa.select(Outbox.state)))
    assert states == Counter({OutboxState.SENT: 500})
    # the rows the killed process held were checked against the conversation before any re-post
    if in_flight:
        assert fake.calls_to("conversations.history")
    print(
        f"crash: killed after {sent_before} of 500 posts with {in_flight} row(s) claimed in flight; "
        f"{len(fake.calls_to('conversations.history'))} history check(s) after restart; duplicates: 0"
    )

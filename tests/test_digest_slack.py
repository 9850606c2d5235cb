"""The digest as leadership meets it: posted by the clock in the digest channel, once per period,
with its chart in the thread; previewed with `/okr digest`."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.core.workspaces import ensure_workspace
from bot.digest import flows as digest_flows
from bot.digest import models as digest_models
from bot.digest.service import checkpoints as digest_checkpoints
from storage.models import (
    Digest,
    HealthCheckpoint,
    Initiative,
    InitiativeState,
    Outbox,
    OutboxState,
    Workspace,
)
from tests import digest_org
from tests.conftest import START, Rig
from tests.slackfake import TEAM_ID, broadcasts

FRIDAY = digest_org.PERIOD_END  # Fri 6 Mar 2026 16:00 in Berlin


def setup_workspace(rig: Rig, *, seeded: bool = True, created: datetime = START) -> None:
    with rig.db.session() as session:
        ensure_workspace(session, TEAM_ID, created)
        if seeded:
            digest_org.seed(session)


def digests(rig: Rig) -> list[Digest]:
    with rig.db.session() as session:
        return list(session.scalars(sa.select(Digest).order_by(Digest.period_start)))


def outbox(rig: Rig) -> list[Outbox]:
    with rig.db.session() as session:
        return list(session.scalars(sa.select(Outbox).order_by(Outbox.id)))


def test_the_digest_posts_at_the_slot_once_with_its_chart_in_the_thread(rig: Rig) -> None:
    setup_workspace(rig)
    rig.tick(FRIDAY - timedelta(minutes=1))
    assert rig.fake.posts("C0DIGEST") == []

    report = rig.tick(FRIDAY)
    assert report.counts["digest"] == {"posted": 1}
    (message,) = rig.fake.posts("C0DIGEST")
    assert message.text.startswith("Leadership digest, week to Fri 6 Mar: 1 of 3 milestones met")
    visible = message.visible
    assert "Leadership digest · week to Fri 6 Mar 2026" in visible
    assert "Decisions needed (2)" in visible and "Payment gateway &lt;!channel&gt; migration" in visible
    assert broadcasts([message.text, visible]) == []
    assert message.metadata == {
        "event_type": "throughline_outbox",
        "event_payload": {"key": f"digest:{TEAM_ID}:2026-02-27"},
    }
    (upload,) = rig.fake.files.values()
    assert upload["completed"] and upload["channel"] == "C0DIGEST" and upload["thread_ts"] == message.ts
    assert (
        upload["content"].startswith(b"\x89PNG\r\n\x1a\n") and upload["filename"] == "digest-2026-02-27.png"
    )

    for later in (FRIDAY, FRIDAY + timedelta(minutes=1), FRIDAY + timedelta(hours=20)):
        assert rig.tick(later).counts["digest"] == {"posted": 0}
    assert len(rig.fake.posts("C0DIGEST")) == 1 and len(rig.fake.files) == 1

    stored = digests(rig)[-1]
    assert (stored.period_start, stored.period_end) == (date(2026, 2, 27), date(2026, 3, 6))
    # each initiative keeps the health this digest saw, for the next one to compare with
    with rig.db.read() as session:
        rows = session.execute(sa.select(Initiative.state, Initiative.health, Initiative.digest_health)).all()
    assert rows and all(
        seen == (health if state == InitiativeState.ACTIVE else None) for state, health, seen in rows
    )
    first = message.visible
    assert "REQ-2" in first.split("Newly blocked")[1].split("\n\n")[0]

    rig.tick(FRIDAY + timedelta(weeks=1))
    assert len(rig.fake.posts("C0DIGEST")) == 2 and len(rig.fake.files) == 2
    latest = max(rig.fake.posts("C0DIGEST"), key=lambda m: m.ts)
    assert "week to Fri 13 Mar 2026" in latest.visible
    assert "changes since the digest of Fri 6 Mar" in latest.visible
    assert "Newly blocked" not in latest.visible  # REQ-2 was blocked then and still is: no news


def test_ticks_on_two_replicas_at_once_post_one_digest(rig: Rig) -> None:
    setup_workspace(rig)
    rig.clock.set(FRIDAY)
    results: list[digest_models.PostResult] = []
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        results.append(digest_flows.post_scheduled(rig.db, rig.services.defaults, TEAM_ID, FRIDAY))

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rig.settle()

    assert sorted(r.outcome for r in results) == [
        digest_models.Outcome.ALREADY,
        digest_models.Outcome.ALREADY,
        digest_models.Outcome.POSTED,
    ]
    assert len(rig.fake.posts("C0DIGEST")) == 1 and len(rig.fake.files) == 1
    assert [r.period_start for r in digests(rig)] == [date(2026, 2, 20), date(2026, 2, 27)]


def checkpoints(rig: Rig) -> dict[datetime, list[int]]:
    """Each stored chart checkpoint's instant -> [on track, at risk, blocked] over every OKR."""
    with rig.db.session() as session:
        return {
            row.at: [sum(values[i] for values in row.counts.values()) for i in range(3)]
            for row in session.scalars(sa.select(HealthCheckpoint))
        }


def test_the_clock_stores_the_charts_checkpoint_once_as_each_week_passes(rig: Rig) -> None:
    setup_workspace(rig)
    report = rig.tick(FRIDAY - timedelta(minutes=1))
    assert report.counts["chart"] == {"taken": digest_models.CHART_WEEKS}  # the last eight weeks, at once
    assert FRIDAY not in checkpoints(rig)
    assert rig.tick(FRIDAY - timedelta(seconds=1)).counts["chart"] == {"taken": 0}

    report = rig.tick(FRIDAY)
    assert report.counts["chart"] == {"taken": 1} and report.counts["digest"] == {"posted": 1}
    stored = checkpoints(rig)
    assert len(stored) == digest_models.CHART_WEEKS + 1 and max(stored) == FRIDAY
    # at the slot: REQ-2 blocked; REQ-3 and -10 at risk; REQ-4, -5, -11, -12 on track
    assert stored[FRIDAY] == [4, 2, 1]
    assert rig.tick(FRIDAY + timedelta(hours=1)).counts["chart"] == {"taken": 0}
    # summer time: the next ones are still at 16:00 in Berlin
    rig.tick(datetime(2026, 4, 3, 14, 0, tzinfo=UTC))
    assert max(checkpoints(rig)) == datetime(2026, 4, 3, 14, 0, tzinfo=UTC)


def test_replicas_taking_checkpoints_at_once_store_each_one_once(rig: Rig) -> None:
    setup_workspace(rig)
    taken: list[int] = []
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        taken.append(digest_checkpoints.take_checkpoints(rig.db, TEAM_ID, rig.services.defaults, FRIDAY))

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(taken) == digest_models.CHART_WEEKS and len(checkpoints(rig)) == digest_models.CHART_WEEKS


def test_after_downtime_only_the_latest_period_is_posted(rig: Rig) -> None:
    setup_workspace(rig, seeded=False)
    rig.tick(FRIDAY + timedelta(weeks=2, hours=3))  # down since Monday 2 March
    (message,) = rig.fake.posts("C0DIGEST")
    assert "week to Fri 20 Mar 2026" in message.visible
    assert [d.period_start for d in digests(rig)] == [date(2026, 3, 13)]


def test_the_slot_stays_at_16_00_local_across_the_change_to_summer_time(rig: Rig) -> None:
    setup_workspace(rig, seeded=False)
    rig.tick(datetime(2026, 3, 27, 15, 0, tzinfo=UTC))  # 16:00 CET
    rig.tick(datetime(2026, 4, 3, 13, 59, tzinfo=UTC))  # 15:59 CEST: not yet
    assert len(rig.fake.posts("C0DIGEST")) == 1
    rig.tick(datetime(2026, 4, 3, 14, 0, tzinfo=UTC))  # 16:00 CEST
    latest = max(rig.fake.posts("C0DIGEST"), key=lambda m: m.ts)
    assert "week to Fri 3 Apr 2026" in latest.visible
    assert "Fri 27 Mar 16:00 – Fri 3 Apr 16:00 (Europe/Berlin)" in latest.visible


def test_an_empty_week_is_posted_and_says_so(rig: Rig) -> None:
    setup_workspace(rig, seeded=False)
    rig.tick(FRIDAY)
    (message,) = rig.fake.posts("C0DIGEST")
    assert "*No OKRs yet.*" in message.visible
    assert len(rig.fake.files) == 1  # the chart says so too


def test_no_digest_without_a_digest_channel_nor_for_a_period_before_the_workspace(rig: Rig) -> None:
    setup_workspace(rig, seeded=False, created=FRIDAY + timedelta(days=1))
    rig.tick(FRIDAY + timedelta(days=2))  # the last period ended before the workspace existed
    assert rig.fake.posts("C0DIGEST") == [] and digests(rig) == []

    with rig.db.session() as session:
        session.scalars(sa.select(Workspace)).one().settings = {"digest_channel": None}
    rig.tick(FRIDAY + timedelta(weeks=1))
    assert rig.fake.posts("C0DIGEST") == [] and digests(rig) == []


def test_a_failed_chart_upload_does_not_hold_back_the_digest(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    setup_workspace(rig)
    rig.fake.fail("files.getUploadURLExternal", error="internal_error")
    with caplog.at_level(logging.WARNING, logger="bot.outbox.deliverer"):
        rig.tick(FRIDAY)

    (message,) = rig.fake.posts("C0DIGEST")
    assert "Leadership digest" in message.visible and rig.fake.files == {}
    chart_row = next(r for r in outbox(rig) if r.key.endswith(":chart"))
    assert chart_row.state == OutboxState.PENDING and chart_row.last_error == "internal_error"
    assert any(
        "digest:T0FAKE:2026-02-27:chart: internal_error; retrying" in r.getMessage() for r in caplog.records
    )

    rig.clock.advance(timedelta(minutes=1))
    rig.settle()  # the retry lands in the thread
    (upload,) = rig.fake.files.values()
    assert upload["thread_ts"] == message.ts and len(rig.fake.posts("C0DIGEST")) == 1


def test_a_chart_upload_refused_for_good_is_parked_and_the_digest_stands(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    setup_workspace(rig)
    rig.fake.fail("files.getUploadURLExternal", error="restricted_action")
    with caplog.at_level(logging.ERROR, logger="bot.outbox.deliverer"):
        rig.tick(FRIDAY)
    assert len(rig.fake.posts("C0DIGEST")) == 1 and rig.fake.files == {}
    states = {r.key: r.state for r in outbox(rig) if r.key.startswith("digest:")}
    assert states == {
        "digest:T0FAKE:2026-02-27": OutboxState.SENT,
        "digest:T0FAKE:2026-02-27:chart": OutboxState.PARKED,
    }
    assert any("parked: restricted_action" in r.getMessage() for r in caplog.records)
    assert any("restricted_action" in m.text for m in rig.fake.dms("U0ADMIN"))  # the admin is told


def test_okr_digest_answers_an_ephemeral_preview_and_posts_nothing(rig: Rig) -> None:
    setup_workspace(rig)
    rig.clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))  # Wednesday
    before = len(outbox(rig))

    reply = rig.slack.command("/okr", "Digest", user="U0MALLORY")
    assert reply.status == 200
    rig.settle()

    (response,) = rig.fake.responses_all()
    assert response["response_type"] == "ephemeral"
    blocks = response["blocks"]
    assert blocks[0]["text"]["text"] == "Leadership digest preview · this week so far"
    visible = "\n".join(
        b.get("text", {}).get("text", "") if b["type"] != "context" else b["elements"][0]["text"]
        for b in blocks
    )
    assert "A preview, only you can see it" in visible and "<#C0DIGEST> on Fri 6 Mar 16:00" in visible
    assert "chart of health and pace attached in its thread" in visible
    assert "*So far this week*" not in visible and "*This week so far*" in visible
    assert "Payment gateway &lt;!channel&gt; migration" in visible
    # nothing posted, queued, stored or uploaded
    assert rig.fake.posts() == [] and rig.fake.files == {}
    assert len(outbox(rig)) == before and [d.period_start for d in digests(rig)] == [date(2026, 2, 20)]

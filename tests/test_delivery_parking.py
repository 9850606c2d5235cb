"""An error neither known to pass nor known to be permanent (missing_scope, edit_window_closed, one
Slack invents next year) is tried a bounded number of times, then the row is parked with the
reason and the workspace's admins are told once per cause, not once per message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import outbox
from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.core.services import make_client
from bot.outbox import admin
from bot.outbox.deliverer import Deliverer
from storage.db import Database
from storage.models import OutboxState
from tests.outbox_support import TEAM, copies, post, row
from tests.slackfake import FakeSlack

ATTEMPTS = 3


@pytest.fixture
def deliverer(db: Database, settings: Settings, clock: FixedClock) -> Deliverer:
    client = make_client(settings, timeout=1, retry_rate_limits=False)
    return Deliverer(db, client, clock, settings.workspace_defaults(), max_attempts=ATTEMPTS)


def hours_pass(clock: FixedClock, deliverer: Deliverer, passes: int = 6) -> None:
    for _ in range(passes):
        clock.advance(timedelta(hours=2))
        deliverer.drain()


@pytest.mark.parametrize("error", ["missing_scope", "service_degraded"])
def test_a_channel_answering_an_unknown_error_is_parked_after_the_attempts_and_the_admins_told_once(
    db, clock, deliverer, fake: FakeSlack, error: str
) -> None:
    fake.fail_channel("C0GENERAL", error)
    for n in range(4):
        post(db, clock, f"poisoned:{n}", channel="C0GENERAL")
    post(db, clock, "fine", channel="C0TRIAGE")

    deliverer.drain()
    assert row(db, "fine").state == OutboxState.SENT
    assert row(db, "poisoned:0").state == OutboxState.PENDING  # one attempt is not enough to judge
    hours_pass(clock, deliverer)

    for n in range(4):
        parked = row(db, f"poisoned:{n}")
        assert parked.state == OutboxState.PARKED and parked.attempts == ATTEMPTS
        assert parked.last_error == f"{error} (after {ATTEMPTS} attempts)"
    assert len(fake.calls_to("chat.postMessage", ok=False)) == 4 * ATTEMPTS  # then no more tries
    (notice,) = fake.dms("U0ADMIN")  # one DM for the cause, not one per message
    assert error in notice.text and "<#C0GENERAL>" in notice.text and f"{ATTEMPTS} attempts" in notice.text

    with db.session() as session:
        assert admin.requeue(session, [], clock.now(), all_parked=True) == 4
    hours_pass(clock, deliverer)
    assert len(fake.dms("U0ADMIN")) == 1  # parked again for the same cause: not told again


def test_an_edit_refused_with_edit_window_closed_is_parked_not_retried_forever(
    db, clock, deliverer, fake: FakeSlack
) -> None:
    post(db, clock, "triage:1", channel="C0TRIAGE", text="waiting for triage")
    deliverer.drain()
    with db.session() as session:
        outbox.enqueue_update(
            session, team_id=TEAM, key="triage:1:accepted", of="triage:1", text="accepted", now=clock.now()
        )
    fake.fail("chat.update", error="edit_window_closed", times=50)

    hours_pass(clock, deliverer)

    edit = row(db, "triage:1:accepted")
    assert (
        edit.state == OutboxState.PARKED
        and edit.last_error == f"edit_window_closed (after {ATTEMPTS} attempts)"
    )
    assert len(fake.calls_to("chat.update")) == ATTEMPTS
    (notice,) = fake.dms("U0ADMIN")
    assert "edit_window_closed" in notice.text


def test_a_lookup_refused_for_a_missing_scope_parks_the_row_unconfirmed_and_never_posts_it_blind(
    db, clock, deliverer, fake: FakeSlack
) -> None:
    post(db, clock, "unclear", channel="C0GENERAL")
    fake.fail("chat.postMessage", status=503, after_store=True)
    deliverer.drain()  # Slack has it; the answer was lost
    fake.fail_channel("C0GENERAL", "missing_scope", methods=("conversations.history",))

    hours_pass(clock, deliverer)

    parked = row(db, "unclear")
    assert parked.state == OutboxState.PARKED and parked.unconfirmed
    assert parked.last_error == f"lookup: missing_scope (after {ATTEMPTS} attempts)"
    to_channel = [c for c in fake.calls_to("chat.postMessage") if c.args["channel"] == "C0GENERAL"]
    assert len(copies(fake, "unclear")) == 1 and len(to_channel) == 1
    (notice,) = fake.dms("U0ADMIN")
    assert "missing_scope" in notice.text


def test_errors_known_to_pass_are_retried_beyond_the_attempts(db, clock, deliverer, fake: FakeSlack) -> None:
    """Rate limits and an unclear answer never park a message: they pass, it is sent, once."""
    post(db, clock, "busy", channel="C0GENERAL")
    fake.fail("chat.postMessage", status=429, retry_after=1, times=4 * (ATTEMPTS + 1))
    hours_pass(clock, deliverer, passes=ATTEMPTS + 3)
    assert row(db, "busy").state == OutboxState.SENT and len(copies(fake, "busy")) == 1
    assert fake.dms("U0ADMIN") == []

"""The playground as a person uses it, in headless Chromium: the real app, the local Slack, the
page. One visitor's story, step by step, asserting what the page shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.playground.demo import DemoRun
from tests.browser import DEMO_START, Tour, browser_page, chromium_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not chromium_available(), reason="needs Chromium (apt-get install chromium)"),
]


@pytest.fixture
def tour() -> Iterator[Tour]:
    demo = DemoRun(now=DEMO_START)
    url = demo.start()
    try:
        with browser_page(url) as page:
            yield Tour(page, demo)
    finally:
        demo.stop()


def test_a_visitor_follows_a_request_from_intake_to_the_digest(tour: Tour) -> None:
    # /request: submitting the empty form shows each error under its field, as Slack does
    errors = tour.request()
    assert errors["intake_title"] == "Give the request a title."
    assert "Link this request to an OKR" in errors["intake_okr"]
    assert "Request sent" in tour.sent and "REQ-16" in tour.sent
    assert not tour.modal().count()

    # the triage post, and the lead accepting it with an owner
    tour.accept()
    triage = tour.main_text()
    assert "REQ-16 Usage-based billing export" in triage
    assert "Requested by @sam for Payments" in triage
    assert "Accepted by @lena" in triage and "owner @marcus" in triage

    # Monday 09:00 in London: Amelia's check-in DM, answered At risk and edited in place
    dm = tour.answer_checkin()
    assert "Time for a check-in" in dm
    assert "Recorded 🟡 at risk, by @amelia" in dm
    assert "(edited)" in dm

    # REQ-3 stays blocked: Diego (who waits on it) is told, then #governance, with buttons
    seen = tour.stall()
    assert "REQ-6 Partner API for resellers" in seen["level 1"]
    assert "waits on REQ-3 Rate-limit the public API per customer" in seen["level 1"]
    assert "stalled" in seen["level 1"]
    assert "A stalled dependency needs you" in seen["level 2"]
    assert "Level 3" in seen["governance"] and "Acknowledge" in seen["governance"]
    assert "Acknowledged by @kenji" in tour.acknowledge()

    # Friday 16:00 in Berlin: the digest in #leadership, its chart in the thread
    digest = tour.digest()
    assert "Leadership digest" in digest
    assert "O1 · Make paying us effortless" in digest
    assert tour.page.locator("#pg-thread img[src^='/files/']").count() == 1

    # the App Home: what is due from me and what I own
    home = tour.home()
    assert "Your work in Throughline" in home
    assert "REQ-3" in home

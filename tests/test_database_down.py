"""When the database goes away: users are told to try again shortly (not a timeout), the scheduler
skips and catches up, the process stays up and reports itself unhealthy until the database is back."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from bot import outbox
from bot.core.clock import FixedClock
from bot.slack import redelivery
from tests.conftest import TEST_DATABASE_URL, Rig, make_settings
from tests.slackfake import FakeSlack
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    assert TEST_DATABASE_URL
    url = make_url(database_url)
    server = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield server
    server.cut()


@pytest.fixture
def flaky_rig(fake: FakeSlack, database_url: str, clock: FixedClock, proxy: TcpProxy) -> Iterator[Rig]:
    proxied = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    rig = Rig(make_settings(fake, proxied), fake, clock)
    yield rig
    rig.close()


def health(rig: Rig) -> int:
    try:
        with urllib.request.urlopen(rig.url + "/healthz", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_command_during_an_outage_says_try_again_shortly(flaky_rig: Rig, proxy: TcpProxy) -> None:
    assert flaky_rig.slack.command("/initiative", "", user="U0ALICE").status == 200
    proxy.cut()

    started = time.monotonic()
    reply = flaky_rig.slack.command("/initiative", "", user="U0ALICE")
    elapsed = time.monotonic() - started

    assert reply.status == 200 and elapsed < 3
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "can't reach its database right now" in body["text"] and "try again" in body["text"]
    assert health(flaky_rig) == 503

    proxy.start()
    assert "no initiatives yet" in flaky_rig.slack.command("/initiative", "", user="U0ALICE").json()["text"]
    assert health(flaky_rig) == 200


def test_the_scheduler_skips_during_an_outage_and_catches_up(
    flaky_rig: Rig, proxy: TcpProxy, fake: FakeSlack
) -> None:
    with flaky_rig.db.session() as session:
        outbox.enqueue(
            session,
            team_id="T0FAKE",
            key="k",
            channel="C0GENERAL",
            text="queued before the outage",
            now=flaky_rig.clock.now(),
        )
    proxy.cut()
    report = flaky_rig.runtime.tick()  # must not raise: the scheduler thread would die
    assert not report.ok and "delivery" in report.failed
    assert fake.posts("C0GENERAL") == []

    proxy.start()
    report = flaky_rig.runtime.tick()
    assert report.ok and report.delivery is not None and report.delivery.sent == 1
    assert [m.text for m in fake.posts("C0GENERAL")] == ["queued before the outage"]


def test_an_event_during_an_outage_is_refused_so_slack_retries_it(flaky_rig: Rig, proxy: TcpProxy) -> None:
    proxy.cut()
    reply = flaky_rig.slack.event(
        {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}, event_id="Ev1"
    )
    assert reply.status >= 500  # Slack will deliver it again
    proxy.start()
    again = flaky_rig.slack.event(
        {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}, event_id="Ev1", retry_num=1
    )
    assert again.status < 500
    with flaky_rig.db.session() as session:
        assert redelivery.first_time(session, "T0FAKE", "event:Ev1", flaky_rig.clock.now()) is False

"""The test rig.

- `database_url`: a fresh SQLite database per test (copied from a migrated template), or, when
  TEST_DATABASE_URL is set, that PostgreSQL database migrated once and truncated per test.
- `fake`: the fake Slack Web API on loopback (tests/slackfake.py), reset per test, with a cast of
  users and channels; a test fails if the app ever sent Slack invalid Block Kit.
- `rig`: the real app, served over HTTP by the production WSGI server, talking to the fake, with a
  clock the test controls; `rig.slack` sends signed requests; `rig.settle()` waits for listeners
  and delivers the outbox.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.app.runtime import Runtime
from bot.app.server import EVENTS_PATH, ThroughlineWSGI, make_server
from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from storage import migrate
from storage.db import Database
from storage.models import Base
from tests.slackfake import BOT_TOKEN, FakeSlack
from tests.slackhttp import SlackHTTP

SIGNING_SECRET = "test-signing-secret-8f14e45fceea167a"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)
# a Monday morning in Berlin's winter time
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)

# The cast: who is who in the fake workspace.
CAST = {
    "U0ALICE": ("alice", "Europe/Berlin"),
    "U0BOB": ("bob", "America/Los_Angeles"),
    "U0CAROL": ("carol", "Asia/Kolkata"),
    "U0DAN": ("dan", "UTC"),
    "U0LEAD": ("lead", "Europe/Berlin"),  # triage lead
    "U0ADMIN": ("admin", "Europe/Berlin"),  # Throughline admin
    "U0GOV": ("gov", "Europe/Berlin"),  # governance member
    "U0MALLORY": ("mallory", "Europe/Berlin"),  # nobody in particular
}
CHANNELS = {"C0TRIAGE": "triage", "C0GOVERN": "governance", "C0DIGEST": "leadership", "C0GENERAL": "general"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _hermetic_environment() -> Iterator[None]:
    """Settings must come from the test, not from the developer's shell."""
    saved = {
        k: v for k, v in os.environ.items() if k.startswith(("THROUGHLINE_", "SLACK_")) or k == "DATABASE_URL"
    }
    for key in saved:
        del os.environ[key]
    yield
    os.environ.update(saved)


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    database.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_ready(worker_id: str) -> str | None:
    """TEST_DATABASE_URL wiped and migrated; with pytest-xdist, each worker gets its own database
    next to it (`test_gw0`, `test_gw1`, ...), created on first use."""
    if not TEST_DATABASE_URL:
        return None
    url = TEST_DATABASE_URL
    if worker_id not in ("master", ""):
        base = make_url(TEST_DATABASE_URL)
        name = f"{base.database}_{worker_id}"
        admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    migrate.upgrade(database.engine)
    database.dispose()
    return url


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """pytest-xdist's worker name ("gw0", ...), or "master" without it."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "master"))


def truncate_all(url: str) -> None:
    database = Database(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    database.dispose()


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path, _postgres_ready: str | None) -> str:
    """A migrated, empty database for this test."""
    if _postgres_ready:
        truncate_all(_postgres_ready)
        return _postgres_ready
    path = tmp_path / "throughline.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


# -- time and Slack ----------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(_fake_server: FakeSlack) -> Iterator[FakeSlack]:
    _fake_server.reset()
    for user_id, (name, tz) in CAST.items():
        _fake_server.add_user(user_id, name, tz=tz, email=f"{name}@example.com")
    for channel_id, name in CHANNELS.items():
        _fake_server.add_channel(channel_id, name)
    yield _fake_server
    assert not _fake_server.invalid, f"the app sent Slack invalid payloads: {_fake_server.invalid}"


@pytest.fixture(scope="session")
def _jira_server() -> Iterator[LocalJira]:
    site = LocalJira().start()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def _github_server() -> Iterator[LocalGitHub]:
    site = LocalGitHub().start()
    yield site
    site.stop()


@pytest.fixture
def jira(_jira_server: LocalJira) -> LocalJira:
    """The local Jira Cloud site (bot/localtrackers), emptied per test; tests/trackers_rig.py
    points the app at it."""
    _jira_server.reset()
    return _jira_server


@pytest.fixture
def github(_github_server: LocalGitHub) -> LocalGitHub:
    """The local GitHub (bot/localtrackers), emptied per test."""
    _github_server.reset()
    return _github_server


def make_settings(fake: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.url,
        "database_url": database_url,
        "triage_channel": "C0TRIAGE",
        "governance_channel": "C0GOVERN",
        "digest_channel": "C0DIGEST",
        "timezone": "Europe/Berlin",
        "triage_leads": ["U0LEAD"],
        "admins": ["U0ADMIN"],
        "governance_members": ["U0GOV"],
        "teams": {"Platform": "U0LEAD", "Data": "U0DAN"},
        "okr_url_patterns": ["https://okr.example.com/*"],
        "slack_post_rate": 1000,  # pacing has its own tests; here it would only make tests slow
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(fake: FakeSlack, database_url: str) -> Settings:
    return make_settings(fake, database_url)


class TrackedExecutor(ThreadPoolExecutor):
    """The listener pool, counting work in flight so a test can wait for it to finish."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="listener")
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._busy += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                raise AssertionError("listeners still running after the timeout")


class Rig:
    """The app as Slack sees it, and what the test needs to drive it."""

    def __init__(self, settings: Settings, fake: FakeSlack, clock: FixedClock) -> None:
        self.fake = fake
        self.clock = clock
        self.executor = TrackedExecutor()
        self.runtime = Runtime(settings, clock=clock, listener_executor=self.executor)
        self.db = self.runtime.db
        self.services = self.runtime.services
        self.server = make_server(ThroughlineWSGI(self.runtime.app, self.db), "127.0.0.1", 0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="app-http", daemon=True)
        self._thread.start()
        self.slack = SlackHTTP(self.url + EVENTS_PATH, SIGNING_SECRET, fake)

    def _serve(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            # close() shuts the sockets while the loop may be polling them (EBADF), as in `serve`
            if not self._closing:
                raise

    def settle(self) -> None:
        """Let every listener finish, then deliver everything due (repeat until quiet)."""
        for _ in range(20):
            self.executor.wait_idle()
            report = self.runtime.deliverer.drain()
            self.executor.wait_idle()
            if report.handled == 0:
                return
        raise AssertionError("the app kept producing work; is something looping?")

    def tick(self, at: datetime | None = None) -> Any:
        if at is not None:
            self.clock.set(at)
        report = self.runtime.tick(self.clock.now())
        self.settle()
        return report

    def close(self) -> None:
        self._closing = True
        # Stop waitress from inside its own loop: first its workers (one still sending a reply
        # pulls the trigger), then every socket it selects on, closed by the loop thread itself.
        # Closing them from this thread races the loop's select() ("Bad file descriptor" in a
        # thread at teardown, reported against whichever test ran last).
        from waitress import wasyncore

        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        sockets = self.server._map
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(sockets, ignore_all=True))
        except OSError:  # the loop has already closed its trigger: it is on its way out
            pass
        self._thread.join(5)
        if self._thread.is_alive():  # last resort; the loop thread tolerates EBADF while closing
            self.server.close()
            self._thread.join(5)
        self.executor.shutdown(wait=True)
        self.runtime.stop()


@pytest.fixture
def rig(settings: Settings, fake: FakeSlack, clock: FixedClock) -> Iterator[Rig]:
    instance = Rig(settings, fake, clock)
    yield instance
    instance.close()


@pytest.fixture
def oauth_rig(fake: FakeSlack, database_url: str, clock: FixedClock) -> Iterator[Rig]:
    """The app in OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, no bot token): tests/oauth_rig.py."""
    from tests.oauth_rig import start

    instance = start(fake, database_url, clock)
    yield instance
    instance.close()

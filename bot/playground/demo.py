"""`throughline demo`: the real Throughline, a local Slack and the page, on loopback.

Nothing of the bot is mocked: the app is the production one, served by the production HTTP
server; the local Slack sends it signed requests and answers its Web API calls; the outbox and
its deliverer and the tick run as in production, at the demo's time. The database is a file in a
temporary directory of its own, never `DATABASE_URL`.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.app.runtime import Runtime
from bot.app.server import EVENTS_PATH, ThroughlineWSGI, make_server
from bot.core.calendar import zone
from bot.core.clock import FixedClock
from bot.localslack.sender import SlackHTTP
from bot.localslack.server import LocalSlack
from bot.playground import seed as company
from bot.playground.session import Person, Playground
from bot.playground.web import PlaygroundWeb
from storage.models import Outbox

log = logging.getLogger(__name__)
TEAM_ID = "T0DEMO"
# The order of the person switcher: who a visitor most likely wants to be first.
SWITCHER = ("requester", "triage lead", "owner", "OKR owner", "governance", "admin")


def demo_start(real_now: datetime, tz_name: str = "Europe/Berlin") -> datetime:
    """Where the demo's clock starts: this working day at 08:30 in Berlin (the next Monday at a
    weekend), so the first nudges are half an hour away."""
    tz = zone(tz_name)
    local = real_now.astimezone(tz)
    day = local.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, 30, tzinfo=tz).astimezone(UTC)


class DemoRun:
    """Start with `start()` (returns the page's URL), stop with `stop()`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, now: datetime | None = None) -> None:
        self.host, self.port = host, port
        self.started_at = now or demo_start(datetime.now(UTC))
        self.workdir = Path(tempfile.mkdtemp(prefix="throughline-demo-"))
        self._threads: list[threading.Thread] = []
        self._servers: list[Any] = []
        self.runtime: Runtime | None = None
        self.slack: LocalSlack | None = None
        self.playground: Playground | None = None
        self.url = ""

    def start(self) -> str:
        self.slack = slack = LocalSlack(bot_token=company.DEMO_BOT_TOKEN, team_id=TEAM_ID).start()
        for member in company.CAST:
            slack.add_user(member.user_id, member.name, tz=member.tz, email=f"{member.name}@fernhill.example")
        for channel in company.CHANNELS.values():
            slack.add_channel(channel.id, channel.name)
        clock = FixedClock(self.started_at)
        slack.clock = lambda: clock.now().timestamp()
        settings = company.settings(f"sqlite:///{self.workdir / 'demo.db'}", slack.url)
        self.runtime = runtime = Runtime(settings, clock=clock)
        runtime.prepare_database(migrate_now=True)
        app_server = make_server(ThroughlineWSGI(runtime.app, runtime.db), "127.0.0.1", 0, threads=4)
        self._serve(app_server, "demo-app")
        # no delivery worker and no scheduler: the playground delivers after each thing a person
        # does (settle) and runs the tick when the clock moves, so what they see is never half-sent
        company.seed(runtime.db, settings.workspace_defaults(), TEAM_ID, self.started_at)
        sender = SlackHTTP(
            f"http://127.0.0.1:{app_server.effective_port}{EVENTS_PATH}",
            company.DEMO_SIGNING_SECRET,
            slack,
            team_id=TEAM_ID,
        )
        people = sorted(
            (Person(m.user_id, m.name, m.title, m.tz) for m in company.CAST),
            key=lambda p: _switcher_rank(p.user_id),
        )
        self.playground = Playground(
            slack=slack,
            sender=sender,
            people=people,
            now=clock.now,
            move_clock=lambda at: self._move(clock, at),
            settle=self.settle,
            workspace_tz=settings.timezone,
            outbox_size=self._outbox_size,
        )
        runtime.tick(self.started_at)
        self.settle()
        web = make_server(
            PlaygroundWeb(self.playground, workspace=company.COMPANY), self.host, self.port, threads=4
        )
        self._serve(web, "demo-page")
        self.url = f"http://{self.host}:{web.effective_port}/"
        return self.url

    def _serve(self, server: Any, name: str) -> None:
        thread = threading.Thread(target=_run_quietly, args=(server,), name=name, daemon=True)
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)

    def _move(self, clock: FixedClock, at: datetime) -> None:
        assert self.runtime is not None
        clock.set(at)
        self.runtime.tick(at)

    def settle(self) -> None:
        """Deliver everything the app has enqueued, now (the production deliverer, drained)."""
        assert self.runtime is not None
        for _ in range(20):
            if self.runtime.deliverer.drain().handled == 0:
                return

    def _outbox_size(self) -> int:
        assert self.runtime is not None
        with self.runtime.db.read() as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(Outbox)) or 0)

    def stop(self) -> None:
        for server in self._servers:
            with contextlib.suppress(OSError):
                server.close()
        if self.runtime is not None:
            self.runtime.stop()
        if self.slack is not None:
            self.slack.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _switcher_rank(user_id: str) -> int:
    member = next(m for m in company.CAST if m.user_id == user_id)
    role = str(member.role.value)
    return SWITCHER.index(role) if role in SWITCHER else len(SWITCHER)


def _run_quietly(server: Any) -> None:
    with contextlib.suppress(OSError, ValueError):  # closed while polling: the demo is stopping
        server.run()

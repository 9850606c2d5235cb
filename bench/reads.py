"""Reads at scale: `/initiative REQ-x`, `/initiative`, the App Home and the digest at 100 and at
10,000 initiatives, each with 12 weeks of check-in history. Targets: the same number of SQL
statements at both sizes, and at most 1.5 times the time.

`/initiative` and the Home are asked by Erin, who owns 10 initiatives at either size (the company
grows around her), and, for context, by Alice, who owns every tenth (10, then 1,000): her lists
are still cut to a page, but counting and ordering her own 1,000 is work that grows with them."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.harness import SIGNING_SECRET, Server, Table, fresh_database, median_time, seed_organisation
from bench.harness import populate as populate_fake
from bench.harness import settings_for as bench_settings
from bot import digest
from bot.runtime import Runtime
from bot.server import EVENTS_PATH, ThroughlineWSGI
from bot.views import digest as digest_views
from storage.db import Database
from storage.models import HealthCheckpoint
from tests.slackfake import FakeSlack
from tests.slackhttp import SlackHTTP
from tests.sqlcount import count_statements

SIZES = (100, 10_000)
TARGET = 1.5
REPLAY = "digest, before any chart checkpoint"


@dataclass
class Measured:
    statements: int
    seconds: float


def _measure(database: Database, action: Callable[[], object], repeat: int) -> Measured:
    with count_statements(database.engine) as seen:
        action()
    return Measured(seen.count, median_time(action, repeat))


def _at_size(kind: str, size: int, repeat: int) -> dict[str, Measured]:
    fake = FakeSlack().start()
    populate_fake(fake)
    try:
        with fresh_database(kind) as url:
            now = datetime.now(UTC)
            organisation = seed_organisation(
                Database(url), now, size, weeks_of_history=12, steady_owner="U0ERIN"
            )
            runtime = Runtime(bench_settings(fake, url))
            server = Server(ThroughlineWSGI(runtime.app, runtime.db))
            slack = SlackHTTP(server.url + EVENTS_PATH, SIGNING_SECRET, fake)
            keys = organisation.keys

            def card() -> None:
                assert slack.command("/initiative", random.choice(keys), user="U0ALICE").status == 200

            def mine(user: str = "U0ERIN") -> None:
                assert slack.command("/initiative", "", user=user).status == 200

            def home(user: str = "U0ERIN") -> None:
                before = len(fake.calls_to("views.publish"))
                assert slack.open_home(user).status == 200
                assert len(fake.calls_to("views.publish")) == before + 1

            def build_digest() -> None:
                with runtime.db.read() as session:
                    settings = runtime.services.workspace(session, "T0FAKE")
                    data = digest.preview(session, "T0FAKE", settings, now)
                rendered = digest_views.render(data)
                assert len(rendered.blocks) <= 50

            try:
                # a running deployment's tick has stored the chart's weekly checkpoints by now
                with runtime.db.read() as session:
                    settings = runtime.services.workspace(session, "T0FAKE")
                digest.take_checkpoints(runtime.db, "T0FAKE", settings, now)
                measured = {
                    "/initiative REQ-x": _measure(runtime.db, card, repeat),
                    "/initiative": _measure(runtime.db, mine, repeat),
                    "App Home": _measure(runtime.db, home, repeat),
                    "/initiative, owner of 10%": _measure(runtime.db, lambda: mine("U0ALICE"), repeat),
                    "App Home, owner of 10%": _measure(runtime.db, lambda: home("U0ALICE"), repeat),
                    "digest (build + render)": _measure(runtime.db, build_digest, max(3, repeat // 5)),
                }
                with runtime.db.session() as session:  # as on the first run: no checkpoints yet
                    session.execute(sa.delete(HealthCheckpoint))
                measured[REPLAY] = _measure(runtime.db, build_digest, max(3, repeat // 5))
                return measured
            finally:
                server.close()
                runtime.stop()
    finally:
        fake.stop()


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    repeat = 10 if quick else 40
    small, large = (_at_size(kind, size, repeat) for size in SIZES)
    for name in small:
        a, b = small[name], large[name]
        ratio = b.seconds / a.seconds
        # a portfolio that grows with the company, and a chart replaying all history: shown, not judged
        context = "10%" in name or name == REPLAY
        table.add(
            "reads",
            kind,
            f"{name}: {SIZES[0]} vs {SIZES[1]:,}",
            f"{a.statements} vs {b.statements} statements; {a.seconds * 1000:.1f} vs "
            f"{b.seconds * 1000:.1f} ms = {ratio:.2f}x",
            "same statements" if context else f"same, <= {TARGET}x",
            a.statements == b.statements and (context or ratio <= TARGET),
        )

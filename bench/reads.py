"""Reads at scale: `/initiative REQ-x`, `/initiative`, the App Home and the digest at 100 and at
10,000 initiatives, each with 12 weeks of check-in history. Targets: the same number of SQL
statements at both sizes, and at most 1.5 times the time.

`/initiative` and the Home are asked by Erin, who owns 10 initiatives at either size (the company
grows around her), and, for context, by Alice, who owns every tenth (10, then 1,000): her lists
are still cut to a page, but counting and ordering her own 1,000 is work that grows with them.

Both workspaces are up at once, each behind its own server, and every pair of figures is timed
in alternation, so the machine's passing noise falls on both sizes alike. The digest is the
preview (`/okr digest`), with the chart's weekly checkpoints taken as a running tick would have;
the same digest before any checkpoint (the chart replaying all history) is shown for context."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.harness import SIGNING_SECRET, Server, Table, fresh_database, seed_organisation
from bench.harness import populate as populate_fake
from bench.harness import settings_for as bench_settings
from bot.app.runtime import Runtime
from bot.app.server import EVENTS_PATH, ThroughlineWSGI
from bot.digest.service import build as digest_build
from bot.digest.service import checkpoints as digest_checkpoints
from bot.digest.views import message as digest_views
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


@dataclass
class Organisation:
    """One seeded workspace behind its own `throughline` WSGI server, and what the bench asks it."""

    db: Database
    actions: dict[str, Callable[[], object]]
    forget_checkpoints: Callable[[], None]


@contextmanager
def _organisation(kind: str, size: int, fake: FakeSlack) -> Iterator[Organisation]:
    with fresh_database(kind) as url:
        now = datetime.now(UTC)
        organisation = seed_organisation(Database(url), now, size, weeks_of_history=12, steady_owner="U0ERIN")
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
                data = digest_build.preview(session, "T0FAKE", settings, now)
            rendered = digest_views.render(data)
            assert len(rendered.blocks) <= 50

        def forget_checkpoints() -> None:  # as on the first run after an upgrade
            with runtime.db.session() as session:
                session.execute(sa.delete(HealthCheckpoint))

        # a running deployment's tick has stored the chart's weekly checkpoints by now
        with runtime.db.read() as session:
            settings = runtime.services.workspace(session, "T0FAKE")
        digest_checkpoints.take_checkpoints(runtime.db, "T0FAKE", settings, now)
        try:
            yield Organisation(
                runtime.db,
                {
                    "/initiative REQ-x": card,
                    "/initiative": mine,
                    "App Home": home,
                    "/initiative, owner of 10%": lambda: mine("U0ALICE"),
                    "App Home, owner of 10%": lambda: home("U0ALICE"),
                    "digest (build + render)": build_digest,
                    REPLAY: build_digest,
                },
                forget_checkpoints,
            )
        finally:
            server.close()
            runtime.stop()


def _statements(database: Database, action: Callable[[], object]) -> int:
    with count_statements(database.engine) as seen:
        action()
    return seen.count


def _interleaved(
    small: Callable[[], object], large: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median seconds of each, timed in alternation (small, large, large, small, ...): the machine's
    noise, which comes and goes, then falls on both sizes alike instead of on whichever ran second."""
    small()
    large()
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(repeat):
        for which in (0, 1) if i % 2 == 0 else (1, 0):
            action = (small, large)[which]
            started = time.perf_counter()
            action()
            times[which].append(time.perf_counter() - started)
    return statistics.median(times[0]), statistics.median(times[1])


def _measured(kind: str, repeat: int) -> dict[str, tuple[Measured, Measured]]:
    fake = FakeSlack().start()
    populate_fake(fake)
    try:
        with _organisation(kind, SIZES[0], fake) as small, _organisation(kind, SIZES[1], fake) as large:
            results: dict[str, tuple[Measured, Measured]] = {}
            for name in small.actions:
                if name == REPLAY:
                    small.forget_checkpoints()
                    large.forget_checkpoints()
                a, b = small.actions[name], large.actions[name]
                times = _interleaved(a, b, max(5, repeat // 2) if "digest" in name else repeat)
                results[name] = (
                    Measured(_statements(small.db, a), times[0]),
                    Measured(_statements(large.db, b), times[1]),
                )
            return results
    finally:
        fake.stop()


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    repeat = 10 if quick else 40
    for name, (a, b) in _measured(kind, repeat).items():
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

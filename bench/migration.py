"""An upgrade on a database in use (PostgreSQL only): a database at revision 4efd0b76f7b1 (the one
before the `done_at` and digest-index migrations) with 10,000 done initiatives, 2,000 active ones
and 1,000,000 events is upgraded to head while the running release keeps reading (a status lookup:
the initiative by key and its latest events) and writing (an update of one initiative), each in a
thread of its own, one statement after another.

Printed: the upgrade's duration, and the latency of the reads and writes that started while it
ran (count, p50, p99, max), for the shipped migrations and, for comparison, for the migrations as
they were before they were rewritten (git commit OLD, one transaction, indexes built inside it, a
correlated subquery per done initiative). Target: no read or write waits more than 2 s during
the shipped upgrade. The same seeded database is copied for both runs (CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from bench.harness import Table, percentile, postgres_url
from storage import migrate

START = "4efd0b76f7b1"
OLD = "caa92e51b9c77b3f82849b88d13d547d5300d236"  # the last commit with the old migrations
ROOT = Path(__file__).resolve().parents[1]
TEAM = "T0BENCH"
TARGET_MAX = 2.0
# the old upgrade is quadratic (done initiatives x events): it is stopped after this long (its one
# transaction rolls back) and reported as "more than"
OLD_CAP = 150.0


@dataclass
class Timings:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (started, seconds)

    def during(self, start: float, end: float) -> list[float]:
        return [seconds for started, seconds in self.samples if start <= started <= end]


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    if kind != "postgres":
        table.add("migration", kind, "upgrade while the app reads", "not measured: PostgreSQL only")
        return
    done, active, events = (1_000, 200, 100_000) if quick else (10_000, 2_000, 1_000_000)
    label = f"{done:,} done, {events:,} events"
    with _scratch("seed") as (seed_url, _):
        started = time.perf_counter()
        _seed(seed_url, done, active, events)
        table.add("migration", kind, f"seed {label}", f"{time.perf_counter() - started:.1f} s")
        keys = [f"REQ-{n}" for n in range(1, done + active + 1)]
        for name, upgrade in (("shipped", _upgrade_shipped), ("old", _upgrade_old)):
            if upgrade is None:
                continue
            with _scratch(name, template=seed_url) as (url, _):
                _measure(table, kind, name, url, upgrade, keys, done)


def _measure(
    table: Table,
    kind: str,
    name: str,
    url: str,
    upgrade: Callable[[sa.Engine], None],
    keys: list[str],
    done: int,
) -> None:
    app = sa.create_engine(url, pool_size=4)
    reads, writes = Timings(), Timings()
    stop = threading.Event()
    active_keys = keys[done:]

    def read(connection: sa.Connection) -> None:
        key = random.choice(keys)
        row = connection.execute(
            sa.text(
                "SELECT id, key, title, state, health, owner_id, due_date FROM initiative "
                "WHERE team_id = :team AND key = :key"
            ),
            {"team": TEAM, "key": key},
        ).one()
        connection.execute(
            sa.text(
                "SELECT kind, at FROM event WHERE team_id = :team AND initiative_id = :id "
                "ORDER BY at DESC LIMIT 5"
            ),
            {"team": TEAM, "id": row.id},
        ).all()

    def write(connection: sa.Connection) -> None:
        connection.execute(
            sa.text("UPDATE initiative SET updated_at = now() WHERE team_id = :team AND key = :key"),
            {"team": TEAM, "key": random.choice(active_keys)},
        )

    def loop(step: Callable[[sa.Connection], None], into: Timings) -> None:
        while not stop.is_set():
            began = time.perf_counter()
            with app.connect() as connection:
                step(connection)
                connection.commit()
            into.samples.append((began, time.perf_counter() - began))
            time.sleep(0.005)

    threads = [
        threading.Thread(target=loop, args=(read, reads)),
        threading.Thread(target=loop, args=(write, writes)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    engine = sa.create_engine(url)
    started, stopped = time.perf_counter(), False
    try:
        upgrade(engine)
    except Stopped:
        stopped = True
    finally:
        ended = time.perf_counter()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        engine.dispose()
        app.dispose()
    case = f"{name} {START[:7]}->head"
    took = (
        f"more than {ended - started:.0f} s: stopped, rolled back" if stopped else f"{ended - started:.1f} s"
    )
    table.add("migration", kind, f"{case}: upgrade", took)
    for what, timings in (("reads", reads), ("writes", writes)):
        during = timings.during(started, ended)
        worst = max(during) if during else 0.0
        figure = (
            f"n={len(during)} p50={percentile(during, 50) * 1000:.0f} ms "
            f"p99={percentile(during, 99) * 1000:.0f} ms max={worst * 1000:.0f} ms"
            if during
            else "none started"
        )
        shipped = name == "shipped"
        table.add(
            "migration",
            kind,
            f"{case}: {what} meanwhile",
            figure,
            f"max < {TARGET_MAX:g} s" if shipped else "",
            (worst < TARGET_MAX) if shipped else None,
        )


def _upgrade_shipped(engine: sa.Engine) -> None:
    migrate.upgrade(engine)


class Stopped(Exception):
    pass


def _upgrade_old(engine: sa.Engine) -> None:
    """The migrations and the way they were run before the rewrite: all revisions in one
    transaction, without timeouts (but stopped after OLD_CAP)."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", OLD, "storage/migrations"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        config = Config()
        config.set_main_option("script_location", str(Path(folder) / "storage" / "migrations"))
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{OLD_CAP:g}s'")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "57014":
                raise
            raise Stopped from None


def _seed(url: str, done: int, active: int, events: int) -> None:
    engine = sa.create_engine(url)
    migrate.upgrade(engine, START)
    total = done + active
    per = max(1, events // total)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO okr (team_id, key, kind, title, period, priority, created_at, updated_at) "
                "VALUES (:team, 'O1', 'objective', 'Grow', '2026-Q1', 3, now(), now())"
            ),
            {"team": TEAM},
        )
        connection.execute(
            sa.text(
                "INSERT INTO initiative (team_id, number, key, title, description, requester_id, okr_id, "
                "impact_level, impact, state, health, health_since, consecutive_misses, created_at, "
                "updated_at) "
                "SELECT :team, g, 'REQ-' || g, 'Work ' || g, '', 'U0DAN', (SELECT id FROM okr), 2, '', "
                "CASE WHEN g <= :done THEN 'done' ELSE 'active' END, "
                "CASE WHEN g % 7 = 0 THEN 'at_risk' ELSE 'on_track' END, now() - interval '30 days', 0, "
                "now() - interval '120 days', now() - (g % 90) * interval '1 day' "
                "FROM generate_series(1, :total) AS g"
            ),
            {"team": TEAM, "done": done, "total": total},
        )
        # every other done initiative has its `initiative.done` event; every fourth a check-in done
        connection.execute(
            sa.text(
                "INSERT INTO event (team_id, initiative_id, subject, kind, data, at) "
                "SELECT :team, i.id, 'initiative:' || i.number, "
                "CASE WHEN n = 1 AND i.state = 'done' AND i.number % 2 = 0 THEN 'initiative.done' "
                "ELSE 'checkin.answered' END, '{}', now() - n * interval '1 hour' "
                "FROM initiative AS i, generate_series(1, :per) AS n"
            ),
            {"team": TEAM, "per": per},
        )
        connection.execute(
            sa.text(
                "INSERT INTO checkin_update "
                "(team_id, initiative_id, author_id, done, moved, blockers, created_at) "
                "SELECT :team, id, 'U0DAN', TRUE, '', '', now() - interval '3 days' FROM initiative "
                "WHERE state = 'done' AND number % 4 = 1"
            ),
            {"team": TEAM},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


@contextmanager
def _scratch(name: str, template: str | None = None) -> Iterator[tuple[str, str]]:
    base = postgres_url()
    assert base
    database = f"throughline_bench_migration_{name}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    source = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"{source}'))
    try:
        yield make_url(base).set(database=database).render_as_string(hide_password=False), database
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()

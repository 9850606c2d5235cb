"""What every benchmark needs: a fresh database (SQLite or PostgreSQL), the fake Slack, the real
app behind the production HTTP server, seeding in bulk, and honest statistics."""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.core.config import Settings
from storage import migrate
from storage.db import Database
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Digest,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
    Person,
    Workspace,
)
from tests.slackfake import TEAM_ID, FakeSlack

SIGNING_SECRET = "bench-signing-secret"
POSTGRES_ENV = ("BENCH_DATABASE_URL", "TEST_DATABASE_URL")


@dataclass
class Row:
    """One line of the printed table."""

    bench: str
    database: str
    case: str
    figure: str
    target: str = ""
    ok: bool | None = None


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args: Any, **kwargs: Any) -> None:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        print(_format(row), flush=True)

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.ok is False]


HEADER = f"{'bench':<10} {'db':<10} {'case':<44} {'figure':<46} {'target':<14} ok"


def _format(row: Row) -> str:
    mark = "" if row.ok is None else ("yes" if row.ok else "NO")
    return f"{row.bench:<10} {row.database:<10} {row.case:<44} {row.figure:<46} {row.target:<14} {mark}"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median_time(run: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs (after one warm-up)."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- databases ---------------------------------------------------------------------------------------


def postgres_url() -> str | None:
    for name in POSTGRES_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return None


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A migrated, empty database of `kind` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            database = Database(url)
            migrate.upgrade(database.engine)
            database.dispose()
            yield url
        return
    base = postgres_url()
    assert base, "PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL"
    name = f"throughline_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        migrate.upgrade(database.engine)
        database.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_for(fake: FakeSlack, database_url: str, **overrides: Any) -> Settings:
    """The test suite's settings (`tests.conftest.make_settings`), with the bench's signing secret
    and quieter logs."""
    from tests.conftest import make_settings

    return make_settings(
        fake, database_url, **{"slack_signing_secret": SIGNING_SECRET, "log_level": "WARNING", **overrides}
    )


def start_fake() -> FakeSlack:
    fake = FakeSlack().start()
    populate(fake)
    return fake


def populate(fake: FakeSlack, owners: int = 0) -> None:
    for user, tz in (
        ("U0ALICE", "Europe/Berlin"),
        ("U0ERIN", "Europe/Berlin"),
        ("U0BOB", "America/Los_Angeles"),
        ("U0DAN", "UTC"),
        ("U0LEAD", "Europe/Berlin"),
        ("U0ADMIN", "UTC"),
    ):
        fake.add_user(user, user[2:].lower(), tz=tz)
    for channel in ("C0TRIAGE", "C0GOVERN", "C0DIGEST", "C0GENERAL"):
        fake.add_channel(channel)
    for n in range(owners):
        fake.add_user(owner_id(n), f"owner{n}", tz="Europe/Berlin")


def owner_id(n: int) -> str:
    return f"U0OWN{n:06d}"


# -- seeding in bulk ---------------------------------------------------------------------------------


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def insert(database: Database, model: type[Any], rows: list[dict[str, Any]]) -> None:
    with database.session() as session:
        for chunk in _chunks(rows):
            session.execute(sa.insert(model), chunk)


def analyze(database: Database) -> None:
    """Table statistics, as autovacuum (PostgreSQL) or a long-running database would have them:
    a planner that has never seen the bulk-loaded rows guesses, and guesses wrong."""
    with database.engine.connect() as connection:
        connection.execute(sa.text("ANALYZE"))
        connection.commit()


@dataclass
class Organisation:
    okr_ids: list[int]
    initiative_ids: list[int]
    keys: list[str]


def seed_organisation(
    database: Database,
    now: datetime,
    initiatives: int,
    *,
    okrs: int = 60,
    owners: int = 50,
    weeks_of_history: int = 12,
    due: int = 0,
    featured_owner: str | None = "U0ALICE",
    steady_owner: str | None = None,
) -> Organisation:
    """A workspace with `okrs` objectives (each with two KRs), `initiatives` active initiatives
    spread over them and over `owners` people, each with `weeks_of_history` weekly check-ins
    answered. `due` of them have their check-in due now. Every 10th is owned by `featured_owner`,
    whose portfolio grows with the company; `steady_owner` owns 10 of them at any size, as a person
    does when the company around them grows."""
    steady_every = max(10, initiatives // 10)

    def owner_of(n: int) -> str:
        if featured_owner and n % 10 == 0:
            return featured_owner
        if steady_owner and n % steady_every == 5:
            return steady_owner
        return owner_id(n % owners)

    with database.session() as session:
        session.add(
            Workspace(
                team_id=TEAM_ID,
                name="Bench",
                settings={},
                next_request_number=initiatives + 1,
                created_at=now - timedelta(days=365),
            )
        )
    okr_rows = []
    for n in range(okrs):
        okr_rows.append(
            {
                "team_id": TEAM_ID,
                "key": f"O{n + 1}",
                "kind": OkrKind.OBJECTIVE,
                "title": f"Objective {n}",
                "owner_id": "U0LEAD",
                "period": "2026-Q4",
                "priority": 1 + n % 5,
                "created_at": now,
                "updated_at": now,
            }
        )
    insert(database, Okr, okr_rows)
    with database.session() as session:
        objectives = dict(session.execute(sa.select(Okr.key, Okr.id)).tuples().all())
    kr_rows = []
    for n in range(okrs):
        for k in (1, 2):
            kr_rows.append(
                {
                    "team_id": TEAM_ID,
                    "key": f"O{n + 1}-KR{k}",
                    "kind": OkrKind.KEY_RESULT,
                    "parent_id": objectives[f"O{n + 1}"],
                    "title": f"Key result {n}.{k}",
                    "owner_id": "U0LEAD",
                    "period": "2026-Q4",
                    "priority": 3,
                    "metric_start": 0.0,
                    "metric_target": 100.0,
                    "metric_current": float(n % 100),
                    "metric_unit": "%",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    insert(database, Okr, kr_rows)
    with database.session() as session:
        kr_ids = list(
            session.scalars(sa.select(Okr.id).where(Okr.kind == OkrKind.KEY_RESULT).order_by(Okr.id))
        )
    healths = [Health.ON_TRACK, Health.ON_TRACK, Health.AT_RISK, Health.BLOCKED]
    last_posted = now - timedelta(days=(now.weekday() - 4) % 7 or 7) - timedelta(days=7)
    rows = []
    for n in range(initiatives):
        owner = owner_of(n)
        health_since = now - timedelta(days=n % 20)
        rows.append(
            {
                "team_id": TEAM_ID,
                "number": n + 1,
                "key": f"REQ-{n + 1}",
                "title": f"Initiative number {n + 1}",
                "description": "",
                # requests come from many people, as owners do: one requester of every initiative
                # would also skew SQLite's planner statistics (ANALYZE) off the requester index
                "requester_id": owner_id((n * 7 + 3) % owners),
                "owner_id": owner,
                "okr_id": kr_ids[n % len(kr_ids)],
                "impact_level": 2,
                "impact": "",
                "state": InitiativeState.ACTIVE,
                "health": healths[n % 4],
                "health_since": health_since,
                "digest_health": healths[n % 4] if health_since <= last_posted else None,
                "cadence": "weekly:mon@09:00",
                "next_checkin_at": now - timedelta(minutes=1) if n < due else now + timedelta(days=1 + n % 6),
                "last_checkin_at": now - timedelta(days=7),
                "consecutive_misses": 0,
                "created_at": now - timedelta(weeks=weeks_of_history + 1),
                "updated_at": now,
            }
        )
    insert(database, Initiative, rows)
    with database.session() as session:
        ids = list(session.scalars(sa.select(Initiative.id).order_by(Initiative.number)))
    people = [
        {
            "team_id": TEAM_ID,
            "user_id": u,
            "tz": "Europe/Berlin",
            "profile_fetched_at": now,
            "created_at": now,
        }
        for u in {owner_of(n) for n in range(initiatives)} | {owner_id(0)}
    ]
    insert(database, Person, people)
    checkins, updates = [], []
    for week in range(weeks_of_history):
        slot = now - timedelta(weeks=weeks_of_history - week)
        for n, initiative_id in enumerate(ids):
            owner = owner_of(n)
            checkins.append(
                {
                    "team_id": TEAM_ID,
                    "initiative_id": initiative_id,
                    "owner_id": owner,
                    "slot_at": slot,
                    "prompted_at": slot,
                    "status": CheckinStatus.ANSWERED,
                    "closed_at": slot,
                }
            )
            updates.append(
                {
                    "team_id": TEAM_ID,
                    "initiative_id": initiative_id,
                    "author_id": owner,
                    "health": healths[(n + week) % 4],
                    "done": False,
                    "moved": f"week {week}",
                    "blockers": "",
                    "created_at": slot + timedelta(hours=2),
                }
            )
    insert(database, Checkin, checkins)
    insert(database, CheckinUpdate, updates)
    analyze(database)
    # a workspace that has run for weeks has had its digests; the last one stored on each initiative
    # the health it saw, which is today's for those whose health has not changed since
    with database.session() as session:
        session.add(
            Digest(
                team_id=TEAM_ID,
                period_start=(last_posted - timedelta(days=7)).date(),
                period_end=last_posted.date(),
                created_at=last_posted,
                summary={"version": 2},
            )
        )
    return Organisation(kr_ids, ids, [f"REQ-{n + 1}" for n in range(initiatives)])


def today(now: datetime) -> date:
    return now.astimezone(UTC).date()


class Server:
    """A WSGI app behind waitress (the production server) on a loopback port, in a thread."""

    def __init__(self, wsgi: Any, threads: int = 8) -> None:
        from bot.app.server import make_server

        self.server = make_server(wsgi, "127.0.0.1", 0, threads)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        from waitress import wasyncore

        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        sockets = self.server._map
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(sockets, ignore_all=True))
        except OSError:
            pass
        self._thread.join(5)

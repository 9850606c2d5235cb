"""The scheduler: one tick over 100,000 active initiatives of which 1,000 are due, against a tick
over 1,000 initiatives that are all due. Target: at most 1.5 times the time. On PostgreSQL the
plans of the tick's queries are printed, to show they use indexes.

This period's digest counts as posted, and this week's chart checkpoint as taken, as they are on
every tick of the week but one: both aggregate over everything once a week, and the digest is
measured by the reads bench."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.harness import Table, analyze, fresh_database, insert, populate, seed_organisation, settings_for
from bot.app.runtime import Runtime
from bot.app.tick import tick
from bot.checkins import models as checkins
from bot.digest.service import checkpoints as digest_checkpoints
from bot.digest.service import periods as digest_periods
from storage.db import Database
from storage.models import (
    Checkin,
    CheckinStatus,
    Dependency,
    DependencyState,
    Digest,
    Initiative,
    InitiativeState,
    Outbox,
)
from tests.slackfake import TEAM_ID, FakeSlack
from tests.sqlcount import count_statements

TARGET = 1.5
DUE = 1_000


def _tick_once(kind: str, total: int, owners: int) -> tuple[float, int, dict[str, dict[str, int]], list[str]]:
    fake = FakeSlack().start()
    populate(fake, owners=owners)
    try:
        with fresh_database(kind) as url:
            now = datetime.now(UTC)
            organisation = seed_organisation(
                Database(url), now, total, owners=owners, weeks_of_history=0, due=DUE
            )
            _seed_dependencies(Database(url), organisation.initiative_ids, now)
            runtime = Runtime(settings_for(fake, url))
            period = digest_periods.scheduled_period(runtime.services.defaults, now)
            assert period is not None
            with runtime.db.session() as session:
                session.add(
                    Digest(
                        team_id=TEAM_ID,
                        period_start=period.start_date,
                        period_end=period.end_date,
                        created_at=period.end,
                        summary={},
                    )
                )
            digest_checkpoints.take_checkpoints(runtime.db, TEAM_ID, runtime.services.defaults, now)
            # a tick handles at most OWNER_BATCH owners; the rest are the next tick's: run ticks
            # until everything due was asked (the passes only: delivery is the fan-out bench)
            seconds = 0.0
            with count_statements(runtime.db.engine) as seen:
                for _ in range(5):
                    started = time.perf_counter()
                    report = tick(runtime.services, now)
                    seconds += time.perf_counter() - started
                    assert report.ok, report.failed
                    if not report.counts.get("checkins"):
                        break
            with runtime.db.session() as session:
                asked = session.scalar(sa.select(sa.func.count()).select_from(Checkin))
                queued = session.scalar(sa.select(sa.func.count()).select_from(Outbox))
            assert asked == DUE and queued >= 1, (asked, queued)
            plans = _plans(runtime, now) if kind == "postgres" else []
            runtime.stop()
            return seconds, seen.count, report.counts, plans
    finally:
        fake.stop()


def _seed_dependencies(database: Database, ids: list[int], now: datetime) -> None:
    """Every 20th initiative waits on the next one (which is on track, needed in a month): a quarter
    of those dependencies still open, the rest met. The tick looks at every open one each time."""
    insert(
        database,
        Dependency,
        [
            {
                "team_id": TEAM_ID,
                "waiter_id": ids[k],
                "provider_id": ids[k + 1],
                "what": "an API",
                "needed_by": (now + timedelta(days=30)).date(),
                "state": DependencyState.OPEN if k % 80 == 0 else DependencyState.MET,
                "created_by": "U0BENCH",
                "created_at": now - timedelta(days=10),
            }
            for k in range(0, len(ids) - 1, 20)
        ],
    )
    analyze(database)


def _plans(runtime: Runtime, now: datetime) -> list[str]:
    """EXPLAIN of the queries that find due work, as the tick runs them."""
    queries = {
        "due owners": sa.select(Initiative.team_id, Initiative.owner_id)
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at <= now,
            Initiative.owner_id.is_not(None),
        )
        .group_by(Initiative.team_id, Initiative.owner_id)
        .limit(checkins.OWNER_BATCH),
        "reminders due": sa.select(Checkin.team_id, Checkin.owner_id)
        .where(
            Checkin.status == CheckinStatus.PENDING,
            Checkin.reminder_due_at <= now,
            Checkin.reminded_at.is_(None),
        )
        .group_by(Checkin.team_id, Checkin.owner_id),
        "open dependencies": sa.select(Dependency.id).where(Dependency.state == DependencyState.OPEN),
        "outbox due": sa.select(Outbox.id)
        .where(Outbox.state == "pending", Outbox.next_attempt_at <= now)
        .order_by(Outbox.id)
        .limit(50),
    }
    lines = []
    with runtime.db.engine.connect() as connection:
        for name, query in queries.items():
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            plan = connection.exec_driver_sql(f"EXPLAIN {compiled}").scalars().all()
            lines.append(
                f"{name}: " + " / ".join(line.strip() for line in plan if "Scan" in line or "Index" in line)
            )
    return lines


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    large = 20_000 if quick else 100_000
    big_s, big_n, big_counts, plans = _tick_once(kind, large, owners=5_000)
    small_s, small_n, small_counts, _ = _tick_once(kind, DUE, owners=DUE)
    ratio = big_s / small_s
    table.add(
        "scheduler",
        kind,
        f"tick: {large:,} active, {DUE:,} due vs {DUE:,} all due",
        f"{big_s * 1000:.0f} vs {small_s * 1000:.0f} ms = {ratio:.2f}x; {big_n} vs {small_n} stmts",
        f"<= {TARGET}x",
        ratio <= TARGET,
    )
    table.add(
        "scheduler",
        kind,
        "  the large run asked",
        f"{DUE:,} check-ins, in ticks of {checkins.OWNER_BATCH} owners; each tick looked at "
        f"{big_counts['escalations'].get('evaluated', 0):,} open dependencies "
        f"(the small run: {small_counts['escalations'].get('evaluated', 0):,})",
    )
    for line in plans:
        table.add("scheduler", kind, "  plan", line[:120])

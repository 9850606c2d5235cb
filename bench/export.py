"""`throughline export` and `throughline audit verify` as the data grows: peak memory (RSS of the
command's own process) and time, from 1,000 to 100,000 initiatives, each with a year of weekly
check-ins (a slot and an answer a week) and an event per answer. Judged: peak RSS at the largest
size within 1.25x of the smallest (memory stays flat: rows are streamed, never all loaded)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Table, fresh_database, seed_organisation
from storage import chain
from storage.db import Database
from storage.models import Event, EventChain
from tests.slackfake import TEAM_ID

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEEKS = 52
ROOT = Path(__file__).resolve().parents[1]


def _weeks(dialect: str) -> str:
    """SQL for rows (n) 0..WEEKS-1 and the slot (text/timestamp) of week n."""
    start = NOW - timedelta(weeks=WEEKS)
    if dialect == "sqlite":
        slot = f"strftime('%Y-%m-%d %H:%M:%f000', '{start:%Y-%m-%d %H:%M:%S}', '+' || (w.n * 7) || ' days')"
    else:
        slot = f"(TIMESTAMPTZ '{start.isoformat()}' + w.n * INTERVAL '7 days')"
    return (
        f"WITH RECURSIVE w(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM w WHERE n < {WEEKS - 1}) "
        f"SELECT w.n AS n, {slot} AS slot FROM w"
    )


def seed(url: str, initiatives: int) -> int:
    """The workspace: OKRs, `initiatives`, and for each a year of weekly slots, answers and events
    (generated in the database with INSERT ... SELECT: a row costs microseconds). Returns its rows."""
    database = Database(url)
    try:
        seed_organisation(database, NOW, initiatives, weeks_of_history=0, featured_owner=None)
        weeks = _weeks(database.dialect)
        with database.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO checkin (team_id, initiative_id, owner_id, slot_at, prompted_at, status, "
                    "closed_at) SELECT i.team_id, i.id, i.owner_id, w.slot, w.slot, 'answered', w.slot "
                    f"FROM initiative i CROSS JOIN ({weeks}) w"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO checkin_update (team_id, initiative_id, checkin_id, author_id, health, "
                    "done, moved, blockers, created_at) SELECT c.team_id, c.initiative_id, c.id, "
                    "c.owner_id, 'on_track', false, '=moved ' || c.id, '', c.slot_at FROM checkin c"
                )
            )
            data = '\'{"health": "on_track"}\'' + ("::jsonb" if database.dialect == "postgresql" else "")
            connection.execute(
                sa.text(
                    "INSERT INTO event (team_id, initiative_id, subject, kind, actor_id, data, at) "
                    "SELECT c.team_id, c.initiative_id, 'checkin:' || c.id, 'checkin.answered', "
                    f"c.owner_id, {data}, c.slot_at FROM checkin c ORDER BY c.slot_at, c.id"
                )
            )
        _chain(database)
        with database.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
            return sum(
                connection.scalar(sa.text(f"SELECT count(*) FROM {t}")) or 0
                for t in ("initiative", "checkin", "checkin_update", "event", "okr")
            )
    finally:
        database.dispose()


def _chain(database: Database, batch: int = 20_000) -> None:
    """Chain the generated events as the app would have (so `audit verify` has a chain to walk)."""
    seq, head, after = 0, chain.GENESIS, 0
    columns = [Event.id, Event.team_id, Event.subject, Event.kind, Event.actor_id, Event.initiative_id]
    with database.session() as session:
        while True:
            rows = session.execute(
                sa.select(*columns, Event.data, Event.at)
                .where(Event.id > after)
                .order_by(Event.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            sealed = []
            for row in rows:
                seq += 1
                fields = {**row._mapping, "seq": seq}
                digest = chain.event_hash(fields, head)
                sealed.append({"id": row.id, "seq": seq, "prev_hash": head, "hash": digest})
                head = digest
            session.execute(sa.update(Event), sealed)  # ORM bulk UPDATE by primary key
            after = rows[-1].id
        session.add(EventChain(team_id=TEAM_ID, seq=seq, head_hash=head))


def measure(url: str, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of `throughline ARGS` in a process of its own. The peak
    is the process's own high-water mark after exec (VmHWM, read until it exits): getrusage's
    ru_maxrss would count the bench's own memory, which the child had between fork and exec."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THROUGHLINE_", "SLACK_"))}
    env["DATABASE_URL"] = url
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=out, stderr=err
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, _high_water(process.pid))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise RuntimeError(f"throughline {' '.join(args)} failed: {err.read().decode()[-500:]}")
        return elapsed, peak / 1024, out.read().decode()


def _high_water(pid: int) -> int:
    """The process's peak resident memory so far, in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    if os.environ.get("BENCH_EXPORT_SIZES"):
        sizes = [int(s) for s in os.environ["BENCH_EXPORT_SIZES"].split(",")]
    peaks: dict[str, list[float]] = {"csv": [], "jsonl": [], "verify": []}
    for size in sizes:
        with fresh_database(kind) as url:
            started = time.perf_counter()
            rows = seed(url, size)
            seeded = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as out:
                for fmt in ("csv", "jsonl"):
                    seconds, rss, _ = measure(url, "export", "--format", fmt, "--out", out)
                    written = sum(f.stat().st_size for f in Path(out).glob(f"*.{fmt}"))
                    peaks[fmt].append(rss)
                    table.add(
                        "export",
                        kind,
                        f"{size:,} initiatives, {rows:,} rows, {fmt}",
                        f"{seconds:.1f} s, {rows / seconds:,.0f} rows/s, peak RSS {rss:.0f} MiB, "
                        f"{written / 2**20:,.0f} MiB (seed {seeded:.0f} s)",
                    )
            seconds, rss, out_text = measure(url, "audit", "verify")
            peaks["verify"].append(rss)
            assert "the chain is whole" in out_text, out_text
            table.add(
                "export",
                kind,
                f"{size:,} initiatives: audit verify",
                f"{seconds:.1f} s, peak RSS {rss:.0f} MiB",
            )
    for what, values in peaks.items():
        growth = values[-1] / values[0]
        table.add(
            "export",
            kind,
            f"peak RSS, {what}: {sizes[0]:,} -> {sizes[-1]:,} initiatives",
            f"{values[0]:.0f} -> {values[-1]:.0f} MiB = {growth:.2f}x",
            "<= 1.25x",
            growth <= 1.25,
        )

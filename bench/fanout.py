"""Fan-out: 2,000 owners due in the same minute, against a fake Slack that enforces Slack's rate
limits (chat.postMessage 1 a second per channel under a workspace ceiling; Tier 3 for
conversations.*). Targets: all delivered, none twice, throughput at least 95 % of the ceiling.
Peak memory is reported."""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.harness import Table, fresh_database, populate, seed_organisation, settings_for
from bot.app.runtime import Runtime
from bot.app.tick import tick
from storage.db import Database
from storage.models import Outbox, OutboxState
from tests.slackfake import FakeSlack, SlackRateLimits

CEILING = 50.0  # messages a second for the workspace
TARGET = 0.95


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    owners = 500 if quick else 2_000
    fake = FakeSlack().start()
    populate(fake, owners=owners)
    limits = SlackRateLimits(workspace_per_second=CEILING, workspace_burst=int(CEILING))
    try:
        with fresh_database(kind) as url:
            now = datetime.now(UTC)
            # every initiative its own owner, all due now: one DM each
            seed_organisation(
                Database(url),
                now,
                owners,
                owners=owners,
                weeks_of_history=0,
                due=owners,
                featured_owner=None,
            )
            runtime = Runtime(settings_for(fake, url, slack_post_rate=CEILING, slack_post_burst=20))
            fake.limiter = limits
            tracemalloc.start()
            started = time.perf_counter()
            ticks = 0
            while True:  # a tick asks at most OWNER_BATCH owners; the scheduler would run the next
                report = tick(runtime.services, now)
                ticks += 1
                if not report.counts.get("checkins"):
                    break
            enqueued = time.perf_counter() - started
            sending = time.perf_counter()
            deadline = sending + 20 + owners / CEILING * 3
            while time.perf_counter() < deadline:
                runtime.deliverer.drain()
                with runtime.db.read() as session:
                    left = session.scalar(
                        sa.select(sa.func.count()).select_from(Outbox).where(Outbox.state != OutboxState.SENT)
                    )
                if not left:
                    break
                time.sleep(0.05)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            posts = fake.calls_to("chat.postMessage", ok=True)
            first, last = posts[0].at, posts[-1].at
            throughput = (len(posts) - 1) / (last - first)
            keys = Counter(
                ((c.args.get("metadata") or {}).get("event_payload") or {}).get("key") for c in posts
            )
            nudged = {k for k in keys if str(k).startswith("checkin:")}  # the week's digest goes out too
            doubled = sum(1 for n in keys.values() if n > 1)
            runtime.stop()
    finally:
        fake.stop()
    table.add(
        "fanout",
        kind,
        f"{owners:,} owners due at once: delivered",
        f"{len(nudged):,} DMs, {doubled} twice, {limits.limited} answered 429",
        "all, none twice",
        len(nudged) == owners and doubled == 0,
    )
    table.add(
        "fanout",
        kind,
        f"  throughput vs the {CEILING:.0f}/s ceiling",
        f"{throughput:.1f}/s = {throughput / CEILING:.1%} "
        f"(queued in {enqueued:.1f} s under tracemalloc, {ticks} ticks)",
        f">= {TARGET:.0%}",
        throughput >= TARGET * CEILING,
    )
    table.add(
        "fanout",
        kind,
        "  peak memory",
        f"{peak / 2**20:.1f} MiB traced in the run; process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
    )

"""APScheduler used as a clock, nothing more: every `seconds` it calls `tick(now)`.

Each process keeps its own in-memory job store (APScheduler's FAQ warns that a shared job store
duplicates or misses jobs); correctness across replicas comes from the database, not from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


def start_scheduler(
    run_tick: Callable[[], object], seconds: int, *, first_in: float = 5.0
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": seconds},
    )

    def job() -> None:
        try:
            run_tick()
        except Exception:  # the database may be down: skip this minute, catch up on the next
            log.exception("tick failed; the next one will catch up")

    scheduler.add_job(
        job,
        IntervalTrigger(seconds=seconds),
        id="throughline-tick",
        next_run_time=datetime.now(UTC) + timedelta(seconds=first_in),
    )
    scheduler.start()
    return scheduler

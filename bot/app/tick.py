"""One pass of the clock: find due work, enqueue messages, deliver.

The scheduler calls `tick(now)` every minute; `throughline tick --now ...` calls it once. Every step
works from data (`next_checkin_at <= now`, ...), so a missed run is caught up by the next one, and
claims plus outbox keys make concurrent ticks on several replicas safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.checkins import jobs as checkin_passes
from bot.core import uninstall
from bot.core.services import Services
from bot.dependencies import jobs as dependency_passes
from bot.digest import jobs as digest_jobs
from bot.outbox import prune
from bot.outbox.deliverer import Deliverer, DeliveryReport
from bot.slack import redelivery
from bot.trackers import jobs as tracker_passes
from bot.trackers.service import backlinks as tracker_backlinks

log = logging.getLogger(__name__)

Step = Callable[[Services, datetime], dict[str, int]]


def housekeeping(services: Services, now: datetime) -> dict[str, int]:
    """Forget what is kept only for a while: Slack deliveries past their retry horizon, and sent
    messages and back-link comments past the outbox's retention period, in batches of short
    transactions."""
    retention = timedelta(days=services.settings.outbox_retention_days)
    forgotten = _in_batches(services, lambda session: redelivery.forget_old(session, now, limit=prune.BATCH))
    pruned = prune.prune_sent(services.db, now, retention)
    comments = _in_batches(
        services, lambda session: tracker_backlinks.prune_sent(session, now - retention, limit=prune.BATCH)
    )
    return {
        "forgotten_requests": forgotten,
        "outbox_deleted": pruned.deleted,
        "outbox_pruned": pruned.kept_reference,
        "backlinks_deleted": comments,
    }


def uninstalled(services: Services, now: datetime) -> dict[str, int]:
    """Workspaces uninstalled longer than the retention window ago: every row of theirs deleted."""
    retention = timedelta(days=services.settings.uninstall_retention_days)
    return uninstall.purge_expired(services.db, now, retention)


def _in_batches(services: Services, delete: Callable[[Session], int]) -> int:
    """Run `delete` (at most prune.BATCH rows a call), each call its own transaction, until it
    deletes less than a batch or prune.MAX_BATCHES calls ran; how many rows went."""
    total = 0
    for _ in range(prune.MAX_BATCHES):
        with services.db.session() as session:
            batch = delete(session)
        total += batch
        if batch < prune.BATCH:
            break
    return total


def steps() -> list[tuple[str, Step]]:
    """The passes of a tick, in order. Each runs in its own transactions; one failing does not
    stop the others."""
    return [
        ("housekeeping", housekeeping),
        ("uninstalled", uninstalled),
        ("directory", checkin_passes.directory),
        ("checkins", checkin_passes.nudges),
        ("reminders", checkin_passes.reminders),
        ("escalations", dependency_passes.escalations),
        ("chart", digest_jobs.chart_checkpoints),  # before the digest: its chart reads its slot's checkpoint
        ("digest", digest_jobs.post_digests),
        # last: it waits on the trackers' answers, which must never delay a message
        ("trackers", tracker_passes.reconcile),  # linked work read again where a webhook was missed
        ("backlinks", tracker_passes.backlinks),  # comments on linked items, for workspaces that opted in
    ]


@dataclass
class TickReport:
    now: datetime
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    delivery: DeliveryReport | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def tick(services: Services, now: datetime, deliverer: Deliverer | None = None) -> TickReport:
    """Run every step at `now`, then deliver what is due."""
    report = TickReport(now)
    for name, step in steps():
        try:
            report.counts[name] = step(services, now)
        except Exception as exc:
            log.exception("tick step %s failed at %s", name, now.isoformat())
            report.failed[name] = f"{type(exc).__name__}: {exc}"
    if deliverer is not None:
        try:
            report.delivery = deliverer.drain()
        except Exception as exc:
            log.exception("delivery failed at %s", now.isoformat())
            report.failed["delivery"] = f"{type(exc).__name__}: {exc}"
    return report

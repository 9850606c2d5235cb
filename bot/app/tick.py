"""One pass of the clock: find due work, enqueue messages, deliver.

The scheduler calls `tick(now)` every minute; `throughline tick --now ...` calls it once. Every step
works from data (`next_checkin_at <= now`, ...), so a missed run is caught up by the next one, and
claims plus outbox keys make concurrent ticks on several replicas safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from bot.checkins import jobs as checkin_passes
from bot.core.services import Services
from bot.core.workspaces import effective_settings
from bot.dependencies import jobs as dependency_passes
from bot.digest import service as digest
from bot.outbox.delivery import Deliverer, DeliveryReport
from bot.slack import redelivery
from storage.models import Workspace

log = logging.getLogger(__name__)

Step = Callable[[Services, datetime], dict[str, int]]


def housekeeping(services: Services, now: datetime) -> dict[str, int]:
    with services.db.session() as session:
        return {"forgotten_requests": redelivery.forget_old(session, now)}


def chart_checkpoints(services: Services, now: datetime) -> dict[str, int]:
    """Each workspace's digest chart gets its checkpoint as a weekly grid instant passes."""
    with services.db.read() as session:
        teams = {
            w.team_id: effective_settings(w, services.defaults)
            for w in session.scalars(sa.select(Workspace).order_by(Workspace.id))
        }
    taken, failed = 0, []
    for team_id, settings in teams.items():
        try:
            taken += digest.take_checkpoints(services.db, team_id, settings, now)
        except Exception:  # one workspace's failure must not keep the others' back
            log.exception("chart checkpoints for %s failed at %s", team_id, now.isoformat())
            failed.append(team_id)
    if failed:
        raise RuntimeError(f"chart checkpoints failed for {', '.join(failed)} (took {taken})")
    return {"taken": taken}


def post_digests(services: Services, now: datetime) -> dict[str, int]:
    """Each workspace with a digest channel gets the digest of its latest period, once."""
    with services.db.session() as session:
        teams = digest.workspaces(session)
    posted, failed = 0, []
    for team_id in teams:
        try:
            result = digest.post_scheduled(
                services.db, services.defaults, team_id, now, template_dir=services.settings.template_dir
            )
        except Exception:  # one workspace's failure must not keep the others' digests back
            log.exception("digest for %s failed at %s", team_id, now.isoformat())
            failed.append(team_id)
            continue
        posted += result.outcome is digest.Outcome.POSTED
    if failed:
        raise RuntimeError(f"the digest failed for {', '.join(failed)} (posted {posted})")
    return {"posted": posted}


def steps() -> list[tuple[str, Step]]:
    """The passes of a tick, in order. Each runs in its own transactions; one failing does not
    stop the others."""
    return [
        ("housekeeping", housekeeping),
        ("directory", checkin_passes.directory),
        ("checkins", checkin_passes.nudges),
        ("reminders", checkin_passes.reminders),
        ("escalations", dependency_passes.escalations),
        ("chart", chart_checkpoints),  # before the digest: its chart reads the checkpoint of its slot
        ("digest", post_digests),
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

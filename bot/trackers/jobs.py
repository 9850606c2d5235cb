"""The tick's pass for linked work: read due links again, repairing what a missed webhook left stale."""

from __future__ import annotations

from datetime import datetime

from bot.core.services import Services
from bot.trackers import flows


def reconcile(services: Services, now: datetime) -> dict[str, int]:
    """A page of due links read again (THROUGHLINE_TRACKER_RECONCILE_BATCH); nothing without trackers."""
    if not services.settings.trackers_on:
        return {}
    return flows.reconcile(services, now)


def backlinks(services: Services, now: datetime) -> dict[str, int]:
    """Back-link comments due on linked items (workspaces that opted in queue them)."""
    if not services.settings.trackers_on:
        return {}
    return flows.send_backlinks(services, now)

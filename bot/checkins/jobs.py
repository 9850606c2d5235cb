"""The tick's check-in passes, in order: `directory`, `checkins` (nudges), `reminders`.

Each finds its work with an indexed query, then handles one owner per transaction, claiming the
owner first (see `service.tick.claim_owner`), so any number of replicas may run them at once. One
owner failing does not stop the others; the pass then reports a failure after finishing the rest.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.checkins.flows import tick
from bot.checkins.service import schedule
from bot.checkins.service import tick as due
from bot.core import people
from bot.core.config import WorkspaceSettings
from bot.core.installs import NotInstalled
from bot.core.services import Services

log = logging.getLogger(__name__)

DIRECTORY_BATCH = 20  # users.info calls per tick, at most

FindOwners = Callable[[Session, datetime], list[tuple[str, str]]]
HandleOwner = Callable[[Session, str, str, WorkspaceSettings, datetime], Counter[str]]


def directory(services: Services, now: datetime) -> dict[str, int]:
    """Owners of active initiatives get a `person` row; stale or never-fetched profiles are refreshed
    from users.info (bounded per tick); an owner whose zone changed is rescheduled; an active
    initiative without a next check-in gets one."""
    with services.db.session() as session:
        added = schedule.ensure_owner_people(session, now)
        stale = people.stale(session, now, limit=DIRECTORY_BATCH)
        zones_before = schedule.cached_zones(session, stale)
    refreshed = moved = 0
    for team_id, user_id in stale:
        try:
            client = services.client_for(team_id)
        except NotInstalled:
            continue  # no token speaks for that workspace: its people stay as they are
        with services.db.session() as session:
            # users.info runs before the session's first statement: no transaction waits on Slack
            person = people.refresh(client, session, team_id, user_id, now)
            refreshed += person.profile_fetched_at == now
            if person.tz != zones_before.get((team_id, user_id)):
                settings = services.workspace(session, team_id)
                moved += schedule.reschedule_owner(session, team_id, user_id, settings, now)
    with services.db.session() as session:
        scheduled = schedule.schedule_unscheduled(session, services.defaults, now)
    counts = {"people_added": added, "refreshed": refreshed, "rescheduled": moved, "scheduled": scheduled}
    return {k: v for k, v in counts.items() if v}


def _per_owner(
    services: Services, now: datetime, find: FindOwners, handle: HandleOwner, what: str
) -> dict[str, int]:
    with services.db.session() as session:
        owners = find(session, now)
    totals: Counter[str] = Counter()
    failed = 0
    for team_id, owner_id in owners:
        try:
            with services.db.session() as session:
                totals.update(handle(session, team_id, owner_id, services.defaults, now))
        except Exception:
            log.exception("%s for %s/%s failed at %s", what, team_id, owner_id, now.isoformat())
            failed += 1
    if failed:
        raise RuntimeError(
            f"{what} failed for {failed} of {len(owners)} owner(s) (see the log); {dict(totals)}"
        )
    return {k: v for k, v in sorted(totals.items()) if v}


def nudges(services: Services, now: datetime) -> dict[str, int]:
    """Ask owners whose check-ins are due (one DM per owner and slot)."""
    return _per_owner(services, now, due.due_owners, tick.nudge_owner, "check-in nudges")


def reminders(services: Services, now: datetime) -> dict[str, int]:
    """Remind owners once after the reminder window; record what was missed."""
    return _per_owner(services, now, due.reminder_owners, tick.remind_owner, "check-in reminders")

"""The tick's digest passes, in order: `chart_checkpoints` (before the digest: its chart reads the
checkpoint of its slot), then `post_digests`. One workspace failing does not keep the others back;
the pass then reports a failure after finishing the rest."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from bot.core.services import Services
from bot.core.workspaces import effective_settings
from bot.digest.flows import post_scheduled
from bot.digest.models import Outcome
from bot.digest.service.checkpoints import take_checkpoints
from bot.digest.service.posting import workspaces
from storage.models import Workspace

log = logging.getLogger(__name__)


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
            taken += take_checkpoints(services.db, team_id, settings, now)
        except Exception:  # one workspace's failure must not keep the others' back
            log.exception("chart checkpoints for %s failed at %s", team_id, now.isoformat())
            failed.append(team_id)
    if failed:
        raise RuntimeError(f"chart checkpoints failed for {', '.join(failed)} (took {taken})")
    return {"taken": taken}


def post_digests(services: Services, now: datetime) -> dict[str, int]:
    """Each workspace with a digest channel gets the digest of its latest period, once."""
    with services.db.session() as session:
        teams = workspaces(session)
    posted, failed = 0, []
    for team_id in teams:
        try:
            result = post_scheduled(
                services.db, services.defaults, team_id, now, template_dir=services.settings.template_dir
            )
        except Exception:  # one workspace's failure must not keep the others' digests back
            log.exception("digest for %s failed at %s", team_id, now.isoformat())
            failed.append(team_id)
            continue
        posted += result.outcome is Outcome.POSTED
    if failed:
        raise RuntimeError(f"the digest failed for {', '.join(failed)} (posted {posted})")
    return {"posted": posted}

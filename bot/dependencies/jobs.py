"""The dependencies' part of the tick: close what waits on or for a closed initiative, then let the
escalation ladder evaluate what is left."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.dependencies import flows, service
from bot.escalation import jobs as escalation_jobs
from bot.escalation.models import BATCH
from storage.models import Initiative

if TYPE_CHECKING:
    from bot.core.services import Services


def escalations(services: Services, now: datetime) -> dict[str, int]:
    """The `escalations` tick step: first close the open dependencies whose waiter or provider is
    closed, so nothing escalates about work nobody waits for any more; then evaluate every open
    dependency and open, climb or resolve its escalation (bot.escalation.jobs.run)."""
    counts: Counter[str] = Counter()
    cached: dict[str, WorkspaceSettings] = {}
    with services.db.session() as session:
        counts.update(_close_for_closed_sides(session, services, cached, now))
    counts.update(escalation_jobs.run(services, now, cached))
    return dict(counts)


def _close_for_closed_sides(
    session: Session, services: Services, cached: dict[str, WorkspaceSettings], now: datetime
) -> Counter[str]:
    """Open dependencies whose waiter or provider is done, declined or cancelled (closed by a path
    that did not close them, or before that path did): close them, so nothing escalates about work
    nobody waits for any more."""
    done: Counter[str] = Counter()
    for team_id, initiative_id in service.with_a_closed_side(session, BATCH):
        if team_id not in cached:
            cached[team_id] = services.workspace(session, team_id)
        initiative = session.get_one(Initiative, initiative_id)
        done["closed"] += flows.close_for_closed(
            session, initiative, None, cached[team_id], now, skip_taken=True
        )
    return done

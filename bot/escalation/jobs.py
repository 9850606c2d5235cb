"""The escalation ladder's tick pass."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.escalation import flows
from bot.escalation.models import BATCH
from bot.escalation.service.episodes import claim_open_dependencies, orphaned
from bot.trackers.models import LinkedFact
from bot.trackers.service.stalls import linked_facts
from storage.models import Dependency, Initiative

if TYPE_CHECKING:
    from bot.core.services import Services


def run(
    services: Services, now: datetime, cached: dict[str, WorkspaceSettings] | None = None
) -> dict[str, int]:
    """Evaluate every open dependency; open, climb or resolve its escalation. Dependencies are
    claimed in batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so replicas share the work;
    outbox keys and the open-escalation index are the backstop. `cached`: workspace settings
    already read by this tick (by team id), filled as more are read."""
    counts: Counter[str] = Counter()
    cached = {} if cached is None else cached
    last_id = 0
    while True:
        with services.db.session() as session:
            batch, providers, open_escalations = claim_open_dependencies(session, last_id)
            if not batch:
                break
            last_id = batch[-1].id
            linked = _linked_work(session, providers.values())
            for dependency in batch:
                if dependency.team_id not in cached:
                    cached[dependency.team_id] = services.workspace(session, dependency.team_id)
                counts["evaluated"] += 1
                counts.update(
                    flows.apply(
                        session,
                        dependency,
                        providers.get(dependency.provider_id or 0),
                        open_escalations.get(dependency.id),
                        cached[dependency.team_id],
                        now,
                        linked=linked.get(dependency.provider_id or 0, []),
                    )
                )
        if len(batch) < BATCH:
            break
    with services.db.session() as session:
        counts.update(_close_orphans(session, services, cached, now))
    return dict(counts)


def _linked_work(session: Session, providers: Iterable[Initiative]) -> dict[int, list[LinkedFact]]:
    """The open linked work of a batch's providers: one statement per workspace in the batch."""
    by_team: dict[str, list[int]] = defaultdict(list)
    for provider in providers:
        by_team[provider.team_id].append(provider.id)
    found: dict[int, list[LinkedFact]] = {}
    for team_id, ids in by_team.items():
        found.update(linked_facts(session, team_id, ids))
    return found


def _close_orphans(
    session: Session, services: Services, cached: dict[str, WorkspaceSettings], now: datetime
) -> Counter[str]:
    """Open escalations of dependencies closed by some other path: resolve them."""
    done: Counter[str] = Counter()
    for escalation in orphaned(session):
        dependency = session.get(Dependency, escalation.dependency_id)
        assert dependency is not None
        if dependency.team_id not in cached:
            cached[dependency.team_id] = services.workspace(session, dependency.team_id)
        dependency.stalled_since = None
        dependency.stall_reason = None
        flows.resolve_episode(
            session,
            escalation,
            dependency,
            cached[dependency.team_id],
            now,
            by=None,
            resolution=f"the dependency was {dependency.state.value}",
        )
        done["resolved"] += 1
    return done

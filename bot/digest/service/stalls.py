"""Section 3 of a digest: stalled dependencies and open escalations, a few per objective, with counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.digest.models import ITEM_LIMIT, Listing, ObjectiveDigest, ReportingPeriod, Stall
from bot.digest.service.statements import _days, _natural, _one_line
from bot.digest.service.tree import _Okrs
from storage.aliases import PROVIDER, WAITER
from storage.models import Dependency, DependencyState, Escalation
from storage.types import UTCDateTime


def _add_stalls(
    session: Session,
    team_id: str,
    settings: WorkspaceSettings,
    okrs: _Okrs,
    objective_of: Any,
    objectives: Iterable[ObjectiveDigest],
    period: ReportingPeriod,
) -> None:
    waiter = WAITER
    provider = PROVIDER
    since = sa.func.coalesce(Dependency.stalled_since, Escalation.opened_at)
    inner = (
        sa.select(
            waiter.okr_id.label("okr_id"),
            waiter.key.label("waiter_key"),
            waiter.title.label("waiter_title"),
            waiter.owner_id.label("waiter_owner"),
            provider.key.label("provider_key"),
            provider.title.label("provider_title"),
            provider.owner_id.label("provider_owner"),
            Dependency.provider_team,
            Dependency.provider_contact_id,
            Dependency.what,
            Dependency.stall_reason,
            sa.type_coerce(since, UTCDateTime()).label("since"),
            Escalation.level,
            sa.func.row_number()
            .over(
                partition_by=waiter.okr_id,
                order_by=(sa.func.coalesce(Escalation.level, 0).desc(), since, Dependency.id),
            )
            .label("rn"),
            sa.func.count().over(partition_by=waiter.okr_id).label("total"),
            sa.func.count(Escalation.id).over(partition_by=waiter.okr_id).label("escalations"),
        )
        .select_from(Dependency)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .outerjoin(
            Escalation, sa.and_(Escalation.dependency_id == Dependency.id, Escalation.resolved_at.is_(None))
        )
        .where(
            Dependency.team_id == team_id,
            sa.or_(
                sa.and_(Dependency.state == DependencyState.OPEN, Dependency.stalled_since.is_not(None)),
                Escalation.id.is_not(None),
            ),
        )
        .subquery()
    )
    grouped: dict[int, list[tuple[Any, Stall]]] = defaultdict(list)
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in session.execute(sa.select(inner).where(inner.c.rn <= ITEM_LIMIT)):
        objective = objective_of(row.okr_id)
        if objective is None:
            continue
        if row.rn == 1:
            totals[id(objective)][0] += row.total
            totals[id(objective)][1] += row.escalations
        people = tuple(
            p
            for p in dict.fromkeys(
                (
                    row.provider_owner,
                    row.provider_contact_id,
                    settings.teams.get(row.provider_team or "") if row.provider_key is None else None,
                )
            )
            if p
        )
        stall = Stall(
            waiter_key=row.waiter_key,
            waiter_title=_one_line(row.waiter_title),
            waiter_owner_id=row.waiter_owner,
            okr_key=okrs.key(row.okr_id),
            provider_key=row.provider_key,
            provider_title=_one_line(row.provider_title) if row.provider_title else None,
            provider_team=row.provider_team,
            provider_people=people,
            what=_one_line(row.what),
            reason=_one_line(row.stall_reason) or None,
            since=row.since,
            days=_days(period.end, row.since),
            level=row.level,
        )
        grouped[id(objective)].append(
            ((-(row.level or 0), row.since or period.end, _natural(row.waiter_key)), stall)
        )
    for objective in objectives:
        stalls = [s for _, s in sorted(grouped.get(id(objective), []), key=lambda pair: pair[0])]
        total, escalations = totals.get(id(objective), [0, 0])
        objective.stalls = Listing.of(stalls, total=total)
        objective.escalations = escalations

"""Section 4 of a digest: what only a named person can unblock (level-3 escalations, requests
waiting on their OKR owner)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.digest.models import DECISION_LIMIT, Decision, Listing, ReportingPeriod
from bot.digest.service.statements import _days, _one_line
from bot.digest.service.tree import _Okrs
from storage.aliases import PROVIDER, WAITER
from storage.models import Dependency, Escalation, Initiative, InitiativeState


def _decisions(
    session: Session,
    team_id: str,
    settings: WorkspaceSettings,
    okrs: _Okrs,
    period: ReportingPeriod,
) -> tuple[Listing[Decision], int]:
    waiter = WAITER
    provider = PROVIDER
    escalations = session.execute(
        sa.select(
            waiter.okr_id,
            waiter.key,
            waiter.title,
            provider.key.label("provider_key"),
            Dependency.provider_team,
            Dependency.what,
            Escalation.level_at,
            sa.func.count().over().label("total"),
        )
        .select_from(Escalation)
        .join(Dependency, Dependency.id == Escalation.dependency_id)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .where(
            Escalation.team_id == team_id,
            Escalation.resolved_at.is_(None),
            Escalation.level >= 3,
            waiter.okr_id.in_(okrs.live_ids),
        )
        .order_by(Escalation.level_at, Escalation.id)
        .limit(DECISION_LIMIT)
    ).all()
    requests = session.execute(
        sa.select(
            Initiative.okr_id,
            Initiative.key,
            Initiative.title,
            Initiative.created_at,
            sa.func.count().over().label("total"),
        )
        .where(
            Initiative.team_id == team_id,
            Initiative.state == InitiativeState.PROPOSED,
            Initiative.created_at <= period.start,
            Initiative.okr_id.in_(okrs.live_ids),
        )
        .order_by(Initiative.created_at, Initiative.number)
        .limit(DECISION_LIMIT)
    ).all()
    items: list[Decision] = []
    for escalation in escalations:
        items.append(
            Decision(
                kind="escalation",
                key=escalation.key,
                title=_one_line(escalation.title),
                okr_key=okrs.key(escalation.okr_id),
                deciders=okrs.owners(escalation.okr_id),
                where=okrs.governance_channel(escalation.okr_id, settings.governance_channel),
                days=_days(period.end, escalation.level_at) or 0,
                provider_key=escalation.provider_key,
                provider_team=escalation.provider_team,
                what=_one_line(escalation.what),
            )
        )
    for row in requests:
        # the OKR's own owner decides; with no owner on the tree, the triage leads do
        owners = okrs.owners(row.okr_id)[:1] or tuple(settings.triage_leads)
        items.append(
            Decision(
                kind="triage",
                key=row.key,
                title=_one_line(row.title),
                okr_key=okrs.key(row.okr_id),
                deciders=owners,
                where=None,
                days=_days(period.end, row.created_at) or 0,
            )
        )
    level3 = escalations[0].total if escalations else 0
    total = level3 + (requests[0].total if requests else 0)
    return Listing(tuple(items[:DECISION_LIMIT]), total), level3

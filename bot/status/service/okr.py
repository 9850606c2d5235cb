"""`/initiative okr O1`: an objective or key result, its key results, the health of its initiatives."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.okrs.service import reading as okrs_reading
from bot.status.models import OKR_INITIATIVES_LIMIT, HealthCounts, OkrNotFound, OkrOverview
from bot.status.service.lists import (
    TOTAL,
    folded,
    like,
    line_columns,
    paged,
    to_line,
    worst_first,
)
from storage.aliases import PARENT_OKR
from storage.models import OPEN_STATES, Initiative, InitiativeState, Okr, OkrKind


def okr_overview(
    session: Session, team_id: str, key: str, limit: int = OKR_INITIATIVES_LIMIT
) -> OkrOverview | OkrNotFound:
    """An objective (or key result) with its key results, the health of its initiatives and the
    first `limit` of them (worst health first): four statements. An unknown key gives a few OKRs
    to pick from, those whose key or title contains what was asked first (one statement)."""
    asked = " ".join(key.split())[:100]
    parent = PARENT_OKR
    found = (
        session.execute(
            sa.select(Okr, parent)
            .outerjoin(parent, parent.id == Okr.parent_id)
            .where(Okr.team_id == team_id, sa.func.lower(Okr.key) == folded(asked))
        ).first()
        if asked
        else None
    )
    if found is None:
        return OkrNotFound(asked, _okr_suggestions(session, team_id, asked))
    okr, objective = found
    if okr.kind is OkrKind.OBJECTIVE:
        key_results = sorted(  # O1-KR2 before O1-KR10, as /okr and the digest list them
            session.scalars(sa.select(Okr).where(Okr.team_id == team_id, Okr.parent_id == okr.id)),
            key=lambda kr: okrs_reading.natural_key(kr.key),
        )
        scope = [okr.id, *(kr.id for kr in key_results)]
    else:
        key_results = [okr]
        scope = [okr.id]

    counts: dict[str, int] = {}
    for state, health, number in session.execute(
        sa.select(Initiative.state, Initiative.health, sa.func.count())
        .where(Initiative.team_id == team_id, Initiative.okr_id.in_(scope))
        .group_by(Initiative.state, Initiative.health)
    ):
        if state is InitiativeState.ACTIVE:
            name = health.value if health is not None else "unreported"
        elif state in (InitiativeState.DECLINED, InitiativeState.CANCELLED):
            name = "closed"
        else:
            name = state.value
        counts[name] = counts.get(name, 0) + int(number)

    rows = session.execute(
        sa.select(*line_columns(Initiative, Okr), TOTAL)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(
            Initiative.team_id == team_id,
            Initiative.okr_id.in_(scope),
            Initiative.state.in_(OPEN_STATES),
        )
        .order_by(
            sa.case((Initiative.state == InitiativeState.ACTIVE, 0), else_=1),
            worst_first(Initiative),
            Initiative.number.desc(),
        )
        .limit(limit)
    ).all()
    return OkrOverview(
        okr=okr,
        objective=objective,
        key_results=key_results,
        counts=HealthCounts(**counts),
        initiatives=paged(rows, 0, to_line),
    )


def _okr_suggestions(session: Session, team_id: str, asked: str, limit: int = 8) -> list[tuple[str, str]]:
    query = sa.select(Okr.key, Okr.title).where(Okr.team_id == team_id, Okr.archived_at.is_(None))
    order: list[Any] = []
    if asked:
        matches = sa.or_(
            like(sa.func.lower(Okr.key), "%", asked, "%"), like(sa.func.lower(Okr.title), "%", asked, "%")
        )
        order.append(sa.case((matches, 0), else_=1))
    rows = session.execute(query.order_by(*order, Okr.kind.desc(), Okr.key).limit(limit))
    return [(row.key, row.title) for row in rows]

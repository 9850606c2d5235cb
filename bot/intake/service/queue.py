"""The triage queue, ranked by strategic weight, and the "depends on" select's search."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, mrkdwn
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.initiatives.service import search_initiatives
from bot.intake.models import QUEUE_LIMIT, Queue, QueueItem
from bot.okrs import models as okrs_models
from storage.aliases import PARENT_OKR
from storage.models import Initiative, InitiativeState, Okr


def weight_expression() -> sa.ColumnElement[int]:
    """Strategic weight, in SQL: the OKR's priority (1–5) × the stated impact (1–3)."""
    return Okr.priority * Initiative.impact_level


def queue(
    session: Session,
    *,
    team_id: str,
    viewer_id: str,
    settings: WorkspaceSettings,
    limit: int = QUEUE_LIMIT,
) -> Queue:
    """Proposed requests, highest strategic weight first, then oldest first; `can_triage` says
    whether `viewer_id` may accept or decline each. Two statements, whatever the queue's size."""
    objective = PARENT_OKR
    weight = weight_expression().label("weight")
    rows = session.execute(
        sa.select(
            Initiative.id,
            Initiative.key,
            Initiative.title,
            Initiative.requester_id,
            Initiative.created_at,
            Initiative.impact_level,
            Okr.key.label("okr_key"),
            Okr.priority,
            Okr.owner_id.label("okr_owner"),
            objective.owner_id.label("objective_owner"),
            weight,
        )
        .join(Okr, Okr.id == Initiative.okr_id)
        .outerjoin(objective, objective.id == Okr.parent_id)
        .where(Initiative.team_id == team_id, Initiative.state == InitiativeState.PROPOSED)
        .order_by(weight.desc(), Initiative.created_at.asc(), Initiative.id.asc())
        .limit(limit)
    ).all()
    total = session.scalar(
        sa.select(sa.func.count())
        .select_from(Initiative)
        .where(Initiative.team_id == team_id, Initiative.state == InitiativeState.PROPOSED)
    )
    items = [
        QueueItem(
            id=r.id,
            key=r.key,
            title=r.title,
            okr_key=r.okr_key,
            priority=r.priority,
            impact_level=r.impact_level,
            requester_id=r.requester_id,
            created_at=r.created_at,
            can_triage=authz.can(
                Action.TRIAGE,
                viewer_id,
                settings,
                authz.Subject(
                    label=r.key, okr_owner_ids=tuple(o for o in (r.okr_owner, r.objective_owner) if o)
                ),
            ),
        )
        for r in rows
    ]
    return Queue(items, int(total or 0))


def initiative_choices(
    session: Session, team_id: str, query: str = "", limit: int = 100
) -> list[okrs_models.Choice]:
    """Open initiatives (proposed or active) whose key or title contains every word of `query`,
    newest first, for the "depends on" select: value = the initiative's id."""
    return [
        okrs_models.Choice(str(c.id), mrkdwn.truncate(f"{c.key} · {c.title}", okrs_models.OPTION_TEXT_LIMIT))
        for c in search_initiatives(session, team_id, query, limit=limit)
    ]

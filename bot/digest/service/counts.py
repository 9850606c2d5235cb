"""Section 1 of a digest: per OKR, active initiatives by health, milestones, intake and triage."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from bot.digest.models import CHECKPOINT_HEALTHS
from bot.digest.service.statements import _END, _END_DATE, _START, _TEAM
from storage.models import Health, Initiative, InitiativeState


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


@cache
def _counts() -> sa.Select[Any]:
    """Per OKR: active initiatives by health, milestones (planned, met, missed, early), intake and
    requests awaiting triage (parameters: `_period_parameters`). Each part reads only its own rows
    through an index (active by OKR and health, done in the period, active and due, created in the
    period, proposed), so the cost is a cheap index count plus the period's events, not every
    initiative's row."""
    i = Initiative
    team = i.team_id == _TEAM
    active = sa.and_(team, i.state == InitiativeState.ACTIVE)
    due_by_end = sa.and_(i.due_date.is_not(None), i.due_date <= _END_DATE)
    flags = ("planned", "met", "missed", "early", "intake", "awaiting")

    def part(where: Any, health: Any = None, n: Any = 0, **values: Any) -> sa.Select[Any]:
        return sa.select(
            i.okr_id,
            sa.type_coerce(health, i.health.type).label("health"),
            sa.cast(n, sa.Integer).label("n"),
            *(sa.cast(values.get(name, 0), sa.Integer).label(name) for name in flags),
        ).where(where)

    # grouped by OKR and health, the order of ix_initiative_digest_health: an index-only count
    health = part(active, i.health, sa.func.count()).group_by(i.okr_id, i.health)
    done = part(
        sa.and_(team, i.state == InitiativeState.DONE, i.done_at > _START, i.done_at <= _END),
        planned=_flag(due_by_end),
        met=_flag(due_by_end),
        early=_flag(sa.not_(due_by_end)),
    )
    overdue = part(sa.and_(active, due_by_end), planned=1, missed=1)
    # every state: the index leads with it, so each state is one range of the index
    created = sa.and_(i.state.in_(list(InitiativeState)), i.created_at > _START, i.created_at <= _END)
    intake = part(sa.and_(team, created), intake=1)
    awaiting = part(sa.and_(team, i.state == InitiativeState.PROPOSED), awaiting=1)
    p = sa.union_all(health, done, overdue, intake, awaiting).subquery("parts").c

    def of_health(value: Health | None) -> sa.ColumnElement[int]:
        return sa.func.coalesce(
            sa.func.sum(sa.case(((p.health == value) if value else p.health.is_(None), p.n))), 0
        )

    return sa.select(
        p.okr_id,
        *(of_health(h).label(h.name.lower()) for h in CHECKPOINT_HEALTHS),
        of_health(None).label("unknown"),
        *(sa.func.sum(p[name]).label(name) for name in flags),
    ).group_by(p.okr_id)

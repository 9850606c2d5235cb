"""Section 2 of a digest: the initiatives worth naming (newly troubled, recovered, done, met,
overdue), each list counted per objective and its first few found, in one statement."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from bot.digest.models import ITEM_LIMIT, TROUBLED, ReportingPeriod
from bot.digest.service.statements import (
    _CUTOFF,
    _END,
    _END_DATE,
    _OBJECTIVES,
    _START,
    _TEAM,
    _period_parameters,
)
from bot.digest.service.tree import _Okrs
from storage.db import id_list, in_id_list, json_object, json_object_rows
from storage.models import CheckinUpdate, Digest, Health, Initiative, InitiativeState


def _cutoff(previous: Digest | None, period: ReportingPeriod) -> datetime:
    """Since when a change of health is news: the last digest, or the period's start before the first."""
    return min(previous.created_at, period.start) if previous is not None else period.start


def _was(first: bool, initiative: Any) -> sa.ColumnElement[Any]:
    """`initiative`'s health as the last digest saw it: the snapshot that digest stored on each
    initiative when it was posted. Before the first digest: its latest check-in before the period
    (None if that check-in said done)."""
    if not first:
        return cast(sa.ColumnElement[Any], initiative.digest_health)
    u = CheckinUpdate
    return (
        sa.select(sa.case((u.done.is_(True), sa.null()), else_=u.health))
        .where(u.initiative_id == initiative.id, u.created_at <= _START)
        .order_by(u.created_at.desc(), u.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _named_lists_parameters(
    dialect: str, team_id: str, okrs: _Okrs, previous: Digest | None, period: ReportingPeriod
) -> dict[str, Any]:
    """The parameters of `_named_lists`: the period, since when a change is news, and each
    objective's OKRs (itself included) as one JSON object."""
    return {
        **_period_parameters(team_id, period),
        "cutoff": _cutoff(previous, period),
        "objectives": json_object({o: id_list(dialect, ids) for o, ids in okrs.trees.items()}),
    }


@cache
def _named_lists(dialect: str, first: bool) -> sa.Select[Any]:
    """One statement: for each objective and named list, how many initiatives are on it (`total`)
    and its first `ITEM_LIMIT` (`rank` 0, 1, ...), as rows of (`objective_id`, `list`, `total`,
    `rank`, the initiative's columns); a list that is empty has no row. Parameters:
    `_named_lists_parameters`; `first` before the first digest.

    Each list of each objective is counted and its first few found by index lookups over the
    objective's OKRs (`ix_initiative_digest_health` and the done / due date indexes), so the work
    follows the number of objectives and of changes since the last digest, not the size of the
    workspace. The health lists are in the index's order (health since, then number), so a list
    reads no more of it than it shows."""
    objectives = json_object_rows(dialect, _OBJECTIVES, "objectives")
    j = aliased(Initiative, name="j")
    was = _was(first, j)
    active = j.state == InitiativeState.ACTIVE
    changed = (active, j.health_since > _CUTOFF)
    done_in = (j.state == InitiativeState.DONE, j.done_at > _START, j.done_at <= _END)
    due_by_end = (j.due_date.is_not(None), j.due_date <= _END_DATE)
    troubled = list(TROUBLED)
    # list -> (who is on it, in what order)
    lists: dict[str, tuple[tuple[sa.ColumnElement[bool], ...], tuple[Any, ...]]] = {
        "newly_blocked": (
            (*changed, j.health == Health.BLOCKED, sa.or_(was.is_(None), was != Health.BLOCKED)),
            (j.health_since, j.number),
        ),
        "newly_at_risk": (
            (*changed, j.health == Health.AT_RISK, sa.or_(was.is_(None), was.not_in(troubled))),
            (j.health_since, j.number),
        ),
        "recovered": (
            (*changed, j.health == Health.ON_TRACK, was.in_(troubled)),
            (j.health_since, j.number),
        ),
        "done": (done_in, (j.done_at, j.number)),
        "met": ((*done_in, *due_by_end), (j.done_at, j.number)),
        "missed": ((active, *due_by_end), (j.due_date, j.number)),
    }

    def members(
        column: Any, conditions: tuple[sa.ColumnElement[bool], ...], of: Any, okrs: Any
    ) -> sa.Select[Any]:
        # two levels down: the OKRs of the objective whose row is being filled
        in_objective = in_id_list(dialect, j.okr_id, okrs, correlate=of)
        return sa.select(column).where(j.team_id == _TEAM, in_objective, *conditions)

    # first each list's length, then its first few where it has any (CASE runs the lookups lazily)
    totals = (
        sa.union_all(
            *(
                sa.select(
                    objectives.c.key.label("objective_id"),
                    objectives.c.value.label("okrs"),
                    sa.literal(name).label("list"),
                    members(sa.func.count(), conditions, objectives, objectives.c.value)
                    .scalar_subquery()
                    .label("total"),
                )
                for name, (conditions, _) in lists.items()
            )
        )
        .cte("totals")
        .prefix_with("MATERIALIZED")
    )
    firsts = [f"id{k}" for k in range(ITEM_LIMIT)]
    per_list = (
        sa.union_all(
            *(
                sa.select(
                    totals.c.objective_id,
                    totals.c.list,
                    totals.c.total,
                    *(
                        sa.case(
                            (
                                totals.c.total > k,
                                members(j.id, conditions, totals, totals.c.okrs)
                                .order_by(*order)
                                .limit(1)
                                .offset(k)
                                .scalar_subquery(),
                            )
                        ).label(f)
                        for k, f in enumerate(firsts)
                    ),
                ).where(totals.c.list == name, totals.c.total > 0)
                for name, (conditions, order) in lists.items()
            )
        )
        .cte("lists")
        .prefix_with("MATERIALIZED")
    )  # each count and lookup runs once, before the join
    i = Initiative
    rank = sa.case(*((i.id == per_list.c[f], k) for k, f in enumerate(firsts)))
    return (
        sa.select(
            per_list.c.objective_id,
            per_list.c.list,
            per_list.c.total,
            rank.label("rank"),
            i.okr_id,
            i.key,
            i.title,
            i.owner_id,
            i.health,
            i.health_since,
            i.due_date,
            i.done_at,
        )
        .select_from(per_list)
        .join(i, i.id.in_([per_list.c[f] for f in firsts]))
        .order_by(per_list.c.objective_id, per_list.c.list, rank)
    )

"""Building a digest: every figure of one workspace and period, from a fixed set of statements."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.digest.models import (
    CHART_WEEKS,
    MISSED_BY_LIMIT,
    PERIOD_NOUNS,
    Changes,
    DigestData,
    HealthCounts,
    InitiativeItem,
    Listing,
    Milestones,
    MissedBy,
    ObjectiveDigest,
    ReportingPeriod,
)
from bot.digest.service.checkpoints import _chart
from bot.digest.service.counts import _counts
from bot.digest.service.decisions import _decisions
from bot.digest.service.named_lists import _named_lists, _named_lists_parameters
from bot.digest.service.pace import _key_result
from bot.digest.service.periods import chart_points, preview_period
from bot.digest.service.stalls import _add_stalls
from bot.digest.service.statements import _natural, _one_line, _period_parameters
from bot.digest.service.tree import _Okrs
from bot.trackers.service import progress as tracker_progress
from storage.models import Checkin, CheckinStatus, Digest, Initiative, Okr


def _previous_digest(session: Session, team_id: str, period: ReportingPeriod) -> Digest | None:
    return session.scalars(
        sa.select(Digest)
        .where(Digest.team_id == team_id, Digest.period_start < period.start_date)
        .order_by(Digest.period_start.desc())
        .limit(1)
    ).first()


def build(
    session: Session,
    team_id: str,
    settings: WorkspaceSettings,
    period: ReportingPeriod,
) -> DigestData:
    """The digest of `team_id` for `period`, from a fixed number of statements."""
    start, end = period.start, period.end
    okrs = _Okrs(
        session.scalars(sa.select(Okr).where(Okr.team_id == team_id)),
        start,
    )
    previous = _previous_digest(session, team_id, period)
    summary = previous.summary if previous is not None and isinstance(previous.summary, dict) else {}
    objectives: dict[int, ObjectiveDigest] = {
        o.id: ObjectiveDigest(
            key=o.key,
            title=_one_line(o.title),
            owner_id=o.owner_id,
            url=o.url,
            priority=o.priority,
            period=o.period,
            health_weeks=[HealthCounts() for _ in range(CHART_WEEKS)],
        )
        for o in okrs.objectives()
    }

    def objective_of(okr_id: int) -> ObjectiveDigest | None:
        root = okrs.root(okr_id)
        return objectives.get(root.id) if root is not None else None

    # 1. counts per OKR: health, milestones, intake, triage
    intake_by_okr: dict[int, int] = {}
    for row in session.execute(_counts(), _period_parameters(team_id, period)):
        objective = objective_of(row.okr_id)
        if objective is None:
            continue
        objective.health.add(HealthCounts(row.on_track, row.at_risk, row.blocked, row.unknown))
        objective.milestones.add(Milestones(row.planned, row.met, row.missed, row.early))
        objective.intake += row.intake
        objective.awaiting_triage += row.awaiting
        if row.intake:
            intake_by_okr[row.okr_id] = row.intake
    for okr_id, count in sorted(
        intake_by_okr.items(), key=lambda item: (-item[1], _natural(okrs.key(item[0])))
    ):
        target = objective_of(okr_id)
        if target is not None:
            target.intake_by_okr.append((okrs.key(okr_id), count))

    # 1b. linked work per objective, each item once however many of its initiatives link it
    seen: set[tuple[int, tuple[str, str, str, str]]] = set()
    for linked in tracker_progress.linked_items(session, team_id, start):
        objective = objective_of(linked.okr_id)
        if objective is None or (id(objective), linked.key) in seen:
            continue
        seen.add((id(objective), linked.key))
        objective.linked_work.done += linked.done
        objective.linked_work.total += linked.total

    # 2. the initiatives worth naming: newly troubled, recovered, done, met, overdue. The database
    #    counts each list per objective and returns only its first few
    chosen: dict[tuple[int, str], list[Any]] = defaultdict(list)
    totals: dict[tuple[int, str], int] = {}
    dialect = session.get_bind().dialect.name
    lists = _named_lists(dialect, first=previous is None)
    parameters = _named_lists_parameters(dialect, team_id, okrs, previous, period)
    for row in session.execute(lists, parameters):
        where = (id(objectives[int(row.objective_id)]), row.list)
        totals[where] = row.total
        chosen[where].append(row)  # in rank order

    def item(row: Any) -> InitiativeItem:
        return InitiativeItem(
            key=row.key,
            title=_one_line(row.title),
            owner_id=row.owner_id,
            okr_key=okrs.key(row.okr_id),
            health=row.health,
            since=row.done_at if row.list in ("done", "met") else row.health_since,
            due_date=row.due_date,
        )

    def overdue(row: Any) -> InitiativeItem:
        return replace(item(row), since=None, days=max(0, (period.end_date - row.due_date).days))

    def first(
        objective: ObjectiveDigest, name: str, make: Any = item, total: int | None = None
    ) -> Listing[Any]:
        rows = chosen.get((id(objective), name), [])
        count = totals.get((id(objective), name), 0)
        return Listing(tuple(make(row) for row in rows), count if total is None else total)

    for objective in objectives.values():
        objective.changes = Changes(
            newly_blocked=first(objective, "newly_blocked"),
            newly_at_risk=first(objective, "newly_at_risk"),
            recovered=first(objective, "recovered"),
            done=first(objective, "done"),
        )
        objective.milestones.met_items = first(objective, "met", total=objective.milestones.met)
        objective.milestones.missed_items = first(
            objective, "missed", make=overdue, total=objective.milestones.missed
        )

    # 3. stalled dependencies and open escalations, a few per OKR, with counts
    _add_stalls(session, team_id, settings, okrs, objective_of, objectives.values(), period)

    # 4. decisions: level-3 escalations and requests waiting on their OKR owner
    decisions, level3 = _decisions(session, team_id, settings, okrs, period)

    # 5. check-in participation
    for row in session.execute(
        sa.select(Initiative.okr_id, Checkin.status, sa.func.count().label("n"))
        .join(Initiative, Initiative.id == Checkin.initiative_id)
        .where(Checkin.team_id == team_id, Checkin.slot_at > start, Checkin.slot_at <= end)
        .group_by(Initiative.okr_id, Checkin.status)
    ):
        objective = objective_of(row.okr_id)
        if objective is not None:
            objective.participation.count(row.status, row.n)
    missed_rows = session.execute(
        sa.select(
            Checkin.owner_id,
            sa.func.count().label("n"),
            sa.func.count().over().label("owners"),
        )
        .join(Initiative, Initiative.id == Checkin.initiative_id)
        .where(
            Initiative.okr_id.in_(okrs.live_ids),
            Checkin.team_id == team_id,
            Checkin.slot_at > start,
            Checkin.slot_at <= end,
            Checkin.status == CheckinStatus.MISSED,
        )
        .group_by(Checkin.owner_id)
        .order_by(sa.func.count().desc(), Checkin.owner_id)
        .limit(MISSED_BY_LIMIT)
    ).all()
    missed_by = Listing(
        tuple(MissedBy(r.owner_id, r.n) for r in missed_rows), missed_rows[0].owners if missed_rows else 0
    )

    # 6. health over the last weeks, for the chart
    week_ends = chart_points(settings, period)
    _chart(session, team_id, period, week_ends, objectives.values(), objective_of)

    # key results: progress and pace, from the OKR rows loaded above
    previous_progress: dict[str, float] = summary.get("kr_progress") or {}
    # None: the last digest did not record it (older version), so "reached this period" is unknown
    previous_at_target = (
        set(summary["kr_at_target"]) if isinstance(summary.get("kr_at_target"), list) else None
    )
    for okr in sorted(okrs.by_id.values(), key=lambda o: _natural(o.key)):
        objective = objective_of(okr.id)
        if objective is None or okr.metric_target is None:
            continue
        kr = _key_result(okr, okrs.period(okr), period, previous_progress, previous_at_target)
        objective.key_results.append(kr)

    ordered = sorted(objectives.values(), key=lambda o: (-o.priority, _natural(o.key)))
    return DigestData(
        team_id=team_id,
        period=period,
        cadence=settings.digest_cadence().describe(),
        noun=PERIOD_NOUNS[settings.digest_cadence().kind],
        objectives=ordered,
        decisions=decisions,
        escalations_level3=level3,
        missed_by=missed_by,
        previous_digest=previous.period_end if previous is not None else None,
        week_ends=week_ends,
    )


def preview(session: Session, team_id: str, settings: WorkspaceSettings, now: datetime) -> DigestData:
    """The digest of the period in progress, for `/okr digest` and `throughline digest --preview`.
    Reads only: nothing is stored or posted."""
    return build(session, team_id, settings, preview_period(settings, now))

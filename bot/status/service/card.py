"""The status card of one initiative: seven statements, however many dependencies it has."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, people
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.initiatives.service import has_key
from bot.status.models import (
    CARD_DEPENDENCY_LIMIT,
    CARD_ESCALATION_LIMIT,
    Card,
    DependencyLine,
    EscalationLine,
    MessageRef,
    OtherSide,
)
from bot.trackers.service import links as tracker_links
from storage.aliases import OTHER, PARENT_OKR, PROVIDER, WAITER
from storage.models import (
    OPEN_STATES,
    Checkin,
    CheckinUpdate,
    Dependency,
    DependencyState,
    Escalation,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
)


def triage_post_key(initiative_id: int) -> str:
    """The outbox key of the triage post of a request (sent by intake)."""
    return f"request:{initiative_id}:triage"


def card(
    session: Session,
    team_id: str,
    key: str,
    settings: WorkspaceSettings,
    viewer_id: str | None = None,
    *,
    trackers_on: bool = False,
) -> Card | None:
    """The status card of initiative `key`, as `viewer_id` sees it (None: as a channel sees it,
    in the workspace's zone, without the owner's buttons). None if there is no such initiative.
    Eight statements (seven without a viewer), however many dependencies, check-ins and linked
    items it has. `trackers_on`: a tracker is set up, so the card may offer "Link work"."""
    parent = PARENT_OKR
    found = session.execute(
        sa.select(Initiative, Okr, parent)
        .join(Okr, Okr.id == Initiative.okr_id)
        .outerjoin(parent, parent.id == Okr.parent_id)
        .where(has_key(team_id, key))
    ).first()
    if found is None:
        return None
    initiative, okr, objective = found

    latest_update = session.scalars(
        sa.select(CheckinUpdate)
        .where(CheckinUpdate.team_id == team_id, CheckinUpdate.initiative_id == initiative.id)
        .order_by(CheckinUpdate.created_at.desc(), CheckinUpdate.id.desc())
        .limit(1)
    ).first()
    latest_checkin = session.scalars(
        sa.select(Checkin)
        .where(Checkin.team_id == team_id, Checkin.initiative_id == initiative.id)
        .order_by(Checkin.slot_at.desc(), Checkin.id.desc())
        .limit(1)
    ).first()

    (waits_on, waits_on_total), (waited_on_by, waited_on_by_total) = _dependencies(
        session, team_id, initiative.id
    )
    escalations, escalations_total = _open_escalations(session, team_id, initiative.id)
    links, links_total = tracker_links.card_lines(session, team_id, initiative.id)
    triage = session.execute(
        sa.select(Outbox.result_channel, Outbox.result_ts).where(
            Outbox.team_id == team_id, Outbox.key == triage_post_key(initiative.id)
        )
    ).first()

    if viewer_id is None:
        zone = people.zone_of(None, settings)
        can_update = can_add_dependency = can_link = False
    else:
        zone = people.zones(session, team_id, [viewer_id], settings)[viewer_id]
        subject = authz.Subject(
            label=initiative.key,
            requester_id=initiative.requester_id,
            owner_id=initiative.owner_id,
            okr_owner_ids=tuple(o.owner_id for o in (okr, objective) if o is not None and o.owner_id),
        )
        is_open = initiative.state in OPEN_STATES
        can_update = initiative.state is InitiativeState.ACTIVE and authz.can(
            Action.UPDATE, viewer_id, settings, subject
        )
        can_add_dependency = is_open and authz.can(Action.ADD_DEPENDENCY, viewer_id, settings, subject)
        can_link = trackers_on and is_open and authz.can(Action.LINK_WORK, viewer_id, settings, subject)

    return Card(
        initiative=initiative,
        okr=okr,
        objective=objective,
        latest_update=latest_update,
        latest_checkin=latest_checkin,
        waits_on=waits_on,
        waited_on_by=waited_on_by,
        waits_on_total=waits_on_total,
        waited_on_by_total=waited_on_by_total,
        escalations=escalations,
        escalations_total=escalations_total,
        triage_post=MessageRef(triage[0], triage[1]) if triage and triage[0] and triage[1] else None,
        zone=zone,
        can_update=can_update,
        can_add_dependency=can_add_dependency,
        links=links,
        links_total=links_total,
        can_link=can_link,
    )


def _dependencies_statement() -> sa.Select[Any]:
    """Open dependencies each way of the initiative `:initiative_id`, ranked per direction
    (soonest needed first) and counted, with the other side. Built once: it is on every card."""
    initiative_id = sa.bindparam("initiative_id", type_=sa.Integer)
    other = OTHER
    other_id = sa.case(
        (Dependency.waiter_id == initiative_id, Dependency.provider_id), else_=Dependency.waiter_id
    )
    waits = sa.case((Dependency.waiter_id == initiative_id, 1), else_=0)
    soonest = (Dependency.needed_by.is_(None), Dependency.needed_by, Dependency.id)
    ranked = (
        sa.select(
            waits.label("waits"),
            sa.func.row_number().over(partition_by=waits, order_by=soonest).label("rank"),
            sa.func.count().over(partition_by=waits).label("total"),
            Dependency.what,
            Dependency.needed_by,
            Dependency.stalled_since,
            Dependency.provider_team,
            Dependency.provider_contact_id,
            other.key,
            other.title,
            other.health,
            other.state,
            other.owner_id,
        )
        .outerjoin(other, other.id == other_id)
        .where(
            Dependency.team_id == sa.bindparam("team_id", type_=sa.String),
            Dependency.state == DependencyState.OPEN,
            sa.or_(Dependency.waiter_id == initiative_id, Dependency.provider_id == initiative_id),
        )
        .subquery("ranked")
    )
    return (
        sa.select(ranked)
        .where(ranked.c.rank <= CARD_DEPENDENCY_LIMIT)
        .order_by(ranked.c.waits.desc(), ranked.c.rank)
    )


_DEPENDENCIES = _dependencies_statement()


def _dependencies(
    session: Session, team_id: str, initiative_id: int
) -> tuple[tuple[list[DependencyLine], int], tuple[list[DependencyLine], int]]:
    """Open dependencies each way (what this waits on; what waits on it), soonest needed first,
    at most CARD_DEPENDENCY_LIMIT each, with the other side's key, title, health and state, and
    how many there are each way: one statement."""
    rows = session.execute(_DEPENDENCIES, {"team_id": team_id, "initiative_id": initiative_id})
    sides: dict[int, tuple[list[DependencyLine], int]] = {1: ([], 0), 0: ([], 0)}
    for row in rows:
        side = (
            OtherSide(row.key, row.title, row.health, row.state, row.owner_id)
            if row.key is not None
            else None
        )
        line = DependencyLine(
            row.what, row.needed_by, row.stalled_since, side, row.provider_team, row.provider_contact_id
        )
        lines, _ = sides[row.waits]
        lines.append(line)
        sides[row.waits] = (lines, int(row.total))
    return sides[1], sides[0]


_OPEN_ESCALATIONS = (
    sa.select(
        Escalation.level,
        Escalation.reason,
        Escalation.opened_at,
        Escalation.acknowledged_by,
        WAITER.key,
        sa.func.coalesce(PROVIDER.key, Dependency.provider_team, ""),
        sa.func.count().over(),
    )
    .join(Dependency, Dependency.id == Escalation.dependency_id)
    .join(WAITER, WAITER.id == Dependency.waiter_id)
    .outerjoin(PROVIDER, PROVIDER.id == Dependency.provider_id)
    .where(
        Escalation.team_id == sa.bindparam("team_id", type_=sa.String),
        Escalation.resolved_at.is_(None),
        sa.or_(
            Dependency.waiter_id == sa.bindparam("initiative_id", type_=sa.Integer),
            Dependency.provider_id == sa.bindparam("initiative_id", type_=sa.Integer),
        ),
    )
    .order_by(Escalation.level.desc(), Escalation.opened_at, Escalation.id)
    .limit(CARD_ESCALATION_LIMIT)
)  # built once: it is on every card


def _open_escalations(session: Session, team_id: str, initiative_id: int) -> tuple[list[EscalationLine], int]:
    """Unresolved escalations of dependencies this initiative is on either side of, highest level
    first (CARD_ESCALATION_LIMIT at most), and how many there are in all: one statement."""
    rows = session.execute(_OPEN_ESCALATIONS, {"team_id": team_id, "initiative_id": initiative_id}).all()
    return [EscalationLine(*row[:-1]) for row in rows], int(rows[0][-1]) if rows else 0

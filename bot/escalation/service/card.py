"""The card every ladder message is built from: both sides, who is told at each level, where the
governance post goes, what is held up downstream, and the provider's latest check-ins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.calendar import zone
from bot.core.config import WorkspaceSettings
from bot.escalation.models import CHECKINS_SHOWN, AffectedLine, CheckinLine, EscalationCard, Side
from bot.escalation.service.stalls import downstream
from bot.initiatives.service import dependency_sides, okr_chain, provider_people, team_lead, waiter_person
from storage.models import CheckinUpdate, Dependency, Escalation, Initiative, Okr


def _side_of(session: Session, initiative: Initiative) -> tuple[Side, list[Okr]]:
    okrs = okr_chain(session, initiative.okr_id)
    okr = okrs[0] if okrs else None
    side = Side(
        key=initiative.key,
        title=initiative.title,
        owner_id=initiative.owner_id,
        team=initiative.team_asked,
        contact_id=None,
        okr_key=okr.key if okr else None,
        okr_title=okr.title if okr else None,
        health=initiative.health,
        state=initiative.state,
    )
    return side, okrs


def _level2_recipient(
    session: Session,
    dependency: Dependency,
    provider: Initiative | None,
    provider_okrs: list[Okr],
    waiter_okrs: list[Okr],
    settings: WorkspaceSettings,
    told: tuple[str, ...],
) -> tuple[str | None, str]:
    """The providing team's lead, else the provider's OKR owner (the key result's, else its
    objective's; for a team, the waiter's OKR). A lead already told at level 1 gives way to the
    OKR owner, so level 2 brings someone new in when there is someone."""
    lead = team_lead(settings, dependency, provider)
    team = provider.team_asked if provider else dependency.provider_team
    owner = next(((o.owner_id, o.key) for o in (provider_okrs or waiter_okrs) if o.owner_id), None)
    if lead and (lead not in told or owner is None):
        return lead, f"the lead of {team}"
    if owner is not None:
        return owner[0], f"the owner of {owner[1]}"
    return None, ""


def build_card(
    session: Session,
    escalation: Escalation,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
) -> EscalationCard:
    """The card for `escalation` at `now`: a few small queries (sides, OKRs, check-ins); the
    downstream walk only once the governance post is due (level 3)."""
    waiter, provider = dependency_sides(session, dependency)
    waiter_side, waiter_okrs = _side_of(session, waiter)
    if provider is not None:
        provider_side, provider_okrs = _side_of(session, provider)
        provider_side = Side(**{**provider_side.__dict__, "contact_id": dependency.provider_contact_id})
    else:
        provider_okrs = []
        provider_side = Side(
            key=None,
            title=None,
            owner_id=None,
            team=dependency.provider_team,
            contact_id=dependency.provider_contact_id or team_lead(settings, dependency, None),
            okr_key=None,
            okr_title=None,
            health=None,
            state=None,
        )
    told = tuple(dict.fromkeys([waiter_person(waiter), *provider_people(dependency, provider, settings)]))
    lead_id, lead_as = _level2_recipient(
        session, dependency, provider, provider_okrs, waiter_okrs, settings, told
    )
    channel = (
        next((o.governance_channel for o in (provider_okrs or waiter_okrs) if o.governance_channel), None)
        or settings.governance_channel
    )
    affected: tuple[AffectedLine, ...] = ()
    if escalation.level >= 3:
        affected = _affected(session, dependency, provider, waiter)
    checkins: tuple[CheckinLine, ...] = ()
    if provider is not None:
        rows = session.scalars(
            sa.select(CheckinUpdate)
            .where(CheckinUpdate.team_id == dependency.team_id, CheckinUpdate.initiative_id == provider.id)
            .order_by(CheckinUpdate.created_at.desc(), CheckinUpdate.id.desc())
            .limit(CHECKINS_SHOWN)
        )
        checkins = tuple(
            CheckinLine(provider.key, r.created_at, r.author_id, r.health, r.done, r.moved, r.blockers)
            for r in rows
        )
    tz = zone(settings.timezone)
    stalled_since = dependency.stalled_since or escalation.opened_at
    snoozed = escalation.snoozed_until is not None and escalation.snoozed_until > now
    return EscalationCard(
        escalation_id=escalation.id,
        dependency_id=dependency.id,
        level=escalation.level,
        reason=dependency.stall_reason or escalation.reason,
        opened_at=escalation.opened_at,
        age_days=settings.calendar().working_days_between(stalled_since, now, tz),
        what=dependency.what,
        needed_by=dependency.needed_by,
        waiter=waiter_side,
        provider=provider_side,
        told=told,
        lead_id=lead_id,
        lead_as=lead_as,
        channel=channel,
        affected=affected,
        checkins=checkins,
        provider_misses=provider.consecutive_misses if provider else 0,
        acknowledged_by=escalation.acknowledged_by,
        acknowledged_at=escalation.acknowledged_at,
        snoozed_until=escalation.snoozed_until if snoozed else None,
        snooze_reason=escalation.snooze_reason if snoozed else None,
        resolved_at=escalation.resolved_at,
        resolved_by=escalation.resolved_by,
        resolution=escalation.resolution,
        level2_days=settings.escalate_level2_days,
        level3_days=settings.escalate_level3_days,
        tz=tz,
    )


def _affected(
    session: Session, dependency: Dependency, provider: Initiative | None, waiter: Initiative
) -> tuple[AffectedLine, ...]:
    """Everything held up downstream: whatever waits on the provider, directly or through others
    (C stalls, B waits on C, A on B: B and A); for a team, the waiter and whatever waits on it."""
    if provider is not None:
        ids = downstream(session, dependency.team_id, [provider.id])
    else:
        ids = [waiter.id, *downstream(session, dependency.team_id, [waiter.id])]
    if waiter.id not in ids:  # the dependency was just met or cancelled: the walk no longer sees it
        ids.insert(0, waiter.id)
    rows = session.execute(
        sa.select(Initiative.id, Initiative.key, Initiative.title, Initiative.owner_id, Okr.key, Okr.title)
        .join(Okr, Okr.id == Initiative.okr_id)
        .where(Initiative.team_id == dependency.team_id, Initiative.id.in_(ids))
    ).all()
    by_id = {r[0]: AffectedLine(r[1], r[2], r[3], r[4], r[5]) for r in rows}
    return tuple(by_id[i] for i in ids if i in by_id)

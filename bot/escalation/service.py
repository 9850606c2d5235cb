"""The escalation ladder: when a dependency stalls, the people involved are told, then a lead or the
OKR owner, then governance; when the cause goes away, it resolves by itself.

- level 1, at the stall: a DM to both sides' owners (the waiter's owner; the provider's owner and
  contact, or the providing team's lead), with Update / Renegotiate date / Mark met;
- level 2, `escalate_level2_days` business days after the stall: a DM to the providing team's lead
  (`settings.teams`), else to the provider's OKR owner;
- level 3, `escalate_level3_days` business days after the stall: a post in the governance channel
  (the provider's OKR's own, walking up to its objective, else the workspace's; admins are told
  when there is none) naming everything downstream, with Acknowledge / Resolve / Snooze.

One `escalation` row per stall episode (a partial unique index allows one open row per
dependency). Every message has a deterministic outbox key (`escalation:<id>:level<n>:<recipient>`),
so a repeated or concurrent tick sends nothing twice; every step is an event in both initiatives'
histories. Levels are counted in business days of the workspace calendar from `opened_at`; a snooze
holds the climb until it ends. Acknowledging records who looks after it (the ladder goes on);
resolving records how and ends the episode; when the cause goes away the episode resolves by itself
(`resolved_by` None), the governance post is edited in place and the waiting side is told.

A manually resolved episode does not reopen while the dependency stays stalled
(`dependency.stalled_since` stays set): only a recovery followed by a new stall opens a new one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import outbox
from bot.core import authz, history, mrkdwn
from bot.core.authz import Action
from bot.core.calendar import zone
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotFound
from bot.core.text import clean
from bot.dependencies import service as dependencies
from bot.dependencies.service import describe_stalls, downstream, stall_causes, workspace_today
from bot.escalation import views
from bot.initiatives.service import dependency_subject, okr_chain, provider_people, team_lead, waiter_person
from storage.aliases import PROVIDER, WAITER
from storage.db import insert_ignore, skip_locked
from storage.models import (
    CheckinUpdate,
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
)

if TYPE_CHECKING:
    from bot.core.services import Services

BATCH = 100
GOVERNANCE = "governance"
HOW_LIMIT = 1000
SNOOZE_REASON_LIMIT = 500
MAX_SNOOZE_DAYS = 90
AFFECTED_SHOWN = 15
CHECKINS_SHOWN = 2


def level_key(escalation_id: int, level: int, recipient: str) -> str:
    """The outbox key of the level-`level` message of an escalation to `recipient`."""
    return f"escalation:{escalation_id}:level{level}:{recipient}"


def governance_key(escalation_id: int) -> str:
    """The outbox key of an escalation's governance post: `enqueue_update(of=...)` edits it."""
    return level_key(escalation_id, 3, GOVERNANCE)


# -- what the messages show ------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a dependency: an initiative, or a team with a contact."""

    key: str | None
    title: str | None
    owner_id: str | None
    team: str | None
    contact_id: str | None
    okr_key: str | None
    okr_title: str | None
    health: Health | None
    state: InitiativeState | None


@dataclass(frozen=True)
class AffectedLine:
    key: str
    title: str
    owner_id: str | None
    okr_key: str
    okr_title: str


@dataclass(frozen=True)
class CheckinLine:
    initiative_key: str
    at: datetime
    author_id: str
    health: Health | None
    done: bool
    moved: str
    blockers: str


@dataclass(frozen=True)
class EscalationCard:
    """Everything a ladder message shows about one escalation, at one instant."""

    escalation_id: int
    dependency_id: int
    level: int
    reason: str
    opened_at: datetime
    age_days: int  # business days since the stall
    what: str
    needed_by: date | None
    waiter: Side
    provider: Side
    told: tuple[str, ...]  # level 1: both sides
    lead_id: str | None  # level 2
    lead_as: str  # "the lead of Platform", "the owner of O1-KR2"
    channel: str | None  # level 3
    affected: tuple[AffectedLine, ...]  # downstream, filled from level 3 on
    checkins: tuple[CheckinLine, ...]  # the provider's latest answers
    provider_misses: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    snoozed_until: datetime | None
    snooze_reason: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    level2_days: int
    level3_days: int
    tz: ZoneInfo  # dates are shown in the workspace's zone

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def provider_key(self) -> str | None:
        return self.provider.key


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
    waiter = session.get(Initiative, dependency.waiter_id)
    assert waiter is not None
    provider = session.get(Initiative, dependency.provider_id) if dependency.provider_id else None
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


# -- the tick pass ---------------------------------------------------------------------------------


def run(services: Services, now: datetime) -> dict[str, int]:
    """The `escalations` tick step: evaluate every open dependency; open, climb or resolve its
    escalation. Dependencies are claimed in batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so
    replicas share the work; outbox keys and the open-escalation index are the backstop."""
    counts: Counter[str] = Counter()
    cached: dict[str, WorkspaceSettings] = {}
    with services.db.session() as session:
        counts.update(_close_for_closed_sides(session, services, cached, now))
    last_id = 0
    while True:
        with services.db.session() as session:
            statement = (
                sa.select(Dependency)
                .where(Dependency.state == DependencyState.OPEN, Dependency.id > last_id)
                .order_by(Dependency.id)
                .limit(BATCH)
            )
            batch = list(session.scalars(skip_locked(statement, session, of=Dependency)))
            if not batch:
                break
            last_id = batch[-1].id
            provider_ids = {d.provider_id for d in batch if d.provider_id is not None}
            providers = (
                {
                    i.id: i
                    for i in session.scalars(sa.select(Initiative).where(Initiative.id.in_(provider_ids)))
                }
                if provider_ids
                else {}
            )
            open_escalations = {
                e.dependency_id: e
                for e in session.scalars(
                    sa.select(Escalation).where(
                        Escalation.dependency_id.in_([d.id for d in batch]), Escalation.resolved_at.is_(None)
                    )
                )
            }
            for dependency in batch:
                if dependency.team_id not in cached:
                    cached[dependency.team_id] = services.workspace(session, dependency.team_id)
                counts["evaluated"] += 1
                counts.update(
                    _apply(
                        session,
                        dependency,
                        providers.get(dependency.provider_id or 0),
                        open_escalations.get(dependency.id),
                        cached[dependency.team_id],
                        now,
                    )
                )
        if len(batch) < BATCH:
            break
    with services.db.session() as session:
        counts.update(_close_orphans(session, services, cached, now))
    return dict(counts)


def _apply(
    session: Session,
    dependency: Dependency,
    provider: Initiative | None,
    escalation: Escalation | None,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    actor_id: str | None = None,
    because: str | None = None,
    tell_waiter: bool = True,
) -> Counter[str]:
    """Bring one dependency's stall and escalation in line with its state at `now`."""
    done: Counter[str] = Counter()
    stalls = stall_causes(dependency, provider, settings, now)
    if stalls:
        reason = describe_stalls(stalls)
        if dependency.stalled_since is None:
            dependency.stalled_since = now
            dependency.stall_reason = reason
            _record(
                session,
                dependency,
                kind="dependency.stalled",
                now=now,
                actor_id=None,
                reason=reason,
                causes=[s.cause.value for s in stalls],
            )
            done["stalled"] += 1
            if escalation is None:
                escalation, opened = _open(session, dependency, reason, now)
                if opened:
                    done["opened"] += 1
                    _reach(session, escalation, dependency, settings, now, 1)
        elif dependency.stall_reason != reason:
            dependency.stall_reason = reason
        if escalation is not None:
            done.update(_climb(session, escalation, dependency, settings, now))
        return done
    if dependency.stalled_since is not None:
        dependency.stalled_since = None
        dependency.stall_reason = None
        _record(session, dependency, kind="dependency.recovered", now=now, actor_id=actor_id)
        done["recovered"] += 1
    if escalation is not None:
        _resolve(
            session,
            escalation,
            dependency,
            settings,
            now,
            by=actor_id,
            resolution=because or _recovery(dependency, provider, settings),
            tell_waiter=tell_waiter,
        )
        done["resolved"] += 1
    return done


def _recovery(dependency: Dependency, provider: Initiative | None, settings: WorkspaceSettings) -> str:
    """Why an escalation resolved by itself: the facts as they stand now, in plain words."""
    tz = zone(settings.timezone)
    parts: list[str] = []
    if provider is not None:
        if provider.state != InitiativeState.ACTIVE:
            parts.append(f"{provider.key} is {provider.state.value}")
        else:
            health = {Health.AT_RISK: "at risk", Health.BLOCKED: "blocked"}.get(
                provider.health or Health.ON_TRACK, "on track"
            )
            checked = (
                f", last check-in {mrkdwn.date_text(provider.last_checkin_at.astimezone(tz).date())}"
                if provider.last_checkin_at
                else ""
            )
            parts.append(f"{provider.key} is {health}{checked}")
    if dependency.needed_by is not None:
        parts.append(f"needed by {mrkdwn.date_text(dependency.needed_by)}")
    return "no longer stalled" + (": " + "; ".join(parts) if parts else "")


def _open(session: Session, dependency: Dependency, reason: str, now: datetime) -> tuple[Escalation, bool]:
    """The open escalation of `dependency`, created now unless one exists (safe under concurrency)."""
    opened = insert_ignore(
        session,
        Escalation,
        {
            "team_id": dependency.team_id,
            "dependency_id": dependency.id,
            "level": 1,
            "reason": reason[:200],
            "opened_at": now,
            "level_at": now,
        },
        ["dependency_id"],
        where=Escalation.resolved_at.is_(None),
    )
    escalation = session.scalars(
        sa.select(Escalation).where(
            Escalation.dependency_id == dependency.id, Escalation.resolved_at.is_(None)
        )
    ).one()
    return escalation, opened


def _climb(
    session: Session,
    escalation: Escalation,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
) -> Counter[str]:
    done: Counter[str] = Counter()
    if escalation.snoozed_until is not None:
        if now < escalation.snoozed_until:
            return done
        _snooze_ended(session, escalation, dependency, settings, now)
        done["snooze_ended"] += 1
    # N business days after the stall, at the time of day it stalled (not at the midnight that
    # makes the date N business days later: that would wake people at night, hours early)
    calendar, tz = settings.calendar(), zone(settings.timezone)
    target = escalation.level
    if now >= calendar.add_working_days(escalation.opened_at, settings.escalate_level3_days, tz):
        target = max(target, 3)
    elif now >= calendar.add_working_days(escalation.opened_at, settings.escalate_level2_days, tz):
        target = max(target, 2)
    for level in range(escalation.level + 1, target + 1):
        _reach(session, escalation, dependency, settings, now, level)
        done[f"level{level}"] += 1
    return done


def _snooze_ended(
    session: Session,
    escalation: Escalation,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
) -> None:
    """The snooze is over and the dependency is still stalled: the climb resumes; a governance post
    already up is refreshed and gets a reply in its thread."""
    until = escalation.snoozed_until
    escalation.snoozed_until = None
    escalation.snooze_reason = None
    event_id = _record(
        session, dependency, kind="escalation.snooze_ended", now=now, actor_id=None, escalation=escalation.id
    )
    if _posted(session, escalation):
        card = build_card(session, escalation, dependency, settings, now)
        _refresh_post(session, escalation, card, now, event_id)
        outbox.enqueue(
            session,
            team_id=escalation.team_id,
            key=f"escalation:{escalation.id}:snooze-ended:{until:%Y%m%d%H%M}",
            channel=card.channel or "",
            text=views.snooze_ended_text(card),
            now=now,
            thread_of=governance_key(escalation.id),
        )


def _reach(
    session: Session,
    escalation: Escalation,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
    level: int,
) -> None:
    """Climb to `level` and send its messages."""
    escalation.level = level
    escalation.level_at = now
    card = build_card(session, escalation, dependency, settings, now)
    _record(
        session,
        dependency,
        kind="escalation.opened" if level == 1 else f"escalation.level{level}",
        now=now,
        actor_id=None,
        escalation=escalation.id,
        level=level,
        reason=card.reason,
    )
    team_id = escalation.team_id
    if level == 1:
        for user_id in card.told:
            text, blocks = views.level1_dm(card, user_id)
            outbox.enqueue(
                session,
                team_id=team_id,
                key=level_key(escalation.id, 1, user_id),
                channel=user_id,
                text=text,
                blocks=blocks,
                now=now,
            )
    elif level == 2:
        if card.lead_id:
            text, blocks = views.level2_dm(card)
            outbox.enqueue(
                session,
                team_id=team_id,
                key=level_key(escalation.id, 2, card.lead_id),
                channel=card.lead_id,
                text=text,
                blocks=blocks,
                now=now,
            )
    elif card.channel:
        text, blocks = views.governance_post(card)
        outbox.enqueue(
            session,
            team_id=team_id,
            key=governance_key(escalation.id),
            channel=card.channel,
            text=text,
            blocks=blocks,
            now=now,
        )
    else:
        text, blocks = views.no_governance_channel(card)
        for admin in settings.admins:
            outbox.enqueue(
                session,
                team_id=team_id,
                key=level_key(escalation.id, 3, admin),
                channel=admin,
                text=text,
                blocks=blocks,
                now=now,
            )


def _posted(session: Session, escalation: Escalation) -> bool:
    """Was a governance post enqueued for this escalation (so it can be edited in place)?"""
    found = session.scalar(
        sa.select(Outbox.id).where(
            Outbox.team_id == escalation.team_id, Outbox.key == governance_key(escalation.id)
        )
    )
    return found is not None


def _refresh_post(
    session: Session, escalation: Escalation, card: EscalationCard, now: datetime, event_id: int
) -> None:
    """Edit the governance post in place to show `card` (after the post itself is sent)."""
    if not _posted(session, escalation):
        return
    text, blocks = views.governance_post(card)
    outbox.enqueue_update(
        session,
        team_id=escalation.team_id,
        key=f"{governance_key(escalation.id)}:update:{event_id}",
        of=governance_key(escalation.id),
        text=text,
        blocks=blocks,
        now=now,
    )


def _resolve(
    session: Session,
    escalation: Escalation,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    by: str | None,
    resolution: str,
    tell_waiter: bool = True,
) -> EscalationCard:
    escalation.resolved_at = now
    escalation.resolved_by = by
    escalation.resolution = resolution
    event_id = _record(
        session,
        dependency,
        kind="escalation.resolved",
        now=now,
        actor_id=by,
        escalation=escalation.id,
        level=escalation.level,
        resolution=resolution,
        by_itself=by is None,
    )
    card = build_card(session, escalation, dependency, settings, now)
    _refresh_post(session, escalation, card, now, event_id)
    if tell_waiter:
        waiter_id = card.told[0]
        outbox.enqueue(
            session,
            team_id=escalation.team_id,
            key=f"escalation:{escalation.id}:resolved:{waiter_id}",
            channel=waiter_id,
            text=views.resolved_dm_text(card),
            now=now,
        )
    return card


def _record(
    session: Session,
    dependency: Dependency,
    *,
    kind: str,
    now: datetime,
    actor_id: str | None,
    **data: object,
) -> int:
    """One event on each side's history; returns the first one's id (for update keys)."""
    first = 0
    for initiative_id in filter(None, (dependency.waiter_id, dependency.provider_id)):
        event = history.record(
            session,
            team_id=dependency.team_id,
            subject=f"dependency:{dependency.id}",
            kind=kind,
            at=now,
            actor_id=actor_id,
            initiative_id=initiative_id,
            **data,
        )
        session.flush()
        first = first or event.id
    return first


def _close_for_closed_sides(
    session: Session, services: Services, cached: dict[str, WorkspaceSettings], now: datetime
) -> Counter[str]:
    """Open dependencies whose waiter or provider is done, declined or cancelled (closed by a path
    that did not close them, or before that path did): close them, so nothing escalates about work
    nobody waits for any more."""
    closed = (InitiativeState.DONE, InitiativeState.DECLINED, InitiativeState.CANCELLED)
    statement = (
        sa.select(Dependency.team_id, WAITER.id, WAITER.state, PROVIDER.id)
        .join(WAITER, WAITER.id == Dependency.waiter_id)
        .outerjoin(PROVIDER, PROVIDER.id == Dependency.provider_id)
        .where(
            Dependency.state == DependencyState.OPEN,
            sa.or_(WAITER.state.in_(closed), PROVIDER.state.in_(closed)),
        )
        .limit(BATCH)
    )
    done: Counter[str] = Counter()
    seen: set[int] = set()
    for team_id, waiter_id, waiter_state, provider_id in session.execute(statement).all():
        initiative_id = waiter_id if waiter_state in closed else provider_id
        if initiative_id in seen:
            continue
        seen.add(initiative_id)
        if team_id not in cached:
            cached[team_id] = services.workspace(session, team_id)
        initiative = session.get_one(Initiative, initiative_id)
        done["closed"] += dependencies.close_for_closed(session, initiative, None, cached[team_id], now)
    return done


def _close_orphans(
    session: Session, services: Services, cached: dict[str, WorkspaceSettings], now: datetime
) -> Counter[str]:
    """Open escalations of dependencies closed by some other path: resolve them."""
    done: Counter[str] = Counter()
    statement = (
        sa.select(Escalation)
        .join(Dependency, Dependency.id == Escalation.dependency_id)
        .where(Escalation.resolved_at.is_(None), Dependency.state != DependencyState.OPEN)
        .limit(BATCH)
    )
    for escalation in session.scalars(skip_locked(statement, session, of=Escalation)).all():
        dependency = session.get(Dependency, escalation.dependency_id)
        assert dependency is not None
        if dependency.team_id not in cached:
            cached[dependency.team_id] = services.workspace(session, dependency.team_id)
        dependency.stalled_since = None
        dependency.stall_reason = None
        _resolve(
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


# -- called by the dependency functions -------------------------------------------------------------


def _open_escalation(session: Session, dependency: Dependency) -> Escalation | None:
    return session.scalars(
        sa.select(Escalation).where(
            Escalation.dependency_id == dependency.id, Escalation.resolved_at.is_(None)
        )
    ).first()


def reevaluate(
    session: Session,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    actor_id: str | None,
    because: str,
) -> None:
    """Re-check one dependency after a person changed it (a renegotiated date): its escalation
    resolves at once if no cause is left (`because` says how); otherwise it goes on."""
    provider = session.get(Initiative, dependency.provider_id) if dependency.provider_id else None
    _apply(
        session,
        dependency,
        provider,
        _open_escalation(session, dependency),
        settings,
        now,
        actor_id=actor_id,
        because=because,
        tell_waiter=False,  # both sides were just told of the change itself
    )


def reevaluate_provider(
    session: Session, provider: Initiative, settings: WorkspaceSettings, now: datetime
) -> dict[str, int]:
    """Bring the stalls and escalations of everything waiting on `provider` up to date now, e.g.
    right after its owner answered a check-in, instead of at the next tick. Locks those
    dependencies (PostgreSQL) as the tick does. Returns what changed ("resolved", "stalled", ...)."""
    found = list(
        session.scalars(
            sa.select(Dependency)
            .where(
                Dependency.team_id == provider.team_id,
                Dependency.provider_id == provider.id,
                Dependency.state == DependencyState.OPEN,
            )
            .order_by(Dependency.id)
            .with_for_update()
        )
    )
    if not found:
        return {}
    open_escalations = {
        e.dependency_id: e
        for e in session.scalars(
            sa.select(Escalation).where(
                Escalation.dependency_id.in_([d.id for d in found]), Escalation.resolved_at.is_(None)
            )
        )
    }
    counts: Counter[str] = Counter()
    for dependency in found:
        counts.update(
            _apply(session, dependency, provider, open_escalations.get(dependency.id), settings, now)
        )
    return dict(counts)


def close_for_dependency(
    session: Session,
    dependency: Dependency,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    actor_id: str | None,
    resolution: str,
) -> None:
    """The dependency was met or cancelled: its open escalation (if any) resolves."""
    escalation = _open_escalation(session, dependency)
    if escalation is not None:
        _resolve(
            session,
            escalation,
            dependency,
            settings,
            now,
            by=actor_id,
            resolution=resolution,
            tell_waiter=False,
        )


# -- what people do with an escalation --------------------------------------------------------------


def _load_for_handling(
    session: Session, team_id: str, escalation_id: int, actor_id: str, settings: WorkspaceSettings
) -> tuple[Escalation, Dependency]:
    dependency_id = session.scalar(
        sa.select(Escalation.dependency_id).where(
            Escalation.id == escalation_id, Escalation.team_id == team_id
        )
    )
    if dependency_id is None:
        raise NotFound("That escalation no longer exists.")
    # lock the dependency first, as the tick does, then read the escalation fresh
    dependency = session.scalars(
        sa.select(Dependency).where(Dependency.id == dependency_id).with_for_update()
    ).one()
    escalation = session.scalars(
        sa.select(Escalation).where(Escalation.id == escalation_id).execution_options(populate_existing=True)
    ).one()
    authz.require(
        Action.HANDLE_ESCALATION, actor_id, settings, dependency_subject(session, dependency, settings)
    )
    if escalation.resolved_at is not None:
        raise Conflict("This escalation is already resolved. Nothing was changed.")
    return escalation, dependency


def for_handling(
    session: Session,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> EscalationCard:
    """The card of an open escalation `actor_id` may handle (before the resolve or snooze modal
    opens). Raises NotFound, NotAllowed (Action.HANDLE_ESCALATION), Conflict (resolved)."""
    escalation, dependency = _load_for_handling(session, team_id, escalation_id, actor_id, settings)
    return build_card(session, escalation, dependency, settings, now)


def acknowledge(
    session: Session,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> EscalationCard:
    """Record that `actor_id` looks after this escalation (the ladder goes on); the governance
    post says so. Raises NotFound, NotAllowed (Action.HANDLE_ESCALATION), Conflict (resolved)."""
    escalation, dependency = _load_for_handling(session, team_id, escalation_id, actor_id, settings)
    escalation.acknowledged_by = actor_id
    escalation.acknowledged_at = now
    event_id = _record(
        session,
        dependency,
        kind="escalation.acknowledged",
        now=now,
        actor_id=actor_id,
        escalation=escalation.id,
    )
    card = build_card(session, escalation, dependency, settings, now)
    _refresh_post(session, escalation, card, now, event_id)
    return card


def resolve(
    session: Session,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    how: str,
) -> EscalationCard:
    """Close the episode, saying how; the post is edited and the waiting side told.
    Raises NotFound, NotAllowed (Action.HANDLE_ESCALATION), Conflict, InvalidFields on `resolve_how`."""
    escalation, dependency = _load_for_handling(session, team_id, escalation_id, actor_id, settings)
    how = clean(how)
    if not how:
        raise InvalidFields({"resolve_how": "Say how it was resolved: the waiting side will read it."})
    if len(how) > HOW_LIMIT:
        raise InvalidFields({"resolve_how": f"Keep it under {HOW_LIMIT} characters."})
    return _resolve(session, escalation, dependency, settings, now, by=actor_id, resolution=how)


def snooze(
    session: Session,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    until: date | None,
    reason: str,
) -> EscalationCard:
    """Hold the climb until the start of `until` (workspace zone), with a reason shown on the post.
    Raises NotFound, NotAllowed (Action.HANDLE_ESCALATION), Conflict, InvalidFields on
    `snooze_until` / `snooze_reason`."""
    escalation, dependency = _load_for_handling(session, team_id, escalation_id, actor_id, settings)
    today = workspace_today(settings, now)
    reason = clean(reason)
    errors: dict[str, str] = {}
    if until is None:
        errors["snooze_until"] = "Pick the day the escalation resumes."
    elif until <= today:
        errors["snooze_until"] = "Pick a day after today."
    elif until > today + timedelta(days=MAX_SNOOZE_DAYS):
        errors["snooze_until"] = f"Snooze for at most {MAX_SNOOZE_DAYS} days."
    if not reason:
        errors["snooze_reason"] = "Say why it can wait: the post will show it."
    elif len(reason) > SNOOZE_REASON_LIMIT:
        errors["snooze_reason"] = f"Keep it under {SNOOZE_REASON_LIMIT} characters."
    if errors:
        raise InvalidFields(errors)
    assert until is not None
    escalation.snoozed_until = datetime.combine(until, time(0), tzinfo=zone(settings.timezone))
    escalation.snooze_reason = reason
    event_id = _record(
        session,
        dependency,
        kind="escalation.snoozed",
        now=now,
        actor_id=actor_id,
        escalation=escalation.id,
        until=until,
        reason=reason,
    )
    card = build_card(session, escalation, dependency, settings, now)
    _refresh_post(session, escalation, card, now, event_id)
    return card


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StallLine:
    """One stalled dependency, for `/initiative stalled` (and anyone listing stalls)."""

    dependency_id: int
    escalation_id: int | None  # None: the episode was resolved by hand and it is still stalled
    waiter_key: str
    waiter_title: str
    provider_key: str | None
    provider_title: str | None
    provider_team: str | None
    reason: str
    stalled_since: datetime
    age_days: int  # business days
    level: int | None
    acknowledged_by: str | None
    snoozed_until: datetime | None


def stalled(
    session: Session, team_id: str, settings: WorkspaceSettings, now: datetime, *, limit: int = 40
) -> list[StallLine]:
    """Current stalls in the workspace, highest level first, then oldest; one statement."""
    waiter = WAITER
    provider = PROVIDER
    rows = session.execute(
        sa.select(
            Dependency.id,
            Escalation.id,
            waiter.key,
            waiter.title,
            provider.key,
            provider.title,
            Dependency.provider_team,
            Dependency.stall_reason,
            Dependency.stalled_since,
            Escalation.level,
            Escalation.acknowledged_by,
            Escalation.snoozed_until,
        )
        .select_from(Dependency)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .outerjoin(
            Escalation, sa.and_(Escalation.dependency_id == Dependency.id, Escalation.resolved_at.is_(None))
        )
        .where(
            Dependency.team_id == team_id,
            Dependency.state == DependencyState.OPEN,
            Dependency.stalled_since.is_not(None),
        )
        .order_by(Escalation.level.desc().nulls_last(), Dependency.stalled_since, Dependency.id)
        .limit(limit)
    ).all()
    calendar, tz = settings.calendar(), zone(settings.timezone)
    return [
        StallLine(
            dependency_id=r[0],
            escalation_id=r[1],
            waiter_key=r[2],
            waiter_title=r[3],
            provider_key=r[4],
            provider_title=r[5],
            provider_team=r[6],
            reason=r[7] or "",
            stalled_since=r[8] or now,
            age_days=calendar.working_days_between(r[8] or now, now, tz),
            level=r[9],
            acknowledged_by=r[10],
            snoozed_until=r[11] if r[11] is not None and r[11] > now else None,
        )
        for r in rows
    ]


def open_escalations(session: Session, team_id: str) -> list[Escalation]:
    """The workspace's open escalations (indexed by team and resolved_at), oldest first."""
    return list(
        session.scalars(
            sa.select(Escalation)
            .where(Escalation.team_id == team_id, Escalation.resolved_at.is_(None))
            .order_by(Escalation.opened_at, Escalation.id)
        )
    )

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
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.core.config import WorkspaceSettings
from bot.escalation import views
from bot.escalation.models import EscalationCard, governance_key, level_key
from bot.escalation.service.card import build_card
from bot.escalation.service.episodes import (
    check_how,
    check_snooze,
    due_level,
    load_for_handling,
    open_episode,
    open_escalation,
    posted,
    recovery,
    waiting_on,
)
from bot.escalation.service.stalls import describe_stalls, stall_causes
from bot.initiatives.service import record_on_both_sides
from bot.trackers.models import LinkedFact
from bot.trackers.service.stalls import linked_facts
from storage.models import Dependency, Escalation, Initiative


def apply(
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
    linked: Sequence[LinkedFact] | None = None,
) -> Counter[str]:
    """Bring one dependency's stall and escalation in line with its state at `now`. `linked`: the
    provider's open linked work (`trackers.service.stalls.linked_facts`), read here when not given."""
    done: Counter[str] = Counter()
    if linked is None:
        linked = (
            linked_facts(session, provider.team_id, [provider.id]).get(provider.id, []) if provider else []
        )
    stalls = stall_causes(dependency, provider, settings, now, linked)
    if stalls:
        reason = describe_stalls(stalls)
        if dependency.stalled_since is None:
            dependency.stalled_since = now
            dependency.stall_reason = reason
            record_on_both_sides(
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
                escalation, opened = open_episode(session, dependency, reason, now)
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
        record_on_both_sides(session, dependency, kind="dependency.recovered", now=now, actor_id=actor_id)
        done["recovered"] += 1
    if escalation is not None:
        resolve_episode(
            session,
            escalation,
            dependency,
            settings,
            now,
            by=actor_id,
            resolution=because or recovery(dependency, provider, settings),
            tell_waiter=tell_waiter,
        )
        done["resolved"] += 1
    return done


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
    target = due_level(escalation, settings, now)
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
    event_id = record_on_both_sides(
        session, dependency, kind="escalation.snooze_ended", now=now, actor_id=None, escalation=escalation.id
    )
    if posted(session, escalation):
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
    record_on_both_sides(
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


def _refresh_post(
    session: Session, escalation: Escalation, card: EscalationCard, now: datetime, event_id: int
) -> None:
    """Edit the governance post in place to show `card` (after the post itself is sent)."""
    if not posted(session, escalation):
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


def resolve_episode(
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
    """End the episode (`by` None: by itself): the governance post is edited and, unless told
    otherwise, the waiting side is told."""
    escalation.resolved_at = now
    escalation.resolved_by = by
    escalation.resolution = resolution
    event_id = record_on_both_sides(
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
    apply(
        session,
        dependency,
        provider,
        open_escalation(session, dependency),
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
    found, open_escalations = waiting_on(session, provider)
    if not found:
        return {}
    counts: Counter[str] = Counter()
    linked = linked_facts(session, provider.team_id, [provider.id]).get(provider.id, [])  # once, for all
    for dependency in found:
        counts.update(
            apply(
                session,
                dependency,
                provider,
                open_escalations.get(dependency.id),
                settings,
                now,
                linked=linked,
            )
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
    escalation = open_escalation(session, dependency)
    if escalation is not None:
        resolve_episode(
            session,
            escalation,
            dependency,
            settings,
            now,
            by=actor_id,
            resolution=resolution,
            tell_waiter=False,
        )


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
    escalation, dependency = load_for_handling(session, team_id, escalation_id, actor_id, settings)
    escalation.acknowledged_by = actor_id
    escalation.acknowledged_at = now
    event_id = record_on_both_sides(
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
    escalation, dependency = load_for_handling(session, team_id, escalation_id, actor_id, settings)
    how = check_how(how)
    return resolve_episode(session, escalation, dependency, settings, now, by=actor_id, resolution=how)


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
    escalation, dependency = load_for_handling(session, team_id, escalation_id, actor_id, settings)
    escalation.snoozed_until, reason = check_snooze(settings, now, until, reason)
    escalation.snooze_reason = reason
    event_id = record_on_both_sides(
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

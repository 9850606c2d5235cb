"""Adding, renegotiating, meeting and cancelling a dependency, and telling both sides; each change
then brings the dependency's escalation in line (bot.escalation.flows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.core import mrkdwn
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict
from bot.dependencies import service, views
from bot.escalation import flows as escalation
from bot.initiatives.service import provider_people, waiter_person, workspace_today
from storage.models import Dependency, DependencyState, Initiative, InitiativeState


def add(
    session: Session,
    *,
    waiter: Initiative,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    what: str,
    needed_by: date | None,
    provider: Initiative | None = None,
    provider_team: str | None = None,
    provider_contact_id: str | None = None,
    today: date | None = None,
) -> Dependency:
    """Record that `waiter` waits on `provider` (or on `provider_team`, with a named contact) and tell
    both sides. Returns the existing open dependency if the same one is recorded again.

    Raises NotAllowed (see authz.Action.ADD_DEPENDENCY) or Invalid with the field it concerns
    (`dependency_provider`, `dependency_what`, `dependency_needed_by`).
    """
    dependency, created = service.add(
        session,
        waiter=waiter,
        actor_id=actor_id,
        settings=settings,
        now=now,
        what=what,
        needed_by=needed_by,
        provider=provider,
        provider_team=provider_team,
        provider_contact_id=provider_contact_id,
        today=today,
    )
    if created:
        _tell_both_sides(session, dependency, waiter, provider, settings, now, actor_id)
    return dependency


def _tell_both_sides(
    session: Session,
    dependency: Dependency,
    waiter: Initiative,
    provider: Initiative | None,
    settings: WorkspaceSettings,
    now: datetime,
    actor_id: str,
) -> None:
    """A DM to each side, except the person who recorded it: they just saw it in the modal."""
    waiter_id = waiter.owner_id or waiter.requester_id
    provider_ids = {p for p in (provider.owner_id if provider else None, dependency.provider_contact_id) if p}
    if provider is None and not provider_ids and dependency.provider_team in settings.teams:
        provider_ids.add(settings.teams[dependency.provider_team or ""])
    text = views.added_text(dependency, waiter, provider)
    for user_id in sorted({waiter_id, *provider_ids} - {actor_id}):
        outbox.enqueue(
            session,
            team_id=waiter.team_id,
            key=f"dependency:{dependency.id}:added:{user_id}",
            channel=user_id,
            text=text,
            now=now,
        )


def add_from_form(
    session: Session,
    *,
    team_id: str,
    waiter_key: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    provider_key: str | None,
    provider_team: str | None,
    provider_contact_id: str | None,
    what: str,
    needed_by: date | None,
) -> Dependency:
    """`add`, from the add-dependency modal: an initiative (by key) or a team, not both.
    Raises NotFound, NotAllowed, Invalid (on the modal's input blocks)."""
    waiter, provider, provider_team = service.form_sides(
        session,
        team_id=team_id,
        waiter_key=waiter_key,
        provider_key=provider_key,
        provider_team=provider_team,
    )
    return add(
        session,
        waiter=waiter,
        actor_id=actor_id,
        settings=settings,
        now=now,
        what=what,
        needed_by=needed_by,
        provider=provider,
        provider_team=provider_team,
        provider_contact_id=provider_contact_id,
        today=workspace_today(settings, now),
    )


def _tell(
    session: Session,
    dependency: Dependency,
    people: Iterable[str],
    *,
    key: str,
    text: str,
    now: datetime,
) -> None:
    for user_id in dict.fromkeys(people):
        outbox.enqueue(
            session,
            team_id=dependency.team_id,
            key=f"dependency:{dependency.id}:{key}:{user_id}",
            channel=user_id,
            text=text,
            now=now,
        )


def renegotiate(
    session: Session,
    *,
    team_id: str,
    dependency_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    needed_by: date | None,
    reason: str,
) -> Dependency:
    """Move the needed-by date (to a day after today, with a reason); both sides are told, both
    histories show it, and an escalation whose cause was the old date resolves.

    Raises NotFound, NotAllowed (Action.MANAGE_DEPENDENCY), Conflict (not open), InvalidFields on
    `renegotiate_needed_by` / `renegotiate_reason`."""
    change = service.renegotiate(
        session,
        team_id=team_id,
        dependency_id=dependency_id,
        actor_id=actor_id,
        settings=settings,
        now=now,
        needed_by=needed_by,
        reason=reason,
    )
    dependency = change.dependency
    _tell(
        session,
        dependency,
        [waiter_person(change.waiter), *provider_people(dependency, change.provider, settings)],
        key=f"renegotiated:{change.event_id}",
        text=views.renegotiated_text(change, actor_id),
        now=now,
    )
    escalation.reevaluate(
        session,
        dependency,
        settings,
        now,
        actor_id=actor_id,
        because=f"the needed-by date moved to {mrkdwn.date_text(dependency.needed_by)}: {change.reason}",
    )
    return dependency


def _close(
    session: Session,
    *,
    team_id: str,
    dependency_id: int,
    actor_id: str | None,
    settings: WorkspaceSettings,
    now: datetime,
    state: DependencyState,
    because: str | None = None,
) -> Dependency:
    """Close a dependency as met or cancelled, tell both sides, resolve its escalation. `because`:
    see service.close."""
    change = service.close(
        session,
        team_id=team_id,
        dependency_id=dependency_id,
        actor_id=actor_id,
        settings=settings,
        now=now,
        state=state,
        because=because,
    )
    dependency = change.dependency
    word = "met" if state == DependencyState.MET else "cancelled"
    _tell(
        session,
        dependency,
        [waiter_person(change.waiter), *provider_people(dependency, change.provider, settings)],
        key=word,
        text=views.closed_text(change, actor_id, because),
        now=now,
    )
    escalation.close_for_dependency(
        session, dependency, settings, now, actor_id=actor_id, resolution=because or f"marked {word}"
    )
    return dependency


def close_for_closed(
    session: Session,
    initiative: Initiative,
    actor_id: str | None,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    skip_taken: bool = False,
) -> int:
    """Close the open dependencies on either side of `initiative`, which has just been cancelled,
    declined or done (the caller authorised that): nobody waits on or for a closed initiative.
    What waits on a done initiative is met; everything else is cancelled. Both sides are told,
    escalations resolve. A dependency closed meanwhile by someone else is left as it is.
    `skip_taken` (the tick): rows another transaction holds are left for it. Returns how many
    this call closed."""
    rows = service.open_on_either_side(session, initiative, skip_taken=skip_taken)
    done = initiative.state == InitiativeState.DONE
    because = f"{mrkdwn.escape(initiative.key)} " + {
        InitiativeState.DONE: "is done",
        InitiativeState.DECLINED: "was declined",
    }.get(initiative.state, "was cancelled")
    closed = 0
    for dependency_id, provider_id in rows:
        try:
            _close(
                session,
                team_id=initiative.team_id,
                dependency_id=dependency_id,
                actor_id=actor_id,
                settings=settings,
                now=now,
                state=DependencyState.MET
                if done and provider_id == initiative.id
                else DependencyState.CANCELLED,
                because=because,
            )
        except Conflict:
            # closed since we read it (service.close refuses before it writes): skip this row only
            continue
        closed += 1
    return closed


def mark_met(
    session: Session,
    *,
    team_id: str,
    dependency_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Dependency:
    """The provider delivered: the dependency is met, both sides are told, its escalation resolves.
    Raises NotFound, NotAllowed (Action.MANAGE_DEPENDENCY), Conflict (not open)."""
    return _close(
        session,
        team_id=team_id,
        dependency_id=dependency_id,
        actor_id=actor_id,
        settings=settings,
        now=now,
        state=DependencyState.MET,
    )


def cancel(
    session: Session,
    *,
    team_id: str,
    dependency_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Dependency:
    """Nobody waits any more: the dependency is cancelled, both sides told, its escalation resolves.
    Raises NotFound, NotAllowed (Action.MANAGE_DEPENDENCY), Conflict (not open)."""
    return _close(
        session,
        team_id=team_id,
        dependency_id=dependency_id,
        actor_id=actor_id,
        settings=settings,
        now=now,
        state=DependencyState.CANCELLED,
    )

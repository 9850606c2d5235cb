"""Dependencies: "A waits on B (or on a team) for X by date D"."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import authz, delivery, history, mrkdwn
from bot.authz import Action
from bot.config import WorkspaceSettings
from bot.errors import Invalid
from storage.models import OPEN_STATES, Dependency, DependencyState, Initiative, Okr

WHAT_LIMIT = 500


def initiative_subject(session: Session, initiative: Initiative) -> authz.Subject:
    """The people who stand in a relation to `initiative`, for authorisation."""
    okr_owners: list[str] = []
    okr = session.get(Okr, initiative.okr_id)
    while okr is not None:
        if okr.owner_id:
            okr_owners.append(okr.owner_id)
        okr = session.get(Okr, okr.parent_id) if okr.parent_id else None
    return authz.Subject(
        label=initiative.key,
        requester_id=initiative.requester_id,
        owner_id=initiative.owner_id,
        okr_owner_ids=tuple(okr_owners),
    )


def _waits_on_transitively(session: Session, start: Initiative, target_id: int) -> bool:
    """Does `start` already (indirectly) wait on `target_id`? Walks open dependencies."""
    seen: set[int] = set()
    frontier = {start.id}
    while frontier:
        seen |= frontier
        rows = session.scalars(
            sa.select(Dependency.provider_id).where(
                Dependency.waiter_id.in_(frontier),
                Dependency.state == DependencyState.OPEN,
                Dependency.provider_id.is_not(None),
            )
        ).all()
        if target_id in rows:
            return True
        frontier = {r for r in rows if r is not None} - seen
    return False


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
    authz.require(Action.ADD_DEPENDENCY, actor_id, settings, initiative_subject(session, waiter))
    what = (what or "").strip()
    if provider is None and not (provider_team or "").strip():
        raise Invalid("Say what this waits on: another initiative, or a team.", "dependency_provider")
    if provider is not None:
        if provider.id == waiter.id:
            raise Invalid(f"{waiter.key} can't wait on itself.", "dependency_provider")
        if provider.team_id != waiter.team_id:
            raise Invalid(f"{provider.key} isn't in this workspace.", "dependency_provider")
        if provider.state not in OPEN_STATES:
            raise Invalid(
                f"{provider.key} is {provider.state.value}; it can't be waited on.", "dependency_provider"
            )
        if _waits_on_transitively(session, provider, waiter.id):
            raise Invalid(
                f"{provider.key} already waits on {waiter.key}: that would be a circle.",
                "dependency_provider",
            )
    if len(what) > WHAT_LIMIT:
        raise Invalid(f"Keep it under {WHAT_LIMIT} characters.", "dependency_what")
    if needed_by is not None and today is not None and needed_by < today:
        raise Invalid("The needed-by date is in the past.", "dependency_needed_by")

    same = sa.select(Dependency).where(
        Dependency.team_id == waiter.team_id,
        Dependency.waiter_id == waiter.id,
        Dependency.state == DependencyState.OPEN,
    )
    same = (
        same.where(Dependency.provider_id == provider.id)
        if provider is not None
        else same.where(Dependency.provider_team == provider_team)
    )
    existing = session.scalars(same).first()
    if existing is not None:
        return existing

    dependency = Dependency(
        team_id=waiter.team_id,
        waiter_id=waiter.id,
        provider_id=provider.id if provider else None,
        provider_team=None if provider else (provider_team or "").strip()[:100],
        provider_contact_id=provider_contact_id,
        what=what,
        needed_by=needed_by,
        state=DependencyState.OPEN,
        created_by=actor_id,
        created_at=now,
    )
    session.add(dependency)
    session.flush()
    provider_name = provider.key if provider else dependency.provider_team
    for item in filter(None, (waiter, provider)):
        history.record(
            session,
            team_id=waiter.team_id,
            subject=f"dependency:{dependency.id}",
            kind="dependency.added",
            at=now,
            actor_id=actor_id,
            initiative_id=item.id,
            waiter=waiter.key,
            provider=provider_name,
            what=what,
            needed_by=needed_by,
        )
    _tell_both_sides(session, dependency, waiter, provider, settings, now)
    return dependency


def _tell_both_sides(
    session: Session,
    dependency: Dependency,
    waiter: Initiative,
    provider: Initiative | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> None:
    waiter_person = waiter.owner_id or waiter.requester_id
    provider_people = {
        p for p in (provider.owner_id if provider else None, dependency.provider_contact_id) if p
    }
    if provider is None and not provider_people and dependency.provider_team in settings.teams:
        provider_people.add(settings.teams[dependency.provider_team or ""])
    by = f" by {mrkdwn.date_text(dependency.needed_by)}" if dependency.needed_by else ""
    what = f": {mrkdwn.escape(dependency.what)}" if dependency.what else ""
    provider_label = (
        f"*{mrkdwn.escape(provider.key)}* {mrkdwn.escape(provider.title)}"
        if provider
        else f"the {mrkdwn.escape(dependency.provider_team)} team"
    )
    waiter_label = f"*{mrkdwn.escape(waiter.key)}* {mrkdwn.escape(waiter.title)}"
    text = f":link: {waiter_label} now waits on {provider_label}{what}{by}."
    for user_id in {waiter_person, *provider_people}:
        delivery.enqueue(
            session,
            team_id=waiter.team_id,
            key=f"dependency:{dependency.id}:added:{user_id}",
            channel=user_id,
            text=text,
            now=now,
        )

"""Dependencies: "A waits on B (or on a team) for X by date D".

The rules and the SQL of recording one (`add`), renegotiating its date, marking it met or
cancelling it, and of listing an initiative's dependencies both ways. Telling both sides, and the
escalation that follows, is bot.dependencies.flows; the stall rules the escalation ladder climbs on
are bot.escalation's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, history, mrkdwn
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid, InvalidFields, NotFound
from bot.core.text import clean, one_line
from bot.dependencies.models import (
    REASON_LIMIT,
    WHAT_LIMIT,
    AddContext,
    Change,
    DependencyLine,
    InitiativeDependencies,
    ManageContext,
)
from bot.initiatives.service import (
    dependency_sides,
    dependency_subject,
    find_initiative,
    initiative_subject,
    load_dependency,
    record_on_both_sides,
    workspace_today,
)
from storage.aliases import PROVIDER, WAITER
from storage.db import skip_locked
from storage.models import (
    OPEN_STATES,
    Dependency,
    DependencyState,
    Escalation,
    Initiative,
    InitiativeState,
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
) -> tuple[Dependency, bool]:
    """Record that `waiter` waits on `provider` (or on `provider_team`, with a named contact), with
    an event on both sides' histories. Returns the dependency and whether it is new: the existing
    open dependency if the same one is recorded again.

    Raises NotAllowed (see authz.Action.ADD_DEPENDENCY) or Invalid with the field it concerns
    (`dependency_provider`, `dependency_what`, `dependency_needed_by`).
    """
    authz.require(Action.ADD_DEPENDENCY, actor_id, settings, initiative_subject(session, waiter))
    what = clean(what)
    provider_team = one_line(provider_team) or None
    if provider is None and not provider_team:
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
        return existing, False

    dependency = Dependency(
        team_id=waiter.team_id,
        waiter_id=waiter.id,
        provider_id=provider.id if provider else None,
        provider_team=None if provider else (provider_team or "")[:100],
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
    return dependency, True


def prepare_add(
    session: Session, *, team_id: str, waiter_key: str, actor_id: str, settings: WorkspaceSettings
) -> AddContext:
    """Check that `actor_id` may add a dependency to `waiter_key` before a modal asks for one.
    Raises NotFound, NotAllowed, or Conflict when the initiative is closed."""
    waiter = find_initiative(session, team_id, waiter_key)
    authz.require(Action.ADD_DEPENDENCY, actor_id, settings, initiative_subject(session, waiter))
    if waiter.state not in OPEN_STATES:
        raise Conflict(f"{waiter.key} is {waiter.state.value}; it no longer waits on anything.")
    return AddContext(waiter.key, waiter.title, tuple(settings.teams))


def form_sides(
    session: Session,
    *,
    team_id: str,
    waiter_key: str,
    provider_key: str | None,
    provider_team: str | None,
) -> tuple[Initiative, Initiative | None, str | None]:
    """The waiting initiative, the provider (by key) and the team, as the add-dependency modal
    names them: an initiative or a team, not both. Raises NotFound, Invalid (on the modal's input
    blocks)."""
    waiter = find_initiative(session, team_id, waiter_key)
    provider_team = (provider_team or "").strip() or None
    if provider_key and provider_team:
        raise Invalid("Pick another initiative or a team, not both.", "dependency_team")
    provider = None
    if provider_key:
        try:
            provider = find_initiative(session, team_id, provider_key)
        except NotFound:
            shown = mrkdwn.escape(provider_key.strip().upper())
            raise Invalid(f"There is no initiative {shown} here.", "dependency_provider") from None
    return waiter, provider, provider_team


# -- changing one ------------------------------------------------------------------------------------


def provider_label(dependency: Dependency, provider: Initiative | None) -> str:
    """The providing side in plain words: `REQ-2` or `the Platform team`."""
    return provider.key if provider else f"the {dependency.provider_team} team"


def _require_open(dependency: Dependency) -> None:
    if dependency.state != DependencyState.OPEN:
        raise Conflict(f"This dependency is already {dependency.state.value}. Nothing was changed.")


def for_managing(
    session: Session, *, team_id: str, dependency_id: int, actor_id: str, settings: WorkspaceSettings
) -> ManageContext:
    """Check that `actor_id` may renegotiate or mark `dependency_id` met, before a modal opens.
    Raises NotFound, NotAllowed, Conflict."""
    dependency = load_dependency(session, team_id, dependency_id)
    authz.require(
        Action.MANAGE_DEPENDENCY, actor_id, settings, dependency_subject(session, dependency, settings)
    )
    _require_open(dependency)
    waiter, provider = dependency_sides(session, dependency)
    return ManageContext(
        dependency.id, waiter.key, provider_label(dependency, provider), dependency.what, dependency.needed_by
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
) -> Change:
    """Move the needed-by date (to a day after today, with a reason); both histories show it.

    Raises NotFound, NotAllowed (Action.MANAGE_DEPENDENCY), Conflict (not open), InvalidFields on
    `renegotiate_needed_by` / `renegotiate_reason`."""
    dependency = load_dependency(session, team_id, dependency_id, lock=True)
    authz.require(
        Action.MANAGE_DEPENDENCY, actor_id, settings, dependency_subject(session, dependency, settings)
    )
    _require_open(dependency)
    reason = clean(reason)
    errors: dict[str, str] = {}
    if needed_by is None:
        errors["renegotiate_needed_by"] = "Pick the new date."
    elif needed_by <= workspace_today(settings, now):
        errors["renegotiate_needed_by"] = "Pick a date after today."
    if not reason:
        errors["renegotiate_reason"] = "Say why the date moves: both sides will read it."
    elif len(reason) > REASON_LIMIT:
        errors["renegotiate_reason"] = f"Keep it under {REASON_LIMIT} characters."
    if errors:
        raise InvalidFields(errors)
    assert needed_by is not None
    waiter, provider = dependency_sides(session, dependency)
    old = dependency.needed_by
    dependency.needed_by = needed_by
    event_id = record_on_both_sides(
        session,
        dependency,
        kind="dependency.renegotiated",
        now=now,
        actor_id=actor_id,
        old_needed_by=old,
        needed_by=needed_by,
        reason=reason,
    )
    return Change(dependency, waiter, provider, event_id, old_needed_by=old, reason=reason)


def close(
    session: Session,
    *,
    team_id: str,
    dependency_id: int,
    actor_id: str | None,
    settings: WorkspaceSettings,
    now: datetime,
    state: DependencyState,
    because: str | None = None,
) -> Change:
    """Close a dependency as met or cancelled; both histories show it. `because`: the caller
    already authorised a larger change (an initiative closing), said here in words, and this step
    is not re-checked; the actor is then None when Throughline itself does it.
    Raises NotFound, NotAllowed (Action.MANAGE_DEPENDENCY), Conflict (not open)."""
    dependency = load_dependency(session, team_id, dependency_id, lock=True)
    if because is None:
        assert actor_id is not None
        authz.require(
            Action.MANAGE_DEPENDENCY, actor_id, settings, dependency_subject(session, dependency, settings)
        )
    _require_open(dependency)
    waiter, provider = dependency_sides(session, dependency)
    dependency.state = state
    if state == DependencyState.MET:
        dependency.met_at = now
    dependency.stalled_since = None
    dependency.stall_reason = None
    word = "met" if state == DependencyState.MET else "cancelled"
    event_id = record_on_both_sides(
        session, dependency, kind=f"dependency.{word}", now=now, actor_id=actor_id
    )
    return Change(dependency, waiter, provider, event_id)


def open_on_either_side(
    session: Session, initiative: Initiative, *, skip_taken: bool = False
) -> list[tuple[int, int | None]]:
    """The open dependencies on either side of `initiative`: (id, provider id) each. `skip_taken`
    (the tick): claimed, leaving out rows another transaction holds (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL), so two replicas never wait for, or deadlock on, each other's rows."""
    statement = (
        sa.select(Dependency.id, Dependency.provider_id)
        .where(
            Dependency.team_id == initiative.team_id,
            Dependency.state == DependencyState.OPEN,
            sa.or_(Dependency.waiter_id == initiative.id, Dependency.provider_id == initiative.id),
        )
        .order_by(Dependency.id)
    )
    if skip_taken:
        statement = skip_locked(statement, session, of=Dependency)
    rows = session.execute(statement).all()
    return [(r[0], r[1]) for r in rows]


def with_a_closed_side(session: Session, limit: int) -> list[tuple[str, int]]:
    """Open dependencies whose waiter or provider is done, declined or cancelled (closed by a path
    that did not close them, or before that path did): (team id, the closed initiative's id), each
    initiative once, at most `limit` rows read. The rows are claimed (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL), so replicas ticking at once take different ones."""
    closed = (InitiativeState.DONE, InitiativeState.DECLINED, InitiativeState.CANCELLED)
    statement = (
        sa.select(Dependency.team_id, WAITER.id, WAITER.state, PROVIDER.id)
        .join(WAITER, WAITER.id == Dependency.waiter_id)
        .outerjoin(PROVIDER, PROVIDER.id == Dependency.provider_id)
        .where(
            Dependency.state == DependencyState.OPEN,
            sa.or_(WAITER.state.in_(closed), PROVIDER.state.in_(closed)),
        )
        .limit(limit)
    )
    found: list[tuple[str, int]] = []
    seen: set[int] = set()
    claimed = skip_locked(statement, session, of=Dependency)
    for team_id, waiter_id, waiter_state, provider_id in session.execute(claimed).all():
        initiative_id = waiter_id if waiter_state in closed else provider_id
        if initiative_id in seen:
            continue
        seen.add(initiative_id)
        found.append((team_id, initiative_id))
    return found


# -- reading ---------------------------------------------------------------------------------------


def of_initiative(
    session: Session, initiative: Initiative, *, include_closed: bool = False
) -> InitiativeDependencies:
    """An initiative's dependencies both ways, with stall and escalation level, in one statement."""
    waiter = WAITER
    provider = PROVIDER
    statement = (
        sa.select(
            Dependency.id,
            waiter.key,
            waiter.title,
            waiter.owner_id,
            provider.key,
            provider.title,
            provider.owner_id,
            Dependency.provider_team,
            Dependency.provider_contact_id,
            Dependency.what,
            Dependency.needed_by,
            Dependency.state,
            Dependency.stalled_since,
            Dependency.stall_reason,
            Escalation.id,
            Escalation.level,
            Dependency.waiter_id,
        )
        .select_from(Dependency)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .outerjoin(
            Escalation, sa.and_(Escalation.dependency_id == Dependency.id, Escalation.resolved_at.is_(None))
        )
        .where(
            Dependency.team_id == initiative.team_id,
            sa.or_(Dependency.waiter_id == initiative.id, Dependency.provider_id == initiative.id),
        )
        .order_by(Dependency.needed_by.is_(None), Dependency.needed_by, Dependency.id)
    )
    if not include_closed:
        statement = statement.where(Dependency.state == DependencyState.OPEN)
    waits_on: list[DependencyLine] = []
    waited_on_by: list[DependencyLine] = []
    for row in session.execute(statement):
        values: tuple[Any, ...] = tuple(row)
        line = DependencyLine(*values[:16])
        (waits_on if row[16] == initiative.id else waited_on_by).append(line)
    return InitiativeDependencies(waits_on, waited_on_by)

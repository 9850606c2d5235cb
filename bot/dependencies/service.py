"""Dependencies: "A waits on B (or on a team) for X by date D".

Recording one (`add`), renegotiating its date, marking it met or cancelling it; listing an
initiative's dependencies both ways; walking the chain of who waits on whom downstream; and the
stall rules (`stall_causes`) the escalation ladder (bot/escalation.py) climbs on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import outbox
from bot.core import authz, history, mrkdwn
from bot.core.authz import Action
from bot.core.calendar import Cadence, CadenceKind, zone
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid, InvalidFields, NotFound
from bot.core.text import clean, one_line
from bot.initiatives.service import (
    dependency_subject,
    find_initiative,
    initiative_subject,
    load_dependency,
    provider_people,
    waiter_person,
)
from storage.aliases import PROVIDER, WAITER
from storage.models import (
    OPEN_STATES,
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
)

WHAT_LIMIT = 500
REASON_LIMIT = 500
# how far the downstream walk goes: a real chain is a handful of links; this bounds the queries
MAX_CHAIN_DEPTH = 25


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
        return existing

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
        outbox.enqueue(
            session,
            team_id=waiter.team_id,
            key=f"dependency:{dependency.id}:added:{user_id}",
            channel=user_id,
            text=text,
            now=now,
        )


# -- who is on each side ----------------------------------------------------------------------------


def workspace_today(settings: WorkspaceSettings, now: datetime) -> date:
    """Today's date in the workspace's time zone."""
    return now.astimezone(zone(settings.timezone)).date()


# -- adding from a form -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddContext:
    """What the add-dependency modal shows: the waiting initiative and the teams one can pick."""

    waiter_key: str
    waiter_title: str
    teams: tuple[str, ...]


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


@dataclass(frozen=True)
class ProviderOption:
    key: str
    title: str


def search_providers(
    session: Session, team_id: str, text: str, *, exclude_key: str | None = None, limit: int = 20
) -> list[ProviderOption]:
    """Open initiatives whose key or title contains `text`, newest first, for the external select."""
    words = (text or "").strip()
    statement = sa.select(Initiative.key, Initiative.title).where(
        Initiative.team_id == team_id, Initiative.state.in_(OPEN_STATES)
    )
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            sa.or_(Initiative.key.ilike(pattern, escape="\\"), Initiative.title.ilike(pattern, escape="\\"))
        )
    if exclude_key:
        statement = statement.where(Initiative.key != exclude_key)
    rows = session.execute(statement.order_by(Initiative.number.desc()).limit(limit))
    return [ProviderOption(r.key, r.title) for r in rows]


# -- changing one ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManageContext:
    """What the renegotiate modal shows."""

    dependency_id: int
    waiter_key: str
    provider_label: str
    what: str
    needed_by: date | None


def _sides(session: Session, dependency: Dependency) -> tuple[Initiative, Initiative | None]:
    waiter = session.get(Initiative, dependency.waiter_id)
    assert waiter is not None
    provider = session.get(Initiative, dependency.provider_id) if dependency.provider_id else None
    return waiter, provider


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
    waiter, provider = _sides(session, dependency)
    return ManageContext(
        dependency.id, waiter.key, provider_label(dependency, provider), dependency.what, dependency.needed_by
    )


def _record_both(
    session: Session,
    dependency: Dependency,
    waiter: Initiative,
    provider: Initiative | None,
    *,
    kind: str,
    now: datetime,
    actor_id: str | None,
    **data: object,
) -> int:
    """One event per side, so both initiatives' histories show it; returns the first event's id."""
    first = 0
    for item in filter(None, (waiter, provider)):
        event = history.record(
            session,
            team_id=dependency.team_id,
            subject=f"dependency:{dependency.id}",
            kind=kind,
            at=now,
            actor_id=actor_id,
            initiative_id=item.id,
            **data,
        )
        session.flush()
        first = first or event.id
    return first


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


def _labels(dependency: Dependency, waiter: Initiative, provider: Initiative | None) -> tuple[str, str]:
    waiter_label = f"*{mrkdwn.escape(waiter.key)}* {mrkdwn.escape(waiter.title)}"
    provider_text = (
        f"*{mrkdwn.escape(provider.key)}* {mrkdwn.escape(provider.title)}"
        if provider
        else f"the {mrkdwn.escape(dependency.provider_team)} team"
    )
    return waiter_label, provider_text


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
    waiter, provider = _sides(session, dependency)
    old = dependency.needed_by
    dependency.needed_by = needed_by
    event_id = _record_both(
        session,
        dependency,
        waiter,
        provider,
        kind="dependency.renegotiated",
        now=now,
        actor_id=actor_id,
        old_needed_by=old,
        needed_by=needed_by,
        reason=reason,
    )
    waiter_label, provider_text = _labels(dependency, waiter, provider)
    was = f" (was {mrkdwn.date_text(old)})" if old else ""
    text = (
        f":calendar: {mrkdwn.user(actor_id)} moved the date {waiter_label} needs {provider_text} by to "
        f"*{mrkdwn.date_text(needed_by)}*{was}: {mrkdwn.escape(reason)}"
    )
    _tell(
        session,
        dependency,
        [waiter_person(waiter), *provider_people(dependency, provider, settings)],
        key=f"renegotiated:{event_id}",
        text=text,
        now=now,
    )
    from bot.escalation import (
        service as escalation,  # the ladder builds on this module; imported here to avoid a cycle
    )

    escalation.reevaluate(
        session,
        dependency,
        settings,
        now,
        actor_id=actor_id,
        because=f"the needed-by date moved to {mrkdwn.date_text(needed_by)}: {reason}",
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
    """Close a dependency as met or cancelled. `because`: the caller already authorised a larger
    change (an initiative closing), said here in words, and this step is not re-checked; the actor
    is then None when Throughline itself does it."""
    dependency = load_dependency(session, team_id, dependency_id, lock=True)
    if because is None:
        assert actor_id is not None
        authz.require(
            Action.MANAGE_DEPENDENCY, actor_id, settings, dependency_subject(session, dependency, settings)
        )
    _require_open(dependency)
    waiter, provider = _sides(session, dependency)
    dependency.state = state
    if state == DependencyState.MET:
        dependency.met_at = now
    dependency.stalled_since = None
    dependency.stall_reason = None
    word = "met" if state == DependencyState.MET else "cancelled"
    _record_both(session, dependency, waiter, provider, kind=f"dependency.{word}", now=now, actor_id=actor_id)
    waiter_label, provider_text = _labels(dependency, waiter, provider)
    icon = ":white_check_mark:" if state == DependencyState.MET else ":heavy_multiplication_x:"
    what = f" ({mrkdwn.escape(dependency.what)})" if dependency.what else ""
    text = (
        f"{icon} {mrkdwn.user(actor_id)} marked as {word}: {waiter_label} waiting on {provider_text}{what}."
        if because is None
        else f"{icon} No longer waiting: {waiter_label} on {provider_text}{what}, because {because}."
    )
    _tell(
        session,
        dependency,
        [waiter_person(waiter), *provider_people(dependency, provider, settings)],
        key=word,
        text=text,
        now=now,
    )
    from bot.escalation import service as escalation  # see renegotiate

    escalation.close_for_dependency(
        session, dependency, settings, now, actor_id=actor_id, resolution=because or f"marked {word}"
    )
    return dependency


def close_for_closed(
    session: Session, initiative: Initiative, actor_id: str | None, settings: WorkspaceSettings, now: datetime
) -> int:
    """Close the open dependencies on either side of `initiative`, which has just been cancelled,
    declined or done (the caller authorised that): nobody waits on or for a closed initiative.
    What waits on a done initiative is met; everything else is cancelled. Both sides are told,
    escalations resolve. Returns how many."""
    rows = session.execute(
        sa.select(Dependency.id, Dependency.provider_id).where(
            Dependency.team_id == initiative.team_id,
            Dependency.state == DependencyState.OPEN,
            sa.or_(Dependency.waiter_id == initiative.id, Dependency.provider_id == initiative.id),
        )
    ).all()
    done = initiative.state == InitiativeState.DONE
    because = f"{mrkdwn.escape(initiative.key)} " + {
        InitiativeState.DONE: "is done",
        InitiativeState.DECLINED: "was declined",
    }.get(initiative.state, "was cancelled")
    for dependency_id, provider_id in rows:
        _close(
            session,
            team_id=initiative.team_id,
            dependency_id=dependency_id,
            actor_id=actor_id,
            settings=settings,
            now=now,
            state=DependencyState.MET if done and provider_id == initiative.id else DependencyState.CANCELLED,
            because=because,
        )
    return len(rows)


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


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DependencyLine:
    """One dependency as both sides see it."""

    id: int
    waiter_key: str
    waiter_title: str
    waiter_owner_id: str | None
    provider_key: str | None  # None: waits on a team
    provider_title: str | None
    provider_owner_id: str | None
    provider_team: str | None
    provider_contact_id: str | None
    what: str
    needed_by: date | None
    state: DependencyState
    stalled_since: datetime | None
    stall_reason: str | None
    escalation_id: int | None  # the open escalation, if any
    escalation_level: int | None


@dataclass(frozen=True)
class InitiativeDependencies:
    waits_on: list[DependencyLine]  # this initiative is the waiter
    waited_on_by: list[DependencyLine]  # this initiative is the provider


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


def downstream(
    session: Session, team_id: str, start_ids: Iterable[int], *, max_depth: int = MAX_CHAIN_DEPTH
) -> list[int]:
    """Ids of the initiatives that wait on any of `start_ids` through open dependencies, directly
    or transitively (C ← B ← A gives B, then A), nearest first. One query per link of the chain,
    at most `max_depth`; circles (which `add` refuses) cannot loop."""
    seen = set(start_ids)
    frontier = set(seen)
    found: list[int] = []
    for _ in range(max_depth):
        if not frontier:
            break
        rows = session.scalars(
            sa.select(Dependency.waiter_id)
            .where(
                Dependency.team_id == team_id,
                Dependency.provider_id.in_(frontier),
                Dependency.state == DependencyState.OPEN,
            )
            .order_by(Dependency.waiter_id)
        ).all()
        fresh = [r for r in dict.fromkeys(rows) if r not in seen]
        seen.update(fresh)
        found.extend(fresh)
        frontier = set(fresh)
    return found


# -- stalls ----------------------------------------------------------------------------------------


class StallCause(StrEnum):
    BLOCKED = "blocked"  # provider blocked / at risk for more than N business days
    MISSED = "missed_checkins"  # provider's owner missed N check-ins in a row
    OVERDUE = "overdue"  # needed-by date passed, not met
    SILENT = "silent"  # no check-in for N cadence periods


@dataclass(frozen=True)
class Stall:
    cause: StallCause
    text: str  # plain words, e.g. "REQ-2 has been blocked since Mon 02 Mar 2026"


_HEALTH_WORDS = {Health.BLOCKED: "blocked", Health.AT_RISK: "at risk"}


def stall_causes(
    dependency: Dependency, provider: Initiative | None, settings: WorkspaceSettings, now: datetime
) -> list[Stall]:
    """Why `dependency` is stalled at `now` (empty: it is not). Pure: reads the rows it is given.

    - the provider is blocked or at risk, without a break, for more than `stall_blocked_days`
      business days (from `troubled_since` to the same time of day that many business days
      later, in the workspace's zone and calendar);
    - the provider's owner missed `stall_missed_checkins` check-ins in a row;
    - the needed-by date has passed (the dependency is open, so not met);
    - the provider had no check-in for `stall_silent_periods` cadence periods, counted from its last
      check-in or, if none, from when it became active.
    Only an active provider initiative can stall by its own state; a team only by the date.
    """
    if dependency.state != DependencyState.OPEN:
        return []
    tz, calendar = zone(settings.timezone), settings.calendar()
    stalls: list[Stall] = []
    if provider is not None and provider.state == InitiativeState.ACTIVE:
        troubled_since = provider.troubled_since or provider.health_since
        if (
            provider.health in _HEALTH_WORDS
            and troubled_since is not None
            and now > calendar.add_working_days(troubled_since, settings.stall_blocked_days, tz)
        ):
            since = mrkdwn.date_text(troubled_since.astimezone(tz).date())
            now_word = _HEALTH_WORDS[provider.health]
            text = (
                f"{provider.key} has been {now_word} since {since}"
                if provider.health_since is None or provider.health_since <= troubled_since
                else f"{provider.key} has been blocked or at risk since {since} ({now_word} now)"
            )
            stalls.append(Stall(StallCause.BLOCKED, text))
        if provider.consecutive_misses >= settings.stall_missed_checkins:
            stalls.append(
                Stall(
                    StallCause.MISSED,
                    f"{provider.key}'s owner missed {provider.consecutive_misses} check-ins in a row",
                )
            )
    today = now.astimezone(tz).date()
    if dependency.needed_by is not None and dependency.needed_by < today:
        stalls.append(
            Stall(
                StallCause.OVERDUE,
                f"it was needed by {mrkdwn.date_text(dependency.needed_by)} and is not met",
            )
        )
    if provider is not None and provider.state == InitiativeState.ACTIVE:
        since_at = provider.last_checkin_at or provider.decided_at or provider.created_at
        if now > silent_until(provider, since_at, settings):
            since = mrkdwn.date_text(since_at.astimezone(tz).date())
            what = "no check-in" if provider.last_checkin_at else "no check-in at all"
            started = "" if provider.last_checkin_at else " (it became active then)"
            stalls.append(Stall(StallCause.SILENT, f"{what} on {provider.key} since {since}{started}"))
    return stalls


def describe_stalls(stalls: Iterable[Stall], limit: int = 200) -> str:
    """The stall reason as one sentence for `dependency.stall_reason` (plain text, ≤ `limit`)."""
    text = "; ".join(s.text for s in stalls)
    text = text[:1].upper() + text[1:]
    return mrkdwn.truncate(text, limit)


def silent_until(provider: Initiative, since: datetime, settings: WorkspaceSettings) -> datetime:
    """Until when a provider last heard from at `since` may stay silent before what waits on it
    stalls: `stall_silent_periods` periods of its cadence; for an every-working-day cadence,
    that many working days (a weekend is not silence)."""
    try:
        cadence = Cadence.parse(provider.cadence or settings.default_cadence)
    except ValueError:
        cadence = settings.cadence()
    if cadence.kind is CadenceKind.WORKDAYS:
        return settings.calendar().add_working_days(
            since, settings.stall_silent_periods, zone(settings.timezone)
        )
    return since + cadence.period() * settings.stall_silent_periods

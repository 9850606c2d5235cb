"""Answers to check-ins: the quick buttons in the DM and the Update modal.

History is append-only: every answer is a new `checkin_update` row; a correction is another one.
The initiative follows the latest answer (health, `health_since` when it changes, progress,
forecast, `last_checkin_at`, `consecutive_misses = 0`, done), and so does the KR's metric. A check-in
slot becomes ANSWERED once: a stale quick button changes nothing and says who answered it.
When health turns at risk or blocked, the requester and the owners of initiatives waiting on this
one are told.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import outbox
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS
from bot.checkins.service import (
    Metric,
    close_pending,
    latest_pending,
    metric_of,
    refresh_messages,
    zone_of_user,
)
from bot.checkins.views import BLOCKERS_LIMIT, MOVED_LIMIT, UpdateBlock
from bot.core import authz, history, mrkdwn
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid, InvalidFields, NotFound
from bot.core.text import clean
from bot.dependencies import flows as dependencies
from bot.escalation import flows as escalation
from bot.initiatives.service import find_initiative, initiative_subject
from storage.models import (
    OPEN_STATES,
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    DependencyState,
    Health,
    Initiative,
    InitiativeState,
    Okr,
)

TEAM_PREFIX = "team:"


class Choice(StrEnum):
    """A quick answer (and the Update modal's first question)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"
    DONE = "done"

    @property
    def health(self) -> Health | None:
        return None if self is Choice.DONE else Health(self.value)


@dataclass(frozen=True)
class Answered:
    """What an answer recorded, and who was told."""

    initiative_key: str
    title: str
    update_id: int
    checkin_id: int | None
    health: Health | None
    previous_health: Health | None
    done: bool
    correction: bool
    dependency_id: int | None
    told: tuple[str, ...]


def _first_answer(session: Session, checkin_id: int) -> CheckinUpdate | None:
    return session.scalar(
        sa.select(CheckinUpdate)
        .where(CheckinUpdate.checkin_id == checkin_id)
        .order_by(CheckinUpdate.id)
        .limit(1)
    )


def _stale(session: Session, checkin: Checkin, initiative: Initiative, tz: ZoneInfo) -> str:
    """Why a quick answer on this check-in changes nothing, and what to do instead."""
    slot = mrkdwn.date_text(checkin.slot_at.astimezone(tz))
    key = mrkdwn.escape(initiative.key)
    if checkin.status == CheckinStatus.ANSWERED:
        first = _first_answer(session, checkin.id)
        by = (
            f" by {mrkdwn.user(first.author_id)} on {mrkdwn.date_text(first.created_at.astimezone(tz))}"
            if first
            else ""
        )
        return (
            f"{key}'s check-in of {slot} was already answered{by}. Nothing was changed; "
            "use *Update…* to add a correction."
        )
    if checkin.status == CheckinStatus.MISSED:
        return (
            f"{key}'s check-in of {slot} was recorded as missed when the next one was asked. Nothing was "
            "changed; answer the newer check-in, or use *Update…*."
        )
    what = "snoozed" if checkin.status == CheckinStatus.SNOOZED else "excused"
    note = f" ({mrkdwn.escape(checkin.note)})" if checkin.note else ""
    return (
        f"{key}'s check-in of {slot} was {what}{note}. Nothing was changed; use *Update…* to post an update."
    )


def _require_active(initiative: Initiative) -> None:
    if initiative.state != InitiativeState.ACTIVE:
        raise Conflict(
            f"{mrkdwn.escape(initiative.key)} is {initiative.state.value}: check-ins on it are closed. "
            "Nothing was changed."
        )


def _locked(session: Session, initiative_id: int) -> Initiative:
    return session.scalars(
        sa.select(Initiative)
        .where(Initiative.id == initiative_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def quick_answer(
    session: Session,
    *,
    team_id: str,
    actor_id: str,
    checkin_id: int,
    choice: Choice,
    settings: WorkspaceSettings,
    now: datetime,
) -> Answered:
    """Answer one check-in with a quick button. Raises NotFound, NotAllowed (only the owner),
    Conflict (the slot is already answered, missed, snoozed or excused; the initiative is closed)."""
    checkin = session.get(Checkin, checkin_id)
    if checkin is None or checkin.team_id != team_id:
        raise NotFound("That check-in no longer exists.")
    initiative = _locked(session, checkin.initiative_id)
    authz.require(Action.UPDATE, actor_id, settings, initiative_subject(session, initiative))
    _require_active(initiative)
    session.refresh(checkin)  # read after the initiative's lock: a concurrent answer is seen
    if checkin.status != CheckinStatus.PENDING:
        raise Conflict(
            _stale(session, checkin, initiative, zone_of_user(session, team_id, actor_id, settings))
        )
    return _record(
        session,
        initiative=initiative,
        checkin=checkin,
        actor_id=actor_id,
        health=choice.health,
        done=choice is Choice.DONE,
        settings=settings,
        now=now,
        strict=True,
    )


# -- the Update modal ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateForm:
    """What the Update modal shows."""

    initiative_key: str
    title: str
    okr_key: str
    okr_title: str
    health: Health | None
    health_since: datetime | None
    progress_pct: int | None
    next_milestone: date | None
    metric: Metric | None
    checkin_id: int | None
    slot_at: datetime | None
    answered_by: str | None  # set when this adds a correction to an answered slot
    answered_at: datetime | None
    tz: ZoneInfo


def _checkin_for(session: Session, initiative: Initiative, checkin_id: int | None) -> Checkin | None:
    """The check-in an update is about: the one named, if it is this initiative's and still open
    or answered (then the update is a correction); else the one waiting for an answer, if any. An
    Update pressed in an old DM whose slot was missed, snoozed or excused answers this week's."""
    if checkin_id is not None:
        named = session.get(Checkin, checkin_id)
        if (
            named is not None
            and named.initiative_id == initiative.id
            and named.status in (CheckinStatus.PENDING, CheckinStatus.ANSWERED)
        ):
            return named
    return latest_pending(session, initiative)


def open_update(
    session: Session,
    *,
    team_id: str,
    actor_id: str,
    initiative_key: str,
    checkin_id: int | None,
    settings: WorkspaceSettings,
) -> UpdateForm:
    """What the Update modal needs. Raises NotFound, NotAllowed (only the owner), Conflict (closed)."""
    initiative = find_initiative(session, team_id, initiative_key)
    authz.require(Action.UPDATE, actor_id, settings, initiative_subject(session, initiative))
    _require_active(initiative)
    checkin = _checkin_for(session, initiative, checkin_id)
    first = (
        _first_answer(session, checkin.id)
        if checkin is not None and checkin.status == CheckinStatus.ANSWERED
        else None
    )
    okr = session.get_one(Okr, initiative.okr_id)
    return UpdateForm(
        initiative_key=initiative.key,
        title=initiative.title,
        okr_key=okr.key,
        okr_title=okr.title,
        health=initiative.health,
        health_since=initiative.health_since,
        progress_pct=initiative.progress_pct,
        next_milestone=initiative.forecast_date,
        metric=metric_of(okr),
        checkin_id=checkin.id if checkin is not None else None,
        slot_at=checkin.slot_at if checkin is not None else None,
        answered_by=first.author_id if first else None,
        answered_at=first.created_at if first else None,
        tz=zone_of_user(session, team_id, actor_id, settings),
    )


@dataclass(frozen=True)
class UpdateInput:
    """The Update modal's values, as typed (validated by `submit_update`)."""

    choice: str | None = None
    progress: str | None = None
    metric: str | None = None
    moved: str = ""
    blockers: str = ""
    blocked_on_id: str | None = None
    waiting_on: str | None = None  # "REQ-17" or "team:Platform"
    needed_by: str | None = None  # YYYY-MM-DD
    next_milestone: str | None = None  # YYYY-MM-DD


def _number(text: str | None) -> float | None:
    if text is None or not str(text).strip():
        return None
    value = float(str(text).strip())
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _day(text: str | None) -> date | None:
    if text is None or not str(text).strip():
        return None
    return date.fromisoformat(str(text).strip())


# The modal's input block where each of dependencies.add's fields belongs.
_DEPENDENCY_FIELDS = {
    "dependency_what": UpdateBlock.BLOCKERS,
    "dependency_needed_by": UpdateBlock.NEEDED_BY,
}


def submit_update(
    session: Session,
    *,
    team_id: str,
    actor_id: str,
    initiative_key: str,
    checkin_id: int | None,
    values: UpdateInput,
    settings: WorkspaceSettings,
    now: datetime,
) -> Answered:
    """Record an Update: always a new `checkin_update` (a correction when its slot is answered
    already); answers the named or waiting check-in; moves the KR's metric; records a dependency
    when it names another initiative or a team lead (in the same transaction).

    Raises NotFound, NotAllowed, Conflict, or InvalidFields/Invalid keyed by the modal's block ids."""
    initiative = find_initiative(session, team_id, initiative_key, lock=True)
    authz.require(Action.UPDATE, actor_id, settings, initiative_subject(session, initiative))
    _require_active(initiative)
    okr = session.get_one(Okr, initiative.okr_id)
    today = now.astimezone(zone_of_user(session, team_id, actor_id, settings)).date()
    errors: dict[str, str] = {}

    choice: Choice | None = None
    try:
        choice = Choice(values.choice or "")
    except ValueError:
        errors[UpdateBlock.HEALTH] = "Pick how it is going."
    progress: int | None = None
    try:
        number = _number(values.progress)
        if number is not None:
            if number != int(number) or not 0 <= number <= 100:
                raise ValueError(number)
            progress = int(number)
    except ValueError:
        errors[UpdateBlock.PROGRESS] = "A whole number from 0 to 100."
    metric_value: float | None = None
    try:
        metric_value = _number(values.metric)
    except ValueError:
        errors[UpdateBlock.METRIC] = "A number, like 42 or 3.5."
    if metric_value is not None and metric_of(okr) is None:
        errors[UpdateBlock.METRIC] = f"{okr.key} has no metric to update."
    next_milestone: date | None = None
    try:
        next_milestone = _day(values.next_milestone)
        if next_milestone is not None and next_milestone < today:
            errors[UpdateBlock.NEXT_MILESTONE] = "The next milestone is in the past; pick today or later."
    except ValueError:
        errors[UpdateBlock.NEXT_MILESTONE] = "Pick a date."
    needed_by: date | None = None
    try:
        needed_by = _day(values.needed_by)
    except ValueError:
        errors[UpdateBlock.NEEDED_BY] = "Pick a date."
    moved = clean(values.moved)
    blockers = clean(values.blockers)
    if len(moved) > MOVED_LIMIT:
        errors[UpdateBlock.MOVED] = f"Keep it under {MOVED_LIMIT} characters."
    if len(blockers) > BLOCKERS_LIMIT:
        errors[UpdateBlock.BLOCKERS] = f"Keep it under {BLOCKERS_LIMIT} characters."
    blocked_on_id = values.blocked_on_id or None

    provider: Initiative | None = None
    provider_team: str | None = None
    contact: str | None = None
    provider_field = UpdateBlock.WAITING_ON
    waiting = (values.waiting_on or "").strip()
    if waiting.startswith(TEAM_PREFIX):
        team = waiting[len(TEAM_PREFIX) :]
        if team not in settings.teams:
            errors[UpdateBlock.WAITING_ON] = "That team is no longer configured; pick another."
        else:
            provider_team, contact = team, blocked_on_id or settings.teams[team]
    elif waiting:
        provider = session.scalar(
            sa.select(Initiative).where(Initiative.team_id == team_id, Initiative.key == waiting.upper())
        )
        if provider is None:
            errors[UpdateBlock.WAITING_ON] = "That initiative no longer exists; pick another."
    elif blocked_on_id:
        led = sorted(name for name, lead in settings.teams.items() if lead == blocked_on_id)
        if led:
            provider_team, contact, provider_field = led[0], blocked_on_id, UpdateBlock.BLOCKED_ON
    if needed_by is not None and provider is None and provider_team is None:
        errors.setdefault(
            UpdateBlock.NEEDED_BY, "Say which initiative or team you wait on (above) for a needed-by date."
        )
    if choice is Choice.BLOCKED and not (blockers or blocked_on_id or waiting):
        errors[UpdateBlock.BLOCKERS] = "Say what blocks it (or on whom, below)."
    if errors:
        raise InvalidFields(errors)
    assert choice is not None

    dependency_id: int | None = None
    if provider is not None or provider_team is not None:
        try:
            dependency = dependencies.add(
                session,
                waiter=initiative,
                actor_id=actor_id,
                settings=settings,
                now=now,
                what=blockers,
                needed_by=needed_by,
                provider=provider,
                provider_team=provider_team,
                provider_contact_id=contact,
                today=today,
            )
        except Invalid as exc:
            field = _DEPENDENCY_FIELDS.get(exc.field or "", provider_field)
            raise Invalid(exc.message, field=field) from None
        dependency_id = dependency.id

    checkin = _checkin_for(session, initiative, checkin_id)
    answered = _record(
        session,
        initiative=initiative,
        checkin=checkin,
        actor_id=actor_id,
        health=choice.health,
        done=choice is Choice.DONE,
        progress_pct=progress,
        metric_value=metric_value,
        moved=moved,
        blockers=blockers,
        blocked_on_id=blocked_on_id,
        next_milestone=next_milestone,
        settings=settings,
        now=now,
        strict=False,
    )
    if dependency_id is not None:
        answered = replace(answered, dependency_id=dependency_id)
    return answered


# -- recording -------------------------------------------------------------------------------------


def _record(
    session: Session,
    *,
    initiative: Initiative,
    checkin: Checkin | None,
    actor_id: str,
    health: Health | None,
    done: bool,
    settings: WorkspaceSettings,
    now: datetime,
    strict: bool,
    progress_pct: int | None = None,
    metric_value: float | None = None,
    moved: str = "",
    blockers: str = "",
    blocked_on_id: str | None = None,
    next_milestone: date | None = None,
) -> Answered:
    correction = False
    if checkin is not None and not close_pending(session, checkin.id, CheckinStatus.ANSWERED, now):
        if strict:  # someone answered in between (a double click): nothing changes
            session.refresh(checkin)
            tz = zone_of_user(session, initiative.team_id, actor_id, settings)
            raise Conflict(_stale(session, checkin, initiative, tz))
        status = session.scalar(sa.select(Checkin.status).where(Checkin.id == checkin.id))
        correction = status == CheckinStatus.ANSWERED
    if done:
        progress_pct = 100
    update = CheckinUpdate(
        team_id=initiative.team_id,
        initiative_id=initiative.id,
        checkin_id=checkin.id if checkin is not None else None,
        author_id=actor_id,
        health=health,
        done=done,
        progress_pct=progress_pct,
        metric_value=metric_value,
        moved=moved,
        blockers=blockers,
        blocked_on_id=blocked_on_id,
        next_milestone=next_milestone,
        created_at=now,
    )
    session.add(update)
    session.flush()

    previous = initiative.health
    changed = health is not None and health != previous
    if changed:
        troubled = (Health.AT_RISK, Health.BLOCKED)
        if health not in troubled:
            initiative.troubled_since = None
        elif previous in troubled:  # blocked <-> at risk: still the same trouble
            initiative.troubled_since = initiative.troubled_since or initiative.health_since
        else:
            initiative.troubled_since = now
        initiative.health = health
        initiative.health_since = now
        history.record_initiative(
            session,
            initiative,
            "health.changed",
            at=now,
            actor_id=actor_id,
            previous=previous,
            health=health,
        )
    initiative.last_checkin_at = now
    if progress_pct is not None:
        initiative.progress_pct = progress_pct
    if next_milestone is not None:
        initiative.forecast_date = next_milestone
    initiative.consecutive_misses = 0
    initiative.updated_at = now
    if done:
        initiative.state = InitiativeState.DONE
        initiative.done_at = now
        initiative.next_checkin_at = None
        history.record_initiative(
            session,
            initiative,
            "initiative.done",
            at=now,
            actor_id=actor_id,
        )
        dependencies.close_for_closed(session, initiative, actor_id, settings, now)
    if metric_value is not None:
        okr = session.get_one(Okr, initiative.okr_id)
        before = okr.metric_current
        okr.metric_current = metric_value
        okr.updated_at = now
        history.record(
            session,
            team_id=initiative.team_id,
            subject=f"okr:{okr.id}",
            kind="okr.metric_updated",
            at=now,
            actor_id=actor_id,
            initiative_id=initiative.id,
            previous=before,
            value=metric_value,
        )
    history.record(
        session,
        team_id=initiative.team_id,
        subject=f"checkin:{checkin.id}" if checkin is not None else f"initiative:{initiative.id}",
        kind="checkin.answered",
        at=now,
        actor_id=actor_id,
        initiative_id=initiative.id,
        update_id=update.id,
        slot=checkin.slot_at if checkin is not None else None,
        health=health,
        done=done,
        correction=correction,
    )
    told: tuple[str, ...] = ()
    if changed and health in (Health.AT_RISK, Health.BLOCKED):
        told = _tell_about_health(session, initiative, update, previous, settings, now)
    # whatever waits on this initiative may have stopped (or started) stalling with this answer:
    # escalations resolve now, not at the next tick
    escalation.reevaluate_provider(session, initiative, settings, now)
    if checkin is not None:
        refresh_messages(
            session,
            team_id=initiative.team_id,
            owner_id=checkin.owner_id,
            slot_at=checkin.slot_at,
            settings=settings,
            now=now,
            cause=f"answer:{update.id}",
        )
    return Answered(
        initiative_key=initiative.key,
        title=initiative.title,
        update_id=update.id,
        checkin_id=checkin.id if checkin is not None else None,
        health=health,
        previous_health=previous,
        done=done,
        correction=correction,
        dependency_id=None,
        told=told,
    )


def _tell_about_health(
    session: Session,
    initiative: Initiative,
    update: CheckinUpdate,
    previous: Health | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> tuple[str, ...]:
    """Tell the requester and the owners of initiatives waiting on this one that it turned at risk
    or blocked (once per update and person, through the outbox)."""
    actor_id = update.author_id
    reasons: dict[str, str] = {}
    if initiative.requester_id and initiative.requester_id != actor_id:
        reasons[initiative.requester_id] = "You asked for it."
    waiting = session.execute(
        sa.select(Dependency, Initiative)
        .join(Initiative, Initiative.id == Dependency.waiter_id)
        .where(
            Dependency.team_id == initiative.team_id,
            Dependency.provider_id == initiative.id,
            Dependency.state == DependencyState.OPEN,
        )
        .order_by(Dependency.id)
    ).all()
    for dependency, waiter in waiting:
        person = waiter.owner_id or waiter.requester_id
        if not person or person == actor_id:
            continue
        what = f" for {mrkdwn.escape(dependency.what)}" if dependency.what else ""
        by = f" by {mrkdwn.date_text(dependency.needed_by)}" if dependency.needed_by else ""
        reasons[person] = (
            f"Your *{mrkdwn.escape(waiter.key)}* {mrkdwn.escape(waiter.title)} waits on it{what}{by}."
        )
    health = update.health
    was = f" (was {HEALTH_WORDS[previous]})" if previous else ""
    text = (
        f"{HEALTH_ICON[health]} *{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)} is now "
        f"*{HEALTH_WORDS[health]}*{was}, says {mrkdwn.user(actor_id)}."
    )
    if update.blockers:
        text += f"\nWhat blocks it: {mrkdwn.escape(update.blockers)}"
    if update.blocked_on_id:
        text += f"\nBlocked on: {mrkdwn.user(update.blocked_on_id)}"
    if update.next_milestone:
        text += f"\nNext milestone: {mrkdwn.date_text(update.next_milestone)}"
    for user_id, why in sorted(reasons.items()):
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"checkin:{update.id}:health:{user_id}",
            channel=user_id,
            text=f"{text}\n_{why}_",
            now=now,
        )
    return tuple(sorted(reasons))


# -- the "waiting on" select -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderOptions:
    initiatives: list[tuple[str, str]]  # (value, label)
    teams: list[tuple[str, str]]


def provider_options(
    session: Session,
    *,
    team_id: str,
    query: str,
    exclude_key: str | None,
    settings: WorkspaceSettings,
    limit: int = 20,
) -> ProviderOptions:
    """Open initiatives (by key or title) and configured teams matching what was typed."""
    typed = " ".join((query or "").split()).lower()[:100]
    statement = sa.select(Initiative.key, Initiative.title).where(
        Initiative.team_id == team_id, Initiative.state.in_(OPEN_STATES)
    )
    if exclude_key:
        statement = statement.where(Initiative.key != exclude_key.upper())
    if typed:
        statement = statement.where(
            sa.or_(
                sa.func.lower(Initiative.key).contains(typed, autoescape=True),
                sa.func.lower(Initiative.title).contains(typed, autoescape=True),
            )
        )
    rows = session.execute(statement.order_by(Initiative.number.desc()).limit(limit)).all()
    teams = [
        (f"{TEAM_PREFIX}{name}", mrkdwn.truncate(f"{name} team", 75))
        for name in sorted(settings.teams)
        if typed in name.lower() and len(name) <= 140
    ]
    return ProviderOptions(
        initiatives=[(r.key, mrkdwn.truncate(f"{r.key} {r.title}", 75)) for r in rows],
        teams=teams,
    )

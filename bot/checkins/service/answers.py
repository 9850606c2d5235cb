"""Answers to check-ins, the rules: which check-in an answer is about, why a stale button changes
nothing, what the Update modal shows, checking what it was given, and the "waiting on" search.

History is append-only: every answer is a new `checkin_update` row; a correction is another one.
A check-in slot becomes ANSWERED once: a stale quick button changes nothing and says who answered it.
"""

from __future__ import annotations

import math
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.checkins.models import (
    BLOCKERS_LIMIT,
    MOVED_LIMIT,
    TEAM_PREFIX,
    CheckedUpdate,
    Choice,
    ProviderOptions,
    UpdateBlock,
    UpdateForm,
    UpdateInput,
)
from bot.checkins.service.schedule import zone_of_user
from bot.checkins.service.slots import latest_pending, metric_of
from bot.core import authz, mrkdwn
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields
from bot.core.text import clean
from bot.initiatives.service import find_initiative, has_key, initiative_subject, search_initiatives
from bot.trackers.models import Move
from bot.trackers.service import moves as tracker_moves
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Initiative,
    InitiativeState,
    Okr,
)


def first_answer(session: Session, checkin_id: int) -> CheckinUpdate | None:
    """The first answer recorded for a check-in, if any."""
    return session.scalar(
        sa.select(CheckinUpdate)
        .where(CheckinUpdate.checkin_id == checkin_id)
        .order_by(CheckinUpdate.id)
        .limit(1)
    )


def stale(session: Session, checkin: Checkin, initiative: Initiative, tz: ZoneInfo) -> str:
    """Why a quick answer on this check-in changes nothing, and what to do instead."""
    slot = mrkdwn.date_text(checkin.slot_at.astimezone(tz))
    key = mrkdwn.escape(initiative.key)
    if checkin.status == CheckinStatus.ANSWERED:
        first = first_answer(session, checkin.id)
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


def require_active(initiative: Initiative) -> None:
    """Raises Conflict if check-ins on the initiative are closed."""
    if initiative.state != InitiativeState.ACTIVE:
        raise Conflict(
            f"{mrkdwn.escape(initiative.key)} is {initiative.state.value}: check-ins on it are closed. "
            "Nothing was changed."
        )


def locked_initiative(session: Session, initiative_id: int) -> Initiative:
    """The initiative, locked for this transaction and read afresh."""
    return session.scalars(
        sa.select(Initiative)
        .where(Initiative.id == initiative_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


# -- the Update modal ------------------------------------------------------------------------------


def checkin_for(session: Session, initiative: Initiative, checkin_id: int | None) -> Checkin | None:
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
    require_active(initiative)
    checkin = checkin_for(session, initiative, checkin_id)
    first = (
        first_answer(session, checkin.id)
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
        moved=tuple(moved_before(session, initiative, checkin)) if first is None else (),
    )


def moved_before(session: Session, initiative: Initiative, checkin: Checkin | None) -> list[Move]:
    """What moved in the linked work up to the check-in being answered, since the one before it:
    what the DM shows, the Update form starts with, and a quick answer records as confirmed."""
    if checkin is None:
        return []
    previous = session.scalar(
        sa.select(sa.func.max(Checkin.slot_at)).where(
            Checkin.initiative_id == initiative.id, Checkin.slot_at < checkin.slot_at
        )
    )
    window = (initiative.id, previous, checkin.slot_at)
    return tracker_moves.moved(session, initiative.team_id, {checkin.id: window}).get(checkin.id, [])


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


def check_update(
    session: Session,
    *,
    team_id: str,
    okr: Okr,
    values: UpdateInput,
    settings: WorkspaceSettings,
    today: date,
) -> CheckedUpdate:
    """The Update's values, checked: raises InvalidFields keyed by the modal's block ids."""
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
        provider = session.scalar(sa.select(Initiative).where(has_key(team_id, waiting)))
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
    return CheckedUpdate(
        choice=choice,
        progress=progress,
        metric_value=metric_value,
        next_milestone=next_milestone,
        needed_by=needed_by,
        moved=moved,
        blockers=blockers,
        blocked_on_id=blocked_on_id,
        provider=provider,
        provider_team=provider_team,
        contact=contact,
        provider_field=provider_field,
    )


# -- the "waiting on" select -------------------------------------------------------------------------


def provider_options(
    session: Session,
    *,
    team_id: str,
    query: str,
    exclude_key: str | None,
    settings: WorkspaceSettings,
    limit: int = 20,
) -> ProviderOptions:
    """Open initiatives (by key or title) and configured teams matching what was typed: every word
    typed, in any order, as the initiatives' search reads it ("platform team" finds Platform)."""
    words = (query or "").lower()[:100].split()
    found = search_initiatives(session, team_id, query, exclude_key=exclude_key, limit=limit)
    teams = [
        (f"{TEAM_PREFIX}{name}", mrkdwn.truncate(f"{name} team", 75))
        for name in sorted(settings.teams)
        if all(word in f"{name} team".lower() for word in words) and len(name) <= 140
    ]
    return ProviderOptions(
        initiatives=[(c.key, mrkdwn.truncate(f"{c.key} {c.title}", 75)) for c in found],
        teams=teams,
    )

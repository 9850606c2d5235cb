"""Answers to check-ins: the quick buttons in the DM and the Update modal, recorded and told.

History is append-only: every answer is a new `checkin_update` row; a correction is another one.
The initiative follows the latest answer (health, `health_since` when it changes, progress,
forecast, `last_checkin_at`, `consecutive_misses = 0`, done), and so does the KR's metric. A check-in
slot becomes ANSWERED once: a stale quick button changes nothing and says who answered it.
When health turns at risk or blocked, the requester and the owners of initiatives waiting on this
one are told: one DM per person and day, the day's later changes added to it in place.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import outbox
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS
from bot.checkins.flows.lifecycle import close_initiative
from bot.checkins.flows.messages import refresh_messages
from bot.checkins.models import DEPENDENCY_FIELDS, Answered, Choice, UpdateInput, health_notice_key
from bot.checkins.service.answers import (
    check_update,
    checkin_for,
    locked_initiative,
    moved_before,
    require_active,
    stale,
)
from bot.checkins.service.schedule import zone_of_user
from bot.checkins.service.slots import close_pending
from bot.core import authz, history, mrkdwn
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid, NotFound
from bot.dependencies import flows as dependencies
from bot.escalation import flows as escalation
from bot.initiatives.service import find_initiative, initiative_subject
from bot.trackers import flows as tracker_flows
from bot.trackers import views as tracker_views
from storage.models import (
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
    Conflict (the slot is already answered, missed, snoozed or excused; the initiative is closed).

    What moved in the linked work since the check-in before, as the DM showed it, is recorded with
    the answer: one click confirms it (the Update form corrects it)."""
    checkin = session.get(Checkin, checkin_id)
    if checkin is None or checkin.team_id != team_id:
        raise NotFound("That check-in no longer exists.")
    initiative = locked_initiative(session, checkin.initiative_id)
    authz.require(Action.UPDATE, actor_id, settings, initiative_subject(session, initiative))
    require_active(initiative)
    session.refresh(checkin)  # read after the initiative's lock: a concurrent answer is seen
    if checkin.status != CheckinStatus.PENDING:
        raise Conflict(
            stale(session, checkin, initiative, zone_of_user(session, team_id, actor_id, settings))
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
        moved=tracker_views.moved_text(moved_before(session, initiative, checkin)),
    )


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
    require_active(initiative)
    okr = session.get_one(Okr, initiative.okr_id)
    today = now.astimezone(zone_of_user(session, team_id, actor_id, settings)).date()
    checked = check_update(session, team_id=team_id, okr=okr, values=values, settings=settings, today=today)

    dependency_id: int | None = None
    if checked.provider is not None or checked.provider_team is not None:
        try:
            dependency = dependencies.add(
                session,
                waiter=initiative,
                actor_id=actor_id,
                settings=settings,
                now=now,
                what=checked.blockers,
                needed_by=checked.needed_by,
                provider=checked.provider,
                provider_team=checked.provider_team,
                provider_contact_id=checked.contact,
                today=today,
            )
        except Invalid as exc:
            field = DEPENDENCY_FIELDS.get(exc.field or "", checked.provider_field)
            raise Invalid(exc.message, field=field) from None
        dependency_id = dependency.id

    checkin = checkin_for(session, initiative, checkin_id)
    answered = _record(
        session,
        initiative=initiative,
        checkin=checkin,
        actor_id=actor_id,
        health=checked.choice.health,
        done=checked.choice is Choice.DONE,
        progress_pct=checked.progress,
        metric_value=checked.metric_value,
        moved=checked.moved,
        blockers=checked.blockers,
        blocked_on_id=checked.blocked_on_id,
        next_milestone=checked.next_milestone,
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
            raise Conflict(stale(session, checkin, initiative, tz))
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
        text = tracker_views.backlink_health(
            initiative.key,
            initiative.title,
            HEALTH_WORDS[health],
            HEALTH_WORDS[previous] if previous else None,
        )
        tracker_flows.tell_linked_work(session, initiative, f"health:{update.id}", text, settings, now)
    initiative.last_checkin_at = now
    if progress_pct is not None:
        initiative.progress_pct = progress_pct
    if next_milestone is not None:
        initiative.forecast_date = next_milestone
    initiative.consecutive_misses = 0
    initiative.updated_at = now
    if done:
        close_initiative(
            session, initiative, InitiativeState.DONE, actor_id=actor_id, settings=settings, now=now
        )
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
    or blocked (once per update and person, through the outbox), folded into one DM per person
    and day in their zone: the first change of the day is a new DM, later ones edit it."""
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
        # one DM a person a day: the day's later changes join it as an edit, which does not notify
        outbox.enqueue_folded(
            session,
            team_id=initiative.team_id,
            key=health_notice_key(
                user_id, now.astimezone(zone_of_user(session, initiative.team_id, user_id, settings)).date()
            ),
            part_key=f"update:{update.id}",
            channel=user_id,
            text=f"{text}\n_{why}_",
            now=now,
        )
    return tuple(sorted(reasons))

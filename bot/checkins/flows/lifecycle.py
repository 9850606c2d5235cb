"""An initiative's life after acceptance, as far as check-ins go: closing it (the one close, for
done, cancelled and declined alike), cancelling it, handing it to a new owner, changing how often
its owner is asked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import outbox
from bot.checkins.flows.messages import excuse_pending
from bot.checkins.models import CadenceChanged, Cancelled, Closed, Reassigned
from bot.checkins.service.schedule import cadence_of, is_user_id, schedule_next, zone_of_user
from bot.core import authz, history, mrkdwn, people
from bot.core.authz import Action
from bot.core.calendar import Cadence
from bot.core.config import WorkspaceSettings
from bot.core.errors import Invalid
from bot.core.text import one_line
from bot.dependencies import flows as dependencies
from bot.escalation import flows as escalation
from bot.initiatives.service import initiative_subject
from storage.models import OPEN_STATES, Initiative, InitiativeState


def close_initiative(
    session: Session,
    initiative: Initiative,
    state: InitiativeState,
    *,
    actor_id: str | None,
    settings: WorkspaceSettings,
    now: datetime,
    reason: str | None = None,
    kind: str | None = None,
) -> Closed:
    """Close `initiative` as done, cancelled or declined (the caller authorised it and checked its
    state): nobody is asked about it any more (an open check-in is excused and its DM says so), the
    event is recorded (`kind`, by default `initiative.<state>`, with `reason` when given), and its
    open dependencies on either side close, their escalations resolving. Returns the event and how
    many dependencies closed. Raises ValueError for a state that is not a closed one."""
    if state in OPEN_STATES:
        raise ValueError(f"{state.value} does not close an initiative")
    initiative.state = state
    if state is InitiativeState.DONE:
        initiative.done_at = now
    initiative.next_checkin_at = None
    initiative.updated_at = now
    session.flush()
    excuse_pending(session, initiative, settings, now, note=state.value, cause=state.value)
    data: dict[str, Any] = {} if reason is None else {"reason": reason}
    event = history.record_initiative(
        session, initiative, kind or f"initiative.{state.value}", at=now, actor_id=actor_id, **data
    )
    session.flush()
    closed = dependencies.close_for_closed(session, initiative, actor_id, settings, now)
    return Closed(event, closed)


def cancel(
    session: Session,
    initiative: Initiative,
    reason: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Cancelled:
    """Cancel a request or an active initiative: no more check-ins (an open one is excused), its
    open dependencies both ways are cancelled and their escalations resolve, the requester and the
    owner are told. Append-only: the reason is in the history.

    Raises NotAllowed (the owner, a triage lead or the OKR's owner only) or Invalid."""
    authz.require(Action.CLOSE, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state not in OPEN_STATES:
        raise Invalid(f"{initiative.key} is already {initiative.state.value}.")
    reason = one_line(reason)
    if not reason:
        raise Invalid(f"Say why: `/checkin cancel {initiative.key} the customer dropped it`.")
    closed = close_initiative(
        session,
        initiative,
        InitiativeState.CANCELLED,
        actor_id=actor_id,
        settings=settings,
        now=now,
        reason=reason,
    )
    label = f"*{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)}"
    for person in {initiative.requester_id, initiative.owner_id} - {None, actor_id}:
        assert person is not None
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"initiative:{initiative.id}:cancelled:{closed.event.id}:{person}",
            channel=person,
            text=(
                f":heavy_multiplication_x: {mrkdwn.user(actor_id)} cancelled {label}: {mrkdwn.escape(reason)}"
            ),
            now=now,
        )
    return Cancelled(initiative.key, initiative.title, closed.dependencies)


def reassign(
    session: Session,
    initiative: Initiative,
    new_owner_id: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Reassigned:
    """Hand an active initiative to `new_owner_id`: the old owner's open check-in is excused (their
    DM says so), check-ins are rescheduled in the new owner's zone, and both are told.

    Raises NotAllowed (owner, triage lead or OKR owner only) or Invalid."""
    authz.require(Action.REASSIGN, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state != InitiativeState.ACTIVE:
        raise Invalid(f"{initiative.key} is {initiative.state.value}; only active initiatives change owner.")
    if not is_user_id(new_owner_id):
        raise Invalid("Name the new owner as a Slack user, e.g. `@dana`.")
    if new_owner_id == initiative.owner_id:
        raise Invalid(f"{mrkdwn.user(new_owner_id)} already owns {initiative.key}.")
    old_owner_id = initiative.owner_id
    people.ensure(session, initiative.team_id, new_owner_id, now)
    initiative.owner_id = new_owner_id
    initiative.consecutive_misses = 0  # the old owner's misses are not the new owner's
    initiative.updated_at = now
    session.flush()
    excuse_pending(
        session,
        initiative,
        settings,
        now,
        note=f"handed over to {new_owner_id}",
        cause="handed",
        except_owner=new_owner_id,
    )
    next_at = schedule_next(session, initiative, settings, now)
    event = history.record_initiative(
        session,
        initiative,
        "initiative.reassigned",
        at=now,
        actor_id=actor_id,
        previous=old_owner_id,
        owner=new_owner_id,
    )
    session.flush()
    tz = zone_of_user(session, initiative.team_id, new_owner_id, settings)
    label = f"*{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)}"
    by = "" if actor_id == new_owner_id else f" (handed over by {mrkdwn.user(actor_id)})"
    outbox.enqueue(
        session,
        team_id=initiative.team_id,
        key=f"checkin:{initiative.id}:owner:{event.id}:{new_owner_id}",
        channel=new_owner_id,
        text=(
            f":handshake: You now own {label}{by}. I'll ask how it is going "
            f"{cadence_of(initiative, settings).describe()} your time; the first check-in is on "
            f"{mrkdwn.date_text(next_at.astimezone(tz))}."
        ),
        now=now,
    )
    if old_owner_id and old_owner_id != actor_id:
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"checkin:{initiative.id}:owner:{event.id}:{old_owner_id}",
            channel=old_owner_id,
            text=(
                f":arrow_right: {mrkdwn.user(actor_id)} handed {label} over to "
                f"{mrkdwn.user(new_owner_id)}. You won't be asked about it any more."
            ),
            now=now,
        )
    # a stall on missed check-ins was the old owner's: what waits on this may be unstalled now
    escalation.reevaluate_provider(session, initiative, settings, now)
    return Reassigned(initiative.key, initiative.title, old_owner_id, new_owner_id, next_at, tz)


def change_cadence(
    session: Session,
    initiative: Initiative,
    cadence: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> CadenceChanged:
    """Set how often the owner is asked (`weekly:tue@10:00`, `workdays@09:00`, ... or `default` for
    the workspace's) and reschedule. Raises NotAllowed, or Invalid with field "cadence"."""
    authz.require(Action.REASSIGN, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state != InitiativeState.ACTIVE or initiative.owner_id is None:
        raise Invalid(
            f"{initiative.key} is {initiative.state.value}; only active initiatives have check-ins."
        )
    text = (cadence or "").strip()
    is_default = text.lower() == "default"
    try:
        parsed = settings.cadence() if is_default else Cadence.parse(text)
    except ValueError as exc:
        raise Invalid(mrkdwn.escape(str(exc)), field="cadence") from None
    previous = initiative.cadence
    initiative.cadence = None if is_default else str(parsed)
    initiative.updated_at = now
    next_at = schedule_next(session, initiative, settings, now)
    event = history.record_initiative(
        session,
        initiative,
        "initiative.cadence_changed",
        at=now,
        actor_id=actor_id,
        previous=previous,
        cadence=initiative.cadence,
    )
    session.flush()
    tz = zone_of_user(session, initiative.team_id, initiative.owner_id, settings)
    if actor_id != initiative.owner_id:
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=f"checkin:{initiative.id}:cadence:{event.id}",
            channel=initiative.owner_id,
            text=(
                f":calendar: {mrkdwn.user(actor_id)} changed the check-ins of "
                f"*{mrkdwn.escape(initiative.key)}* {mrkdwn.escape(initiative.title)} to "
                f"{parsed.describe()} your time; the next is on {mrkdwn.date_text(next_at.astimezone(tz))}."
            ),
            now=now,
        )
    return CadenceChanged(initiative.key, initiative.title, parsed, is_default, next_at, tz)

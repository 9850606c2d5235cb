"""Intake's flows: each checks and stores through the service, renders through the views, and
enqueues what people are told.

- `submit`: a request from the intake modal; it waits on what it depends on, and the requester
  and the triage channel are told.
- `accept`, `decline`, `ask_for_info`: triage, by a triage lead or the OKR's owner only;
  `answer_for_info`: the requester's answer to the latest question.

Outbox keys: `request:<id>:triage` (the triage post; later edited in place by
`request:<id>:decision`), `request:<id>:confirm`, `request:<id>:accepted:<user>`,
`request:<id>:declined`, `request:<id>:ask:<nonce>`, `request:<id>:answer:<nonce>` (each with a
`:thread` reply under the triage post), and `notice:triage-unset:<admin>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot import outbox
from bot.checkins.flows import lifecycle
from bot.core import people
from bot.core.config import WorkspaceSettings
from bot.core.errors import Invalid, InvalidFields
from bot.dependencies import flows as dependencies
from bot.intake.models import Accepted, IntakeBlock, RequestCard, RequestForm, Submitted, triage_key
from bot.intake.service import submit as submitting
from bot.intake.service import triage
from bot.intake.views import messages
from bot.intake.views.triage import triage_post
from bot.trackers import flows as tracker_flows
from bot.trackers import views as tracker_views
from bot.trackers.models import Item
from storage.models import Initiative, InitiativeState

# -- submitting -----------------------------------------------------------------------------------


def submit(
    session: Session,
    *,
    team_id: str,
    requester_id: str,
    form: RequestForm,
    settings: WorkspaceSettings,
    now: datetime,
    work: Sequence[Item] = (),
    work_every: timedelta = timedelta(minutes=30),
) -> Submitted:
    """Record a request from the intake modal and tell the requester and the triage channel; link
    `work` (items `trackers.flows.read_links` read from the form), read again every `work_every`.

    Raises InvalidFields keyed by `IntakeBlock` (no OKR, unknown or archived OKR, a link not on an
    allowed OKR host, empty or over-long title, needed-by date in the past, ...). A second submit
    with the same `submission_key` returns the first request and sends nothing.
    """
    recorded = submitting.submit(
        session, team_id=team_id, requester_id=requester_id, form=form, settings=settings, now=now
    )
    initiative = recorded.initiative
    if initiative is None:
        return recorded.submitted
    assert recorded.today is not None
    for provider in recorded.providers:
        _depend(session, initiative, requester_id, settings, now, recorded.today, provider=provider)
    if recorded.depends_team:
        _depend(session, initiative, requester_id, settings, now, recorded.today, team=recorded.depends_team)
    tracker_flows.attach(session, initiative, work, requester_id, now, work_every)

    card = triage.request_card(session, initiative)
    outbox.enqueue(
        session,
        team_id=team_id,
        key=f"request:{initiative.id}:confirm",
        channel=requester_id,
        text=messages.confirmation(card, settings.triage_channel),
        now=now,
    )
    if settings.triage_channel:
        text, blocks = triage_post(card)
        outbox.enqueue(
            session,
            team_id=team_id,
            key=triage_key(initiative.id),
            channel=settings.triage_channel,
            text=text,
            blocks=blocks,
            now=now,
        )
    else:
        for admin in settings.admins:
            outbox.enqueue(
                session,
                team_id=team_id,
                key=f"notice:triage-unset:{admin}",
                channel=admin,
                text=messages.triage_unset_notice(card),
                now=now,
            )
    return recorded.submitted


def _depend(
    session: Session,
    initiative: Initiative,
    requester_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    today: date,
    *,
    provider: Initiative | None = None,
    team: str | None = None,
) -> None:
    try:
        dependencies.add(
            session,
            waiter=initiative,
            actor_id=requester_id,
            settings=settings,
            now=now,
            what="",
            needed_by=initiative.needed_by,
            provider=provider,
            provider_team=team,
            today=today,
        )
    except Invalid as exc:
        block = IntakeBlock.DEPENDS_ON_TEAM if team else IntakeBlock.DEPENDS_ON
        raise InvalidFields({block: exc.message}) from None


# -- triage ---------------------------------------------------------------------------------------


def accept(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    owner_id: str | None,
    cadence: str | None,
    due_date: date | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> Accepted:
    """Make a proposed request an active initiative with an owner and a first check-in.

    Raises NotFound, NotAllowed (triage leads and the OKR's owner only), Conflict (decided
    already), InvalidFields keyed by `AcceptBlock`. Tells the requester and the owner, and edits
    the triage post in place to show the decision and who made it.
    """
    result = triage.accept(
        session,
        team_id=team_id,
        initiative_id=initiative_id,
        actor_id=actor_id,
        owner_id=owner_id,
        cadence=cadence,
        due_date=due_date,
        settings=settings,
        now=now,
    )
    card = result.card
    owner = card.owner_id
    assert owner is not None
    if card.requester_id != owner:
        _tell(
            session,
            team_id,
            card.id,
            f"accepted:{card.requester_id}",
            card.requester_id,
            messages.accepted_for_requester(result),
            now,
        )
    _tell(session, team_id, card.id, f"accepted:{owner}", owner, messages.accepted_for_owner(result), now)
    _update_triage_post(session, team_id, card, now)
    text = tracker_views.backlink_accepted(
        card.key, card.title, card.okr_key, people.name_of(session, team_id, owner)
    )
    tracker_flows.tell_linked_work(
        session, session.get_one(Initiative, card.id), "accepted", text, settings, now
    )
    return result


def decline(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    reason: str | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> RequestCard:
    """Decline a proposed request with a reason the requester is told. Raises NotFound, NotAllowed,
    Conflict, Invalid (no reason, on `DeclineBlock.REASON`)."""
    initiative, reason = triage.decline(
        session,
        team_id=team_id,
        initiative_id=initiative_id,
        actor_id=actor_id,
        reason=reason,
        settings=settings,
        now=now,
    )
    lifecycle.close_initiative(
        session,
        initiative,
        InitiativeState.DECLINED,
        actor_id=actor_id,
        settings=settings,
        now=now,
        reason=reason,
        kind="request.declined",
    )
    card = triage.request_card(session, initiative)
    _tell(
        session, team_id, card.id, "declined", card.requester_id, messages.declined_for_requester(card), now
    )
    _update_triage_post(session, team_id, card, now)
    return card


def ask_for_info(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    question: str | None,
    nonce: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> RequestCard:
    """DM the requester a question from triage (and note it under the triage post); the request
    stays proposed. `nonce` (the modal's) makes a repeated submit send nothing new. Raises
    NotFound, NotAllowed, Conflict, Invalid (on `AskBlock.QUESTION`)."""
    initiative, question = triage.check_question(
        session,
        team_id=team_id,
        initiative_id=initiative_id,
        actor_id=actor_id,
        question=question,
        settings=settings,
    )
    card = triage.request_card(session, initiative)
    key = f"request:{initiative.id}:ask:{(nonce or now.isoformat())[:60]}"
    text, blocks = messages.question_for_requester(card, initiative.id, actor_id, question)
    sent = outbox.enqueue(
        session, team_id=team_id, key=key, channel=initiative.requester_id, text=text, blocks=blocks, now=now
    )
    if not sent:
        return card
    triage.record_question(session, initiative, actor_id, question, now)
    _in_triage_thread(
        session, initiative, f"{key}:thread", messages.question_in_thread(card, actor_id, question), now
    )
    return card


def answer_for_info(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    answer: str | None,
    nonce: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> RequestCard:
    """The requester's answer to triage's latest question: sent to whoever asked, posted under the
    triage post, kept in the history; the request stays proposed. `nonce` (the modal's) makes a
    repeated submit send nothing new. Raises NotFound, NotAllowed, Conflict, Invalid (on
    `AnswerBlock.ANSWER`)."""
    target, initiative, answer = triage.check_answer(
        session,
        team_id=team_id,
        initiative_id=initiative_id,
        actor_id=actor_id,
        answer=answer,
        settings=settings,
    )
    card = triage.request_card(session, initiative)
    key = f"request:{initiative.id}:answer:{(nonce or now.isoformat())[:60]}"
    sent = outbox.enqueue(
        session,
        team_id=team_id,
        key=key,
        channel=target.asker_id,
        text=messages.answer_for_asker(card, answer),
        now=now,
    )
    if not sent:
        return card
    triage.record_answer(session, initiative, actor_id, target.asker_id, answer, now)
    _in_triage_thread(session, initiative, f"{key}:thread", messages.answer_in_thread(card, answer), now)
    return card


def _in_triage_thread(session: Session, initiative: Initiative, key: str, text: str, now: datetime) -> None:
    """A reply under the request's triage post, if it has one that was (or will be) delivered."""
    channel = triage.triage_post_channel(session, initiative.team_id, initiative.id)
    if channel is not None:
        outbox.enqueue(
            session,
            team_id=initiative.team_id,
            key=key,
            channel=channel,
            text=text,
            now=now,
            thread_of=triage_key(initiative.id),
        )


def _tell(
    session: Session, team_id: str, initiative_id: int, what: str, user_id: str, text: str, now: datetime
) -> None:
    outbox.enqueue(
        session,
        team_id=team_id,
        key=f"request:{initiative_id}:{what}",
        channel=user_id,
        text=text,
        now=now,
    )


def _update_triage_post(session: Session, team_id: str, card: RequestCard, now: datetime) -> None:
    """Edit the triage post in place (if there is one that was or will be sent)."""
    if triage.triage_post_channel(session, team_id, card.id) is None:
        return
    text, blocks = triage_post(card)
    outbox.enqueue_update(
        session,
        team_id=team_id,
        key=f"request:{card.id}:decision",
        of=triage_key(card.id),
        text=text,
        blocks=blocks,
        now=now,
    )

"""Triage: accept, decline, ask the requester for info, and the requester's answer; by a triage
lead or the OKR's owner only (the requester answers). The request as triage sees it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.checkins.service import schedule as checkins
from bot.core import authz, history, mrkdwn, people
from bot.core.authz import Action
from bot.core.calendar import Cadence
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid, InvalidFields, NotFound
from bot.core.text import clean
from bot.initiatives.service import initiative_subject
from bot.intake.models import (
    NOTE_LIMIT,
    AcceptBlock,
    Accepted,
    AnswerBlock,
    AnswerTarget,
    AskBlock,
    DeclineBlock,
    RequestCard,
    TriageTarget,
    triage_key,
)
from storage.aliases import PROVIDER
from storage.models import (
    Dependency,
    DependencyState,
    Event,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
    OutboxState,
)

# -- the request as triage sees it ----------------------------------------------------------------


def request_card(session: Session, initiative: Initiative) -> RequestCard:
    okr = session.get(Okr, initiative.okr_id)
    assert okr is not None
    provider = PROVIDER
    waits = session.execute(
        sa.select(provider.key, Dependency.provider_team)
        .select_from(Dependency)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .where(
            Dependency.team_id == initiative.team_id,
            Dependency.waiter_id == initiative.id,
            Dependency.state == DependencyState.OPEN,
        )
        .order_by(Dependency.id)
    ).all()
    return RequestCard(
        id=initiative.id,
        key=initiative.key,
        title=initiative.title,
        description=initiative.description,
        requester_id=initiative.requester_id,
        okr_key=okr.key,
        okr_title=okr.title,
        okr_url=okr.url,
        priority=okr.priority,
        impact_level=initiative.impact_level,
        impact=initiative.impact,
        needed_by=initiative.needed_by,
        team_asked=initiative.team_asked,
        depends_on=tuple(key or f"team {team}" for key, team in waits),
        source_link=initiative.source_link,
        state=initiative.state,
        created_at=initiative.created_at,
        decided_by=initiative.decided_by,
        decided_at=initiative.decided_at,
        owner_id=initiative.owner_id,
        cadence=initiative.cadence,
        due_date=initiative.due_date,
        decline_reason=initiative.decline_reason,
    )


# -- triage ---------------------------------------------------------------------------------------


def _proposed(
    session: Session,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    action: Action,
    *,
    decide: bool = False,
) -> Initiative:
    """The request, if `actor_id` may take `action` on it and it is still waiting for triage.

    `decide`: the caller is about to accept or decline it, so the row is locked (FOR UPDATE) and read
    afresh: of two decisions at once the second waits for the first to commit, then sees it and is
    told who decided (Conflict) instead of deciding again. SQLite's one writer already serialises."""
    initiative = (
        session.get(Initiative, initiative_id, with_for_update=True, populate_existing=True)
        if decide
        else session.get(Initiative, initiative_id)
    )
    if initiative is None or initiative.team_id != team_id:
        raise NotFound("That request doesn't exist (any more).")
    authz.require(action, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state != InitiativeState.PROPOSED:
        raise Conflict(_already(initiative))
    return initiative


def _already(initiative: Initiative) -> str:
    who = f" by {mrkdwn.user(initiative.decided_by)}" if initiative.decided_by else ""
    if initiative.state == InitiativeState.DECLINED:
        return f"{initiative.key} was already declined{who}. Nothing was changed."
    if initiative.state == InitiativeState.ACTIVE:
        return f"{initiative.key} was already accepted{who}. Nothing was changed."
    return f"{initiative.key} is {initiative.state.value}; it isn't waiting for triage. Nothing was changed."


def triage_target(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    action: Action = Action.TRIAGE,
) -> TriageTarget:
    """What a decision modal needs, once we know `actor_id` may decide (NotFound, NotAllowed,
    Conflict otherwise). The suggested owner is the lead of the team asked, if it has one."""
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, action)
    return TriageTarget(
        id=initiative.id,
        key=initiative.key,
        title=initiative.title,
        requester_id=initiative.requester_id,
        suggested_owner=settings.teams.get(initiative.team_asked or ""),
    )


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
    already), InvalidFields keyed by `AcceptBlock`. (`flows.accept` tells the requester and the
    owner, and edits the triage post in place to show the decision and who made it.)
    """
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.TRIAGE, decide=True)
    errors: dict[str, str] = {}
    if not owner_id:
        errors[AcceptBlock.OWNER] = "Pick the person accountable for it."
    parsed: Cadence | None = None
    try:
        parsed = Cadence.parse(cadence or settings.default_cadence)
    except ValueError as exc:
        errors[AcceptBlock.CADENCE] = str(exc)
    owner = people.ensure(session, team_id, owner_id, now) if owner_id else None
    owner_today = now.astimezone(people.zone_of(owner, settings)).date()
    if due_date is not None and due_date < owner_today:
        errors[AcceptBlock.DUE] = "The due date is in the past."
    if errors:
        raise InvalidFields(errors)
    assert owner_id is not None and parsed is not None
    initiative.state = InitiativeState.ACTIVE
    initiative.owner_id = owner_id
    initiative.cadence = str(parsed)
    initiative.due_date = due_date
    initiative.decided_by = actor_id
    initiative.decided_at = now
    initiative.updated_at = now
    first = checkins.schedule_next(session, initiative, settings, after=now)
    history.record_initiative(
        session,
        initiative,
        "request.accepted",
        at=now,
        actor_id=actor_id,
        owner=owner_id,
        cadence=initiative.cadence,
        due_date=due_date,
        next_checkin_at=first,
    )
    return Accepted(request_card(session, initiative), first, people.zone_of(owner, settings).key)


def decline(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    reason: str | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> tuple[Initiative, str]:
    """Record who declined a proposed request, when and why; `flows.decline` then closes it (the
    one close of an initiative) and tells the requester. Returns the request and the reason,
    cleaned. Raises NotFound, NotAllowed, Conflict, Invalid (no reason, on `DeclineBlock.REASON`)."""
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.TRIAGE, decide=True)
    reason = _note(reason, DeclineBlock.REASON, "Say why, so the requester can do something with it.")
    initiative.decline_reason = reason
    initiative.decided_by = actor_id
    initiative.decided_at = now
    return initiative, reason


def check_question(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    question: str | None,
    settings: WorkspaceSettings,
) -> tuple[Initiative, str]:
    """The request `actor_id` may ask its requester about, and the question, cleaned. Raises
    NotFound, NotAllowed, Conflict, Invalid (on `AskBlock.QUESTION`)."""
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.ASK_FOR_INFO)
    return initiative, _note(question, AskBlock.QUESTION, "Write the question.")


def record_question(
    session: Session, initiative: Initiative, actor_id: str, question: str, now: datetime
) -> None:
    """Keep triage's question in the request's history (the requester's answer goes to the asker)."""
    history.record_initiative(
        session,
        initiative,
        "request.info_requested",
        at=now,
        actor_id=actor_id,
        question=question,
    )


def answer_target(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
) -> AnswerTarget:
    """The latest question from triage that `actor_id`, the requester, may answer (NotFound,
    NotAllowed, Conflict once the request is decided or if nobody asked anything)."""
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.ANSWER_FOR_INFO)
    asked = _latest_question(session, initiative)
    if asked is None or not asked.actor_id:
        raise Conflict(f"Nobody has asked anything about {initiative.key} yet; there is nothing to answer.")
    return AnswerTarget(
        id=initiative.id,
        key=initiative.key,
        title=initiative.title,
        asker_id=asked.actor_id,
        question=str(asked.data.get("question") or ""),
    )


def check_answer(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    answer: str | None,
    settings: WorkspaceSettings,
) -> tuple[AnswerTarget, Initiative, str]:
    """The question the requester `actor_id` answers, its request, and the answer, cleaned. Raises
    NotFound, NotAllowed, Conflict (see `answer_target`), Invalid (on `AnswerBlock.ANSWER`)."""
    target = answer_target(
        session, team_id=team_id, initiative_id=initiative_id, actor_id=actor_id, settings=settings
    )
    answer = _note(answer, AnswerBlock.ANSWER, "Write your answer.")
    initiative = session.get(Initiative, target.id)
    assert initiative is not None
    return target, initiative, answer


def record_answer(
    session: Session, initiative: Initiative, actor_id: str, asked_by: str, answer: str, now: datetime
) -> None:
    """Keep the requester's answer in the request's history."""
    history.record_initiative(
        session,
        initiative,
        "request.info_given",
        at=now,
        actor_id=actor_id,
        asked_by=asked_by,
        answer=answer,
    )


def _note(text: str | None, block: str, empty: str) -> str:
    """A decline reason, question or answer as typed, cleaned; Invalid on `block` if it is empty
    or too long."""
    cleaned = clean(text)
    if not cleaned:
        raise Invalid(empty, block)
    if len(cleaned) > NOTE_LIMIT:
        raise Invalid(f"Keep it under {NOTE_LIMIT} characters.", block)
    return cleaned


def _latest_question(session: Session, initiative: Initiative) -> Event | None:
    return session.scalars(
        sa.select(Event)
        .where(
            Event.team_id == initiative.team_id,
            Event.initiative_id == initiative.id,
            Event.kind == "request.info_requested",
        )
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(1)
    ).first()


def triage_post_channel(session: Session, team_id: str, initiative_id: int) -> str | None:
    """Where the request's triage post went (or is going); None if it has none, or it could not be
    delivered (parked): then there is nothing to edit or thread under."""
    row = session.execute(
        sa.select(Outbox.state, Outbox.channel).where(
            Outbox.team_id == team_id, Outbox.key == triage_key(initiative_id)
        )
    ).one_or_none()
    if row is None or row.state == OutboxState.PARKED:
        return None
    return row.channel

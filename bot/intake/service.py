"""Intake: a request enters only with the OKR it moves, and triage turns it into an initiative.

- `submit` validates the request modal (every error on its own input block), links the request to
  a registered, active OKR (picked, or found by its link), gives it a key, and tells the requester
  and the triage channel. One modal submits one request, however often Slack delivers it.
- `accept`, `decline`, `ask_for_info`: triage, by a triage lead or the OKR's owner only;
  `answer_for_info`: the requester's answer to the latest question.
- `queue`: the proposed requests ranked by strategic weight (OKR priority × stated impact), then
  age. There is no urgency field.

Outbox keys: `request:<id>:triage` (the triage post; later edited in place by
`request:<id>:decision`), `request:<id>:confirm`, `request:<id>:accepted:<user>`,
`request:<id>:declined`, `request:<id>:ask:<nonce>`, `request:<id>:answer:<nonce>` (each with a
`:thread` reply under the triage post), and `notice:triage-unset:<admin>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import outbox
from bot.checkins import service as checkins
from bot.core import authz, history, mrkdwn, people
from bot.core.authz import Action
from bot.core.calendar import Cadence
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, Invalid, InvalidFields, NotFound
from bot.core.text import clean, one_line
from bot.core.workspaces import allocate_request_number
from bot.dependencies import flows as dependencies
from bot.initiatives.service import initiative_subject
from bot.intake import views
from bot.intake.views import (
    DESCRIPTION_LIMIT,
    IMPACT_LEVELS,
    IMPACT_LIMIT,
    NOTE_LIMIT,
    TEAM_LIMIT,
    TITLE_LIMIT,
    AcceptBlock,
    AnswerBlock,
    AskBlock,
    DeclineBlock,
    IntakeBlock,
    QueueItem,
    RequestCard,
    TriageTarget,
)
from bot.okrs import service as okrs
from storage.aliases import PARENT_OKR, PROVIDER
from storage.models import (
    OPEN_STATES,
    Dependency,
    DependencyState,
    Event,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
    OutboxState,
    Person,
)

NO_OKR = "Link this request to an OKR — requests that move no OKR can't be queued"
QUEUE_LIMIT = 20
MAX_DEPENDENCIES = 10


@dataclass(frozen=True)
class RequestForm:
    """The request modal as typed: raw text from Slack, checked by `submit`."""

    title: str | None
    description: str | None
    okr_id: str | None = None  # the OKR select's value (an okr id)
    okr_url: str | None = None
    impact_level: str | None = None  # "1" low, "2" medium, "3" high
    impact: str | None = None
    needed_by: date | None = None
    team_asked: str | None = None
    depends_on: Sequence[str] = ()  # initiative ids
    depends_on_team: str | None = None
    submission_key: str | None = None  # the modal's nonce: one modal, one request
    source_channel: str | None = None
    source_ts: str | None = None
    source_link: str | None = None


@dataclass(frozen=True)
class Submitted:
    id: int
    key: str
    title: str
    created: bool  # False: this modal was submitted before; that request is returned
    triage_channel: str | None


# -- submitting -----------------------------------------------------------------------------------


def submit(
    session: Session,
    *,
    team_id: str,
    requester_id: str,
    form: RequestForm,
    settings: WorkspaceSettings,
    now: datetime,
) -> Submitted:
    """Record a request from the intake modal and tell the requester and the triage channel.

    Raises InvalidFields keyed by `IntakeBlock` (no OKR, unknown or archived OKR, a link not on an
    allowed OKR host, empty or over-long title, needed-by date in the past, ...). A second submit
    with the same `submission_key` returns the first request and sends nothing.
    """
    authz.require(Action.SUBMIT_REQUEST, requester_id, settings)
    if form.submission_key:
        existing = _by_submission(session, team_id, form.submission_key)
        if existing is not None:
            return Submitted(existing.id, existing.key, existing.title, False, settings.triage_channel)

    requester = session.scalar(
        sa.select(Person).where(Person.team_id == team_id, Person.user_id == requester_id)
    )
    today = okrs.today_in(settings, now, requester)
    errors: dict[str, str] = {}
    title = one_line(form.title)
    if not title:
        errors[IntakeBlock.TITLE] = "Give the request a title."
    elif len(title) > TITLE_LIMIT:
        errors[IntakeBlock.TITLE] = f"Keep the title under {TITLE_LIMIT} characters (it has {len(title)})."
    description = clean(form.description)
    if not description:
        errors[IntakeBlock.DESCRIPTION] = "Say what is needed and why."
    elif len(description) > DESCRIPTION_LIMIT:
        errors[IntakeBlock.DESCRIPTION] = f"Keep it under {DESCRIPTION_LIMIT} characters."
    okr = _resolve_okr(session, team_id, settings, form.okr_id, form.okr_url, errors)
    impact_level = _impact_level(form.impact_level)
    if impact_level is None:
        errors[IntakeBlock.IMPACT_LEVEL] = "Pick the impact you expect on the OKR."
    impact = clean(form.impact)
    if len(impact) > IMPACT_LIMIT:
        errors[IntakeBlock.IMPACT] = f"Keep it under {IMPACT_LIMIT} characters."
    if form.needed_by is None:
        errors[IntakeBlock.NEEDED_BY] = "Pick the date you need this by."
    elif form.needed_by < today:
        errors[IntakeBlock.NEEDED_BY] = f"The needed-by date is in the past (today is {today.isoformat()})."
    team_asked = _team(form.team_asked, settings, IntakeBlock.TEAM, errors, required=True)
    depends_team = _team(form.depends_on_team, settings, IntakeBlock.DEPENDS_ON_TEAM, errors, required=False)
    providers = _providers(session, team_id, form.depends_on, errors)
    if errors:
        raise InvalidFields(errors)
    assert okr is not None and impact_level is not None

    try:
        with session.begin_nested():  # a concurrent twin of this submit rolls back only this part
            number = allocate_request_number(session, team_id, now)
            initiative = Initiative(
                team_id=team_id,
                number=number,
                key=f"{settings.key_prefix}-{number}",
                title=title,
                description=description,
                requester_id=requester_id,
                okr_id=okr.id,
                impact_level=impact_level,
                impact=impact,
                needed_by=form.needed_by,
                team_asked=team_asked,
                state=InitiativeState.PROPOSED,
                source_channel=form.source_channel,
                source_ts=form.source_ts,
                source_link=form.source_link if form.source_link and okrs.is_link(form.source_link) else None,
                submission_key=form.submission_key or None,
                created_at=now,
                updated_at=now,
            )
            session.add(initiative)
            session.flush()
    except IntegrityError:
        existing = _by_submission(session, team_id, form.submission_key) if form.submission_key else None
        if existing is None:
            raise
        return Submitted(existing.id, existing.key, existing.title, False, settings.triage_channel)

    history.record_initiative(
        session,
        initiative,
        "request.submitted",
        at=now,
        actor_id=requester_id,
        key=initiative.key,
        okr=okr.key,
        impact_level=impact_level,
        weight=okr.priority * impact_level,
        source_link=initiative.source_link,
    )
    for provider in providers:
        _depend(session, initiative, requester_id, settings, now, today, provider=provider)
    if depends_team:
        _depend(session, initiative, requester_id, settings, now, today, team=depends_team)

    card = request_card(session, initiative)
    outbox.enqueue(
        session,
        team_id=team_id,
        key=f"request:{initiative.id}:confirm",
        channel=requester_id,
        text=views.confirmation(card, settings.triage_channel),
        now=now,
    )
    if settings.triage_channel:
        text, blocks = views.triage_post(card)
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
                text=views.triage_unset_notice(card),
                now=now,
            )
    return Submitted(initiative.id, initiative.key, initiative.title, True, settings.triage_channel)


def triage_key(initiative_id: int) -> str:
    """The outbox key of a request's triage post (thread under it, or edit it, with this)."""
    return f"request:{initiative_id}:triage"


def _by_submission(session: Session, team_id: str, submission_key: str) -> Initiative | None:
    return session.scalar(
        sa.select(Initiative).where(
            Initiative.team_id == team_id, Initiative.submission_key == submission_key[:100]
        )
    )


def _impact_level(text: str | None) -> int | None:
    try:
        value = int((text or "").strip())
    except ValueError:
        return None
    return value if value in IMPACT_LEVELS else None


def _team(
    text: str | None, settings: WorkspaceSettings, block: str, errors: dict[str, str], *, required: bool
) -> str | None:
    team = one_line(text)
    if not team:
        if required:
            errors[block] = "Say which team is asked."
        return None
    if len(team) > TEAM_LIMIT:
        errors[block] = f"Keep the team's name under {TEAM_LIMIT} characters."
    elif settings.teams and team not in settings.teams:
        errors[block] = f"Pick one of the teams: {', '.join(sorted(settings.teams))}."
    return team


def _providers(
    session: Session, team_id: str, ids: Sequence[str], errors: dict[str, str]
) -> list[Initiative]:
    wanted: list[int] = []
    for value in ids:
        try:
            wanted.append(int(value))
        except (TypeError, ValueError):
            errors[IntakeBlock.DEPENDS_ON] = "Pick initiatives from the list."
            return []
    if len(set(wanted)) > MAX_DEPENDENCIES:
        errors[IntakeBlock.DEPENDS_ON] = f"Pick at most {MAX_DEPENDENCIES}."
        return []
    if not wanted:
        return []
    found = {
        i.id: i
        for i in session.scalars(
            sa.select(Initiative).where(Initiative.team_id == team_id, Initiative.id.in_(set(wanted)))
        )
    }
    problems = []
    for initiative_id in dict.fromkeys(wanted):
        item = found.get(initiative_id)
        if item is None:
            problems.append("one of them no longer exists")
        elif item.state not in OPEN_STATES:
            problems.append(f"{item.key} is {item.state.value}")
    if problems:
        errors[IntakeBlock.DEPENDS_ON] = f"These can't be waited on: {'; '.join(problems)}."
        return []
    return [found[i] for i in dict.fromkeys(wanted)]


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


def _resolve_okr(
    session: Session,
    team_id: str,
    settings: WorkspaceSettings,
    okr_id: str | None,
    url: str | None,
    errors: dict[str, str],
) -> Okr | None:
    """The registered, active OKR the request names by the select or by a link; errors on the
    block that named it."""
    picked: Okr | None = None
    linked: Okr | None = None
    if okr_id:
        try:
            picked = session.get(Okr, int(okr_id))
        except (TypeError, ValueError):
            picked = None
        if picked is None or picked.team_id != team_id:
            picked = None
            errors[IntakeBlock.OKR] = "That OKR is unknown here. Pick one from the list."
        elif (problem := _archived(session, picked)) is not None:
            errors[IntakeBlock.OKR] = problem
            picked = None
    url = (url or "").strip()
    if url:
        if not okrs.is_link(url):
            errors[IntakeBlock.OKR_URL] = "That isn't a link: paste the OKR's https:// address."
        elif not okrs.url_allowed(settings, url):
            hosts = ", ".join(okrs.allowed_hosts(settings)) or "none are configured"
            errors[IntakeBlock.OKR_URL] = (
                f"That link is not on an allowed OKR host ({hosts}). Pick the OKR from the list instead."
            )
        else:
            linked = okrs.find_by_url(session, team_id, url)
            if linked is None:
                errors[IntakeBlock.OKR_URL] = (
                    "That link is not a known OKR. Pick it from the list above, or ask an admin to "
                    "import it (`/okr` lists the OKRs Throughline knows)."
                )
            elif (problem := _archived(session, linked)) is not None:
                errors[IntakeBlock.OKR_URL] = problem
                linked = None
    if picked is not None and linked is not None and picked.id != linked.id:
        errors[IntakeBlock.OKR_URL] = (
            f"This link is {linked.key}, but you picked {picked.key} above. Keep one, or make them match."
        )
        return None
    if not okr_id and not url:
        errors[IntakeBlock.OKR] = NO_OKR
    return picked or linked


def _archived(session: Session, okr: Okr) -> str | None:
    parent = session.get(Okr, okr.parent_id) if okr.parent_id else None
    if okrs.selectable(okr, parent):
        return None
    gone = okr if okr.archived_at is not None else parent
    assert gone is not None
    period = f" (its period {gone.period} is over)" if gone.period else ""
    which = "is archived" if gone is okr else f"belongs to {gone.key}, which is archived"
    return f"{okr.key} {which}{period}: it can't take new requests. Pick a current OKR."


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
) -> Initiative:
    """The request, if `actor_id` may take `action` on it and it is still waiting for triage."""
    initiative = session.get(Initiative, initiative_id)
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
) -> views.Accepted:
    """Make a proposed request an active initiative with an owner and a first check-in.

    Raises NotFound, NotAllowed (triage leads and the OKR's owner only), Conflict (decided
    already), InvalidFields keyed by `AcceptBlock`. Tells the requester and the owner, and edits
    the triage post in place to show the decision and who made it.
    """
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.TRIAGE)
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
    result = views.Accepted(request_card(session, initiative), first, people.zone_of(owner, settings).key)
    if initiative.requester_id != owner_id:
        _tell(
            session,
            initiative,
            f"accepted:{initiative.requester_id}",
            initiative.requester_id,
            views.accepted_for_requester(result),
            now,
        )
    _tell(session, initiative, f"accepted:{owner_id}", owner_id, views.accepted_for_owner(result), now)
    _update_triage_post(session, team_id, result.card, now)
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
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.TRIAGE)
    reason = _note(reason, DeclineBlock.REASON, "Say why, so the requester can do something with it.")
    initiative.state = InitiativeState.DECLINED
    initiative.decline_reason = reason
    initiative.decided_by = actor_id
    initiative.decided_at = now
    initiative.updated_at = now
    history.record_initiative(
        session,
        initiative,
        "request.declined",
        at=now,
        actor_id=actor_id,
        reason=reason,
    )
    dependencies.close_for_closed(session, initiative, actor_id, settings, now)
    card = request_card(session, initiative)
    _tell(session, initiative, "declined", initiative.requester_id, views.declined_for_requester(card), now)
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
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.ASK_FOR_INFO)
    question = _note(question, AskBlock.QUESTION, "Write the question.")
    card = request_card(session, initiative)
    key = f"request:{initiative.id}:ask:{(nonce or now.isoformat())[:60]}"
    text, blocks = views.question_for_requester(card, initiative.id, actor_id, question)
    sent = outbox.enqueue(
        session, team_id=team_id, key=key, channel=initiative.requester_id, text=text, blocks=blocks, now=now
    )
    if not sent:
        return card
    history.record_initiative(
        session,
        initiative,
        "request.info_requested",
        at=now,
        actor_id=actor_id,
        question=question,
    )
    _in_triage_thread(
        session, initiative, f"{key}:thread", views.question_in_thread(card, actor_id, question), now
    )
    return card


def answer_target(
    session: Session,
    *,
    team_id: str,
    initiative_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
) -> views.AnswerTarget:
    """The latest question from triage that `actor_id`, the requester, may answer (NotFound,
    NotAllowed, Conflict once the request is decided or if nobody asked anything)."""
    initiative = _proposed(session, team_id, initiative_id, actor_id, settings, Action.ANSWER_FOR_INFO)
    asked = _latest_question(session, initiative)
    if asked is None or not asked.actor_id:
        raise Conflict(f"Nobody has asked anything about {initiative.key} yet; there is nothing to answer.")
    return views.AnswerTarget(
        id=initiative.id,
        key=initiative.key,
        title=initiative.title,
        asker_id=asked.actor_id,
        question=str(asked.data.get("question") or ""),
    )


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
    target = answer_target(
        session, team_id=team_id, initiative_id=initiative_id, actor_id=actor_id, settings=settings
    )
    answer = _note(answer, AnswerBlock.ANSWER, "Write your answer.")
    initiative = session.get(Initiative, target.id)
    assert initiative is not None
    card = request_card(session, initiative)
    key = f"request:{initiative.id}:answer:{(nonce or now.isoformat())[:60]}"
    sent = outbox.enqueue(
        session,
        team_id=team_id,
        key=key,
        channel=target.asker_id,
        text=views.answer_for_asker(card, answer),
        now=now,
    )
    if not sent:
        return card
    history.record_initiative(
        session,
        initiative,
        "request.info_given",
        at=now,
        actor_id=actor_id,
        asked_by=target.asker_id,
        answer=answer,
    )
    _in_triage_thread(session, initiative, f"{key}:thread", views.answer_in_thread(card, answer), now)
    return card


def _note(text: str | None, block: str, empty: str) -> str:
    """A decline reason, question or answer as typed, cleaned; Invalid on `block` if it is empty
    or too long."""
    cleaned = clean(text)
    if not cleaned:
        raise Invalid(empty, block)
    if len(cleaned) > NOTE_LIMIT:
        raise Invalid(f"Keep it under {NOTE_LIMIT} characters.", block)
    return cleaned


def _in_triage_thread(session: Session, initiative: Initiative, key: str, text: str, now: datetime) -> None:
    """A reply under the request's triage post, if it has one that was (or will be) delivered."""
    channel = _triage_post_channel(session, initiative.team_id, initiative.id)
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


def _tell(
    session: Session, initiative: Initiative, what: str, user_id: str, text: str, now: datetime
) -> None:
    outbox.enqueue(
        session,
        team_id=initiative.team_id,
        key=f"request:{initiative.id}:{what}",
        channel=user_id,
        text=text,
        now=now,
    )


def _triage_post_channel(session: Session, team_id: str, initiative_id: int) -> str | None:
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


def _update_triage_post(session: Session, team_id: str, card: RequestCard, now: datetime) -> None:
    """Edit the triage post in place (if there is one that was or will be sent)."""
    if _triage_post_channel(session, team_id, card.id) is None:
        return
    text, blocks = views.triage_post(card)
    outbox.enqueue_update(
        session,
        team_id=team_id,
        key=f"request:{card.id}:decision",
        of=triage_key(card.id),
        text=text,
        blocks=blocks,
        now=now,
    )


# -- the queue and the selects --------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    total: int


def weight_expression() -> sa.ColumnElement[int]:
    """Strategic weight, in SQL: the OKR's priority (1–5) × the stated impact (1–3)."""
    return Okr.priority * Initiative.impact_level


def queue(
    session: Session,
    *,
    team_id: str,
    viewer_id: str,
    settings: WorkspaceSettings,
    limit: int = QUEUE_LIMIT,
) -> Queue:
    """Proposed requests, highest strategic weight first, then oldest first; `can_triage` says
    whether `viewer_id` may accept or decline each. Two statements, whatever the queue's size."""
    objective = PARENT_OKR
    weight = weight_expression().label("weight")
    rows = session.execute(
        sa.select(
            Initiative.id,
            Initiative.key,
            Initiative.title,
            Initiative.requester_id,
            Initiative.created_at,
            Initiative.impact_level,
            Okr.key.label("okr_key"),
            Okr.priority,
            Okr.owner_id.label("okr_owner"),
            objective.owner_id.label("objective_owner"),
            weight,
        )
        .join(Okr, Okr.id == Initiative.okr_id)
        .outerjoin(objective, objective.id == Okr.parent_id)
        .where(Initiative.team_id == team_id, Initiative.state == InitiativeState.PROPOSED)
        .order_by(weight.desc(), Initiative.created_at.asc(), Initiative.id.asc())
        .limit(limit)
    ).all()
    total = session.scalar(
        sa.select(sa.func.count())
        .select_from(Initiative)
        .where(Initiative.team_id == team_id, Initiative.state == InitiativeState.PROPOSED)
    )
    items = [
        QueueItem(
            id=r.id,
            key=r.key,
            title=r.title,
            okr_key=r.okr_key,
            priority=r.priority,
            impact_level=r.impact_level,
            requester_id=r.requester_id,
            created_at=r.created_at,
            can_triage=authz.can(
                Action.TRIAGE,
                viewer_id,
                settings,
                authz.Subject(
                    label=r.key, okr_owner_ids=tuple(o for o in (r.okr_owner, r.objective_owner) if o)
                ),
            ),
        )
        for r in rows
    ]
    return Queue(items, int(total or 0))


def initiative_choices(
    session: Session, team_id: str, query: str = "", limit: int = 100
) -> list[okrs.Choice]:
    """Open initiatives (proposed or active) whose key or title contains every word of `query`,
    newest first, for the "depends on" select: value = the initiative's id."""
    statement = sa.select(Initiative.id, Initiative.key, Initiative.title).where(
        Initiative.team_id == team_id, Initiative.state.in_(OPEN_STATES)
    )
    for word in query.split()[:8]:
        statement = statement.where(
            sa.or_(
                Initiative.key.icontains(word, autoescape=True),
                Initiative.title.icontains(word, autoescape=True),
            )
        )
    rows = session.execute(statement.order_by(Initiative.number.desc()).limit(max(0, min(limit, 100))))
    return [
        okrs.Choice(str(r.id), mrkdwn.truncate(f"{r.key} · {r.title}", okrs.OPTION_TEXT_LIMIT)) for r in rows
    ]

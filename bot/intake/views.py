"""The intake surfaces: the request modal, the triage post and its decision modals, the messages a
requester and an owner get, and the triage queue.

Ids live here, in per-flow enums; so do the small view models the domain fills in (views import
no domain module, the domain renders its messages through these functions).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, md, plain, section
from bot.core import mrkdwn
from bot.core.calendar import WEEKDAY_NAMES, WEEKDAYS, Cadence, CadenceKind
from bot.core.mrkdwn import Mrkdwn, truncate
from storage.models import InitiativeState

TITLE_LIMIT = 150
DESCRIPTION_LIMIT = 3000
IMPACT_LIMIT = 1000
TEAM_LIMIT = 100
NOTE_LIMIT = 1000  # a decline reason, a question
OPTION_TEXT_LIMIT = 75
IMPACT_LEVELS = {1: "low", 2: "medium", 3: "high"}


class Shortcut(StrEnum):
    NEW_REQUEST = "new_request"  # global: "New request"
    FROM_MESSAGE = "request_from_message"  # message: "Turn into request"


class IntakeCallback(StrEnum):
    SUBMIT = "intake_submit"
    ACCEPT = "triage_accept_submit"
    DECLINE = "triage_decline_submit"
    ASK = "triage_ask_submit"
    ANSWER = "request_answer_submit"


class IntakeBlock(StrEnum):
    """Input blocks of the request modal (errors land on these)."""

    TITLE = "intake_title"
    DESCRIPTION = "intake_description"
    OKR = "intake_okr"
    OKR_URL = "intake_okr_url"
    IMPACT_LEVEL = "intake_impact_level"
    IMPACT = "intake_impact"
    NEEDED_BY = "intake_needed_by"
    TEAM = "intake_team"
    DEPENDS_ON = "intake_depends_on"
    DEPENDS_ON_TEAM = "intake_depends_on_team"


class IntakeAction(StrEnum):
    """External selects of the request modal: Slack asks for their options by these action ids."""

    OKR = "intake_okr_select"
    DEPENDS_ON = "intake_depends_on_select"


class TriageAction(StrEnum):
    """Buttons on the triage post and in `/initiative queue`; value: the initiative's id."""

    ACCEPT = "triage_accept"
    DECLINE = "triage_decline"
    ASK = "triage_ask"


class AcceptBlock(StrEnum):
    OWNER = "accept_owner"
    CADENCE = "accept_cadence"
    DAY = "accept_day"
    TIME = "accept_time"
    DUE = "accept_due"


class DeclineBlock(StrEnum):
    REASON = "decline_reason"


class AskBlock(StrEnum):
    QUESTION = "ask_question"


class RequestAction(StrEnum):
    """Buttons in the requester's DMs; value: the initiative's id."""

    ANSWER = "request_answer"


class AnswerBlock(StrEnum):
    ANSWER = "answer_text"


# -- private_metadata ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeMeta:
    """What the request modal carries: a nonce (one submit = one request, however often it is sent)
    and, from a message shortcut, where the message is."""

    nonce: str
    channel: str | None = None
    ts: str | None = None

    @classmethod
    def new(cls, channel: str | None = None, ts: str | None = None) -> IntakeMeta:
        return cls(secrets.token_urlsafe(18), channel, ts)

    def dump(self) -> str:
        data = {"n": self.nonce, "c": self.channel, "t": self.ts}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def load(cls, text: str | None) -> IntakeMeta:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        nonce = str(data.get("n") or "")[:100]
        return cls(nonce, _short(data.get("c")), _short(data.get("t")))


@dataclass(frozen=True)
class TriageMeta:
    """What a triage modal carries: the initiative, a nonce for "ask for info" and its answer,
    and, when the button was in a `/initiative queue` reply, that reply's response_url, so the
    queue can be shown again once the decision is made."""

    initiative_id: int
    nonce: str = ""
    refresh: str = ""

    def dump(self) -> str:
        data = {"i": self.initiative_id, "n": self.nonce, "r": self.refresh}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def load(cls, text: str | None) -> TriageMeta:
        data = json.loads(text or "{}")
        return cls(int(data["i"]), str(data.get("n") or ""), str(data.get("r") or "")[:500])


def _short(value: Any) -> str | None:
    return str(value)[:32] if value else None


def initiative_id_of(value: str | None) -> int:
    """The initiative id in a triage button's value; ValueError if there is none."""
    return int(str(value or "").strip())


# -- the request modal ----------------------------------------------------------------------------

_IMPACT_OPTIONS = [
    Option(value="3", label="High – moves the KR a lot"),
    Option(value="2", label="Medium"),
    Option(value="1", label="Low – helps a little"),
]


def _team_element(teams: Sequence[str], action_id: str, placeholder: str) -> Any:
    if teams:
        return StaticSelectElement(
            action_id=action_id,
            placeholder=plain(placeholder),
            options=[Option(value=t[:150], label=truncate(t, OPTION_TEXT_LIMIT)) for t in list(teams)[:100]],
        )
    return PlainTextInputElement(action_id=action_id, max_length=TEAM_LIMIT, placeholder=plain(placeholder))


def intake_modal(
    *,
    meta: IntakeMeta,
    teams: Sequence[str],
    okr_hosts: Sequence[str],
    title: str = "",
    description: str = "",
) -> View:
    """The request modal. `teams`: the configured teams (a select) or none (a text input);
    `okr_hosts`: where an OKR link may point (no link field when there are none)."""
    blocks: list[Block] = []
    if meta.channel:
        blocks.append(context(f":speech_balloon: From a message in {mrkdwn.channel(meta.channel)}"))
    blocks += [
        InputBlock(
            block_id=IntakeBlock.TITLE,
            label=plain("Title"),
            element=PlainTextInputElement(
                action_id="value",
                initial_value=truncate(title.strip(), TITLE_LIMIT) or None,
                max_length=TITLE_LIMIT,
                placeholder=plain("What you need, in a few words"),
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.DESCRIPTION,
            label=plain("What is needed, and why"),
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                initial_value=truncate(description.strip(), DESCRIPTION_LIMIT) or None,
                max_length=DESCRIPTION_LIMIT,
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.OKR,
            label=plain("The OKR it moves"),
            optional=True,
            hint=plain("An objective or key result. Type to search; `/okr` lists them."),
            element=ExternalDataSelectElement(
                action_id=IntakeAction.OKR, placeholder=plain("Search OKRs"), min_query_length=0
            ),
        ),
    ]
    if okr_hosts:
        blocks.append(
            InputBlock(
                block_id=IntakeBlock.OKR_URL,
                label=plain("…or its link in your OKR tool"),
                optional=True,
                hint=plain(f"A link to the OKR on {', '.join(okr_hosts)}.", 2000),
                element=UrlInputElement(action_id="value"),
            )
        )
    blocks += [
        InputBlock(
            block_id=IntakeBlock.IMPACT_LEVEL,
            label=plain("Expected impact on that OKR"),
            element=StaticSelectElement(
                action_id="value", placeholder=plain("How much it moves it"), options=_IMPACT_OPTIONS
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.IMPACT,
            label=plain("Expected impact on that KR, in words"),
            optional=True,
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                max_length=IMPACT_LIMIT,
                placeholder=plain("e.g. churn −0.5 points by the end of the quarter"),
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.NEEDED_BY,
            label=plain("Needed by"),
            element=DatePickerElement(action_id="value"),
        ),
        InputBlock(
            block_id=IntakeBlock.TEAM,
            label=plain("Team asked"),
            element=_team_element(teams, "value", "Which team should do it"),
        ),
        InputBlock(
            block_id=IntakeBlock.DEPENDS_ON,
            label=plain("Depends on (initiatives)"),
            optional=True,
            element=ExternalDataMultiSelectElement(
                action_id=IntakeAction.DEPENDS_ON,
                placeholder=plain("REQ-12, or words from its title"),
                min_query_length=0,
                max_selected_items=10,
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.DEPENDS_ON_TEAM,
            label=plain("Depends on (another team)"),
            optional=True,
            element=_team_element(teams, "value", "A team this waits on"),
        ),
        context(
            "The queue is ranked by strategy: the OKR's priority times the impact you state, then age. "
            "No OKR fits? Ask an admin to add it."
        ),
    ]
    return View(
        type="modal",
        callback_id=IntakeCallback.SUBMIT,
        title=plain("New request", 24),
        submit=plain("Submit", 24),
        close=plain("Cancel", 24),
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def submitted_modal(key: str, title: str, triage_channel: str | None, created: bool) -> View:
    where = (
        f"It is in the triage queue in {mrkdwn.channel(triage_channel)}"
        if triage_channel
        else "Triage isn't set up in this workspace yet; the admins have been told"
    )
    again = "" if created else " (it was already submitted: nothing new was sent)"
    return View(
        type="modal",
        title=plain("Request sent", 24),
        close=plain("Done", 24),
        blocks=[
            section(
                f":inbox_tray: *{mrkdwn.escape(key)}* {mrkdwn.escape(title)}{again}. {where}. "
                f"I've sent you a DM with the details; `/initiative {mrkdwn.escape(key)}` shows where it is."
            )
        ],
    )


def options(choices: Sequence[tuple[str, str]]) -> list[Option]:
    """Select options from (value, text) pairs: at most 100, text ≤ 75 characters."""
    return [
        Option(value=value[:150], text=plain(truncate(text, OPTION_TEXT_LIMIT), OPTION_TEXT_LIMIT))
        for value, text in list(choices)[:100]
    ]


# -- the triage post ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestCard:
    """A request as triage sees it."""

    id: int
    key: str
    title: str
    description: str
    requester_id: str
    okr_key: str
    okr_title: str
    okr_url: str | None
    priority: int
    impact_level: int
    impact: str
    needed_by: date | None
    team_asked: str | None
    depends_on: tuple[str, ...]
    source_link: str | None
    state: InitiativeState
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    owner_id: str | None = None
    cadence: str | None = None
    due_date: date | None = None
    decline_reason: str | None = None

    @property
    def weight(self) -> int:
        return self.priority * self.impact_level


def slack_time(at: datetime, *, with_time: bool = True) -> Mrkdwn:
    """A date Slack shows in each reader's own time zone (UTC in the fallback)."""
    pattern = "{date_short_pretty} at {time}" if with_time else "{date_short_pretty}"
    fallback = at.strftime("%a %d %b %Y %H:%M UTC" if with_time else "%a %d %b %Y")
    return Mrkdwn(f"<!date^{int(at.timestamp())}^{pattern}|{fallback}>")


def okr_label(card: RequestCard) -> Mrkdwn:
    return mrkdwn.link(card.okr_url, f"{card.okr_key} {card.okr_title}")


def impact_text(card: RequestCard) -> str:
    return f"{IMPACT_LEVELS.get(card.impact_level, '?')} · weight {card.weight} (priority {card.priority})"


def decision_text(card: RequestCard) -> str:
    when = f" on {slack_time(card.decided_at, with_time=False)}" if card.decided_at else ""
    if card.state == InitiativeState.DECLINED:
        return (
            f":no_entry_sign: *Declined* by {mrkdwn.user(card.decided_by)}{when}: "
            f"{mrkdwn.escape(card.decline_reason or '')}"
        )
    if card.state == InitiativeState.PROPOSED:
        return ""
    cadence = Cadence.parse(card.cadence).describe() if card.cadence else "the default cadence"
    due = f" · due {mrkdwn.date_text(card.due_date)}" if card.due_date else ""
    verdict = "Accepted" if card.decided_by else card.state.value.capitalize()
    return (
        f":white_check_mark: *{verdict}* by {mrkdwn.user(card.decided_by)}{when} · owner "
        f"{mrkdwn.user(card.owner_id)} · check-ins {cadence}{due}"
    )


def triage_buttons(block_id: str, initiative_id: int, *, ask: bool) -> ActionsBlock:
    """Accept / Decline (/ Ask for info) for one request; each button's value is its id."""
    value = str(initiative_id)
    buttons = [
        ButtonElement(action_id=TriageAction.ACCEPT, text=plain("Accept"), value=value, style="primary"),
        ButtonElement(action_id=TriageAction.DECLINE, text=plain("Decline"), value=value, style="danger"),
    ]
    if ask:
        buttons.append(ButtonElement(action_id=TriageAction.ASK, text=plain("Ask for info"), value=value))
    return ActionsBlock(block_id=block_id, elements=buttons)


def triage_post(card: RequestCard) -> tuple[str, list[Block]]:
    """The post in the triage channel: the request, and Accept / Decline / Ask for info while it is
    proposed, or the decision and who made it once decided. (fallback text, blocks)"""
    key, title = mrkdwn.escape(card.key), mrkdwn.escape(card.title)
    team = f" for *{mrkdwn.escape(card.team_asked)}*" if card.team_asked else ""
    blocks: list[Block] = [
        section(f":inbox_tray: *{key}* {title}\nRequested by {mrkdwn.user(card.requester_id)}{team}"),
        SectionBlock(
            fields=[
                md(f"*OKR*\n{okr_label(card)}"),
                md(f"*Impact*\n{impact_text(card)}"),
                md(f"*Needed by*\n{mrkdwn.date_text(card.needed_by)}"),
                md(
                    "*Depends on*\n"
                    + (", ".join(mrkdwn.escape(d) for d in card.depends_on) if card.depends_on else "—")
                ),
            ]
        ),
    ]
    if card.description:
        blocks.append(section(f"*What and why*\n{mrkdwn.escape(truncate(card.description, 2900))}"))
    if card.impact:
        blocks.append(section(f"*Expected impact*\n{mrkdwn.escape(truncate(card.impact, 2900))}"))
    if card.source_link:
        blocks.append(context(f":speech_balloon: From {mrkdwn.link(card.source_link, 'a message')}"))
    if card.state == InitiativeState.PROPOSED:
        blocks.append(triage_buttons(f"triage_{card.id}", card.id, ask=True))
        fallback = f"New request {key}: {title}"
    else:
        blocks.append(section(decision_text(card)))
        fallback = f"{key} {title}: {card.state.value}"
    return fallback, blocks


def confirmation(card: RequestCard, triage_channel: str | None) -> str:
    """The DM to the requester after a valid submit."""
    head = f":inbox_tray: Your request *{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)} is recorded"
    okr = f"It links to {okr_label(card)} (weight {card.weight})."
    if triage_channel:
        return (
            f"{head} and waiting for triage in {mrkdwn.channel(triage_channel)}. {okr} You'll hear from me "
            f"when it is accepted or declined; `/initiative {mrkdwn.escape(card.key)}` shows where it is."
        )
    return (
        f"{head}, but triage isn't set up in this workspace yet (no triage channel), so nobody has "
        f"been asked to look at it. I've told the admins. {okr}"
    )


def triage_unset_notice(card: RequestCard) -> str:
    return (
        f":warning: {mrkdwn.user(card.requester_id)} submitted *{mrkdwn.escape(card.key)}*, but no triage "
        "channel is set, so nobody is asked to triage requests. Set `THROUGHLINE_TRIAGE_CHANNEL` (or the "
        "triage channel in the App Home settings) and invite me to that channel."
    )


# -- decisions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageTarget:
    """A proposed request someone may triage: what the decision modals show."""

    id: int
    key: str
    title: str
    requester_id: str
    suggested_owner: str | None


_CADENCE_KINDS = [
    (CadenceKind.WEEKLY, "Weekly"),
    (CadenceKind.BIWEEKLY, "Every two weeks"),
    (CadenceKind.MONTHLY, "Monthly (first weekday of the month)"),
    (CadenceKind.WORKDAYS, "Every working day"),
]
_TIMES = [time(h, m) for h in range(7, 19) for m in (0, 30)][:-1]  # 07:00 … 18:00


def cadence_from(kind: str | None, day: str | None, at: str | None) -> str | None:
    """The cadence string (`weekly:mon@09:00`) from the accept modal's three selects; None (the
    workspace default) when no kind was picked."""
    kind = (kind or "").strip()
    if not kind:
        return None
    at = (at or "").strip() or "09:00"
    if kind == CadenceKind.WORKDAYS:
        return f"workdays@{at}"
    return f"{kind}:{(day or 'mon').strip()}@{at}"


def accept_modal(target: TriageTarget, default_cadence: Cadence, refresh: str = "") -> View:
    """Accept: who owns it (required), how often they are asked, and an optional due date."""
    kinds = [Option(value=k.value, label=label) for k, label in _CADENCE_KINDS]
    days = [Option(value=WEEKDAYS[i], label=WEEKDAY_NAMES[i]) for i in range(5)]
    times = list(_TIMES)
    if default_cadence.at not in times:
        times = sorted([*times, default_cadence.at])
    hours = [Option(value=t.strftime("%H:%M"), label=t.strftime("%H:%M")) for t in times]
    day_default = days[default_cadence.weekday] if default_cadence.weekday < 5 else days[0]
    owner_element = UserSelectElement(
        action_id="value", placeholder=plain("Who is accountable"), initial_user=target.suggested_owner
    )
    blocks: list[Block] = [
        _request_line(target.key, target.title),
        InputBlock(block_id=AcceptBlock.OWNER, label=plain("Owner"), element=owner_element),
        InputBlock(
            block_id=AcceptBlock.CADENCE,
            label=plain("Check-ins"),
            hint=plain("The owner is asked how it is going, in their own time zone."),
            element=StaticSelectElement(
                action_id="value",
                options=kinds,
                initial_option=next(o for o in kinds if o.value == default_cadence.kind.value),
            ),
        ),
        InputBlock(
            block_id=AcceptBlock.DAY,
            label=plain("On"),
            hint=plain("Not used for every working day."),
            element=StaticSelectElement(action_id="value", options=days, initial_option=day_default),
        ),
        InputBlock(
            block_id=AcceptBlock.TIME,
            label=plain("At (owner's time)"),
            element=StaticSelectElement(
                action_id="value",
                options=hours,
                initial_option=next(o for o in hours if o.value == default_cadence.at.strftime("%H:%M")),
            ),
        ),
        InputBlock(
            block_id=AcceptBlock.DUE,
            label=plain("Due date"),
            optional=True,
            element=DatePickerElement(action_id="value"),
        ),
    ]
    return View(
        type="modal",
        callback_id=IntakeCallback.ACCEPT,
        title=plain(f"Accept {target.key}", 24),
        submit=plain("Accept", 24),
        close=plain("Cancel", 24),
        private_metadata=TriageMeta(target.id, refresh=refresh).dump(),
        blocks=blocks,
    )


def _note_modal(
    callback_id: str,
    title: str,
    submit: str,
    meta: TriageMeta,
    shown: list[Block],
    block_id: str,
    label: str,
    hint: str,
) -> View:
    """A triage modal that shows `shown` and asks for one note (a reason, a question, an answer)."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=plain(title, 24),
        submit=plain(submit, 24),
        close=plain("Cancel", 24),
        private_metadata=meta.dump(),
        blocks=[
            *shown,
            InputBlock(
                block_id=block_id,
                label=plain(label),
                hint=plain(hint),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=NOTE_LIMIT),
            ),
        ],
    )


def _request_line(key: str, title: str) -> Block:
    return section(f"*{mrkdwn.escape(key)}* {mrkdwn.escape(title)}")


def decline_modal(target: TriageTarget, refresh: str = "") -> View:
    return _note_modal(
        IntakeCallback.DECLINE,
        f"Decline {target.key}",
        "Decline",
        TriageMeta(target.id, refresh=refresh),
        [_request_line(target.key, target.title)],
        DeclineBlock.REASON,
        "Why",
        "The requester gets this in a DM.",
    )


def ask_modal(target: TriageTarget) -> View:
    return _note_modal(
        IntakeCallback.ASK,
        "Ask for info",
        "Send",
        TriageMeta(target.id, secrets.token_urlsafe(12)),
        [_request_line(target.key, target.title)],
        AskBlock.QUESTION,
        "Your question",
        "Sent to the requester in a DM; the request stays in the queue.",
    )


@dataclass(frozen=True)
class Accepted:
    card: RequestCard
    first_checkin: datetime  # UTC
    owner_zone: str


def accepted_for_requester(result: Accepted) -> str:
    card = result.card
    due = f", due {mrkdwn.date_text(card.due_date)}" if card.due_date else ""
    return (
        f":white_check_mark: Your request *{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)} was "
        f"accepted by {mrkdwn.user(card.decided_by)}. {mrkdwn.user(card.owner_id)} owns it{due}."
    )


def accepted_for_owner(result: Accepted) -> str:
    card = result.card
    cadence = Cadence.parse(card.cadence).describe() if card.cadence else ""
    due = f" It is due {mrkdwn.date_text(card.due_date)}." if card.due_date else ""
    requested = (
        "your request"
        if card.requester_id == card.owner_id
        else f"requested by {mrkdwn.user(card.requester_id)}"
    )
    return (
        f":handshake: You own *{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)} now ({requested}, "
        f"accepted by {mrkdwn.user(card.decided_by)}; OKR {okr_label(card)}). I'll ask you how it is going "
        f"{cadence} ({mrkdwn.escape(result.owner_zone)} time); the first check-in is "
        f"{slack_time(result.first_checkin)}.{due}"
    )


def declined_for_requester(card: RequestCard) -> str:
    return (
        f":no_entry_sign: Your request *{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)} was declined "
        f"by {mrkdwn.user(card.decided_by)}: {mrkdwn.escape(card.decline_reason or '')}"
    )


def _quote(text: str) -> str:
    return "\n".join(f">{line}" for line in mrkdwn.escape(text).splitlines() or [""])


def question_for_requester(
    card: RequestCard, initiative_id: int, asker_id: str, question: str
) -> tuple[str, list[Block]]:
    """The question from triage, in the requester's DM, with a button to answer it. (text, blocks)"""
    text = (
        f":question: {mrkdwn.user(asker_id)} has a question about your request *{mrkdwn.escape(card.key)}* "
        f"{mrkdwn.escape(card.title)}:\n{_quote(question)}"
    )
    blocks: list[Block] = [
        section(text),
        ActionsBlock(
            block_id=f"answer_{initiative_id}",
            elements=[
                ButtonElement(
                    action_id=RequestAction.ANSWER,
                    text=plain("Answer"),
                    value=str(initiative_id),
                    style="primary",
                )
            ],
        ),
        context(
            f"Your answer goes to {mrkdwn.user(asker_id)} and under the triage post. The request stays "
            "in the triage queue meanwhile."
        ),
    ]
    return text, blocks


def question_in_thread(card: RequestCard, asker_id: str, question: str) -> str:
    return (
        f":question: {mrkdwn.user(asker_id)} asked {mrkdwn.user(card.requester_id)} for more information:\n"
        f"{_quote(question)}"
    )


@dataclass(frozen=True)
class AnswerTarget:
    """A question from triage the requester may answer: what the answer modal shows."""

    id: int
    key: str
    title: str
    asker_id: str
    question: str


def answer_modal(target: AnswerTarget) -> View:
    return _note_modal(
        IntakeCallback.ANSWER,
        "Answer triage",
        "Send",
        TriageMeta(target.id, secrets.token_urlsafe(12)),
        [
            _request_line(target.key, target.title),
            section(f"{mrkdwn.user(target.asker_id)} asked:\n{_quote(target.question)}"),
        ],
        AnswerBlock.ANSWER,
        "Your answer",
        "Posted under the triage post, and sent to whoever asked.",
    )


def answer_in_thread(card: RequestCard, answer: str) -> str:
    return f":speech_balloon: {mrkdwn.user(card.requester_id)} answered:\n{_quote(answer)}"


def answered_text(card: RequestCard) -> str:
    return (
        f"Your answer about *{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)} was sent. "
        "It is waiting for triage."
    )


def answer_for_asker(card: RequestCard, answer: str) -> str:
    return (
        f":speech_balloon: {mrkdwn.user(card.requester_id)} answered your question about "
        f"*{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)}:\n{_quote(answer)}\n"
        "Accept or decline it from the triage post or `/initiative queue`."
    )


def decided_modal(text: str) -> View:
    return View(type="modal", title=plain("Done", 24), close=plain("Close", 24), blocks=[section(text)])


# -- the queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    id: int
    key: str
    title: str
    okr_key: str
    priority: int
    impact_level: int
    requester_id: str
    created_at: datetime
    can_triage: bool

    @property
    def weight(self) -> int:
        return self.priority * self.impact_level


def age(created_at: datetime, now: datetime) -> str:
    elapsed = max(now - created_at, timedelta(0))
    if elapsed < timedelta(hours=1):
        return f"{int(elapsed.total_seconds() // 60)}m"
    if elapsed < timedelta(days=1):
        return f"{int(elapsed.total_seconds() // 3600)}h"
    return f"{elapsed.days}d"


def queue(items: Sequence[QueueItem], total: int, now: datetime) -> tuple[str, list[Block]]:
    """The reply to `/initiative queue`: proposed requests by strategic weight, then age."""
    if not items:
        text = "No requests are waiting for triage."
        return text, [section(f":sparkles: {text} `/request` starts one.")]
    blocks: list[Block] = [section(f"*Triage queue* · {total} waiting, ranked by strategic weight, then age")]
    for rank, item in enumerate(items, start=1):
        blocks.append(
            section(
                f"*{rank}.* *{mrkdwn.escape(item.key)}* {mrkdwn.escape(item.title)}\n"
                f"{mrkdwn.escape(item.okr_key)} · weight {item.weight} "
                f"(priority {item.priority} × {IMPACT_LEVELS.get(item.impact_level, '?')} impact) · "
                f"{age(item.created_at, now)} old · from {mrkdwn.user(item.requester_id)}"
            )
        )
        if item.can_triage:
            blocks.append(triage_buttons(f"queue_{item.id}", item.id, ask=False))
    if total > len(items):
        blocks.append(context(f"…and {total - len(items)} more below these."))
    return f"{total} request(s) waiting for triage", blocks

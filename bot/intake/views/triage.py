"""The triage post, and the decision modals (accept, decline, ask for info, answer)."""

from __future__ import annotations

import secrets
from datetime import datetime, time

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, md, plain, section
from bot.core import mrkdwn
from bot.core.calendar import WEEKDAY_NAMES, WEEKDAYS, Cadence, CadenceKind
from bot.core.mrkdwn import Mrkdwn, truncate
from bot.intake.models import (
    IMPACT_LEVELS,
    NOTE_LIMIT,
    AcceptBlock,
    AnswerBlock,
    AnswerTarget,
    AskBlock,
    DeclineBlock,
    IntakeCallback,
    RequestCard,
    TriageAction,
    TriageMeta,
    TriageTarget,
)
from storage.models import InitiativeState

# -- the triage post ------------------------------------------------------------------------------


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


# -- decisions ------------------------------------------------------------------------------------


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


def quote(text: str) -> str:
    return "\n".join(f">{line}" for line in mrkdwn.escape(text).splitlines() or [""])


def answer_modal(target: AnswerTarget) -> View:
    return _note_modal(
        IntakeCallback.ANSWER,
        "Answer triage",
        "Send",
        TriageMeta(target.id, secrets.token_urlsafe(12)),
        [
            _request_line(target.key, target.title),
            section(f"{mrkdwn.user(target.asker_id)} asked:\n{quote(target.question)}"),
        ],
        AnswerBlock.ANSWER,
        "Your answer",
        "Posted under the triage post, and sent to whoever asked.",
    )


def decided_modal(text: str) -> View:
    return View(type="modal", title=plain("Done", 24), close=plain("Close", 24), blocks=[section(text)])

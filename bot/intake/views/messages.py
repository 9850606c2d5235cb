"""The messages a requester, an owner and whoever asked get, and the notes under the triage post."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blockkit.blocks import context, plain, section
from bot.core import mrkdwn
from bot.core.calendar import Cadence
from bot.intake.models import Accepted, RequestAction, RequestCard
from bot.intake.views.triage import okr_label, quote, slack_time


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


def question_for_requester(
    card: RequestCard, initiative_id: int, asker_id: str, question: str
) -> tuple[str, list[Block]]:
    """The question from triage, in the requester's DM, with a button to answer it. (text, blocks)"""
    text = (
        f":question: {mrkdwn.user(asker_id)} has a question about your request *{mrkdwn.escape(card.key)}* "
        f"{mrkdwn.escape(card.title)}:\n{quote(question)}"
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
        f"{quote(question)}"
    )


def answer_in_thread(card: RequestCard, answer: str) -> str:
    return f":speech_balloon: {mrkdwn.user(card.requester_id)} answered:\n{quote(answer)}"


def answered_text(card: RequestCard) -> str:
    return (
        f"Your answer about *{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)} was sent. "
        "It is waiting for triage."
    )


def answer_for_asker(card: RequestCard, answer: str) -> str:
    return (
        f":speech_balloon: {mrkdwn.user(card.requester_id)} answered your question about "
        f"*{mrkdwn.escape(card.key)}* {mrkdwn.escape(card.title)}:\n{quote(answer)}\n"
        "Accept or decline it from the triage post or `/initiative queue`."
    )

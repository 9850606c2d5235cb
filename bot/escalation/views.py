"""Escalation surfaces: the level-1 and level-2 DMs, the governance post (open, acknowledged,
snoozed, resolved), the resolve / snooze modals, and `/initiative stalled`.

The level-1 and level-2 DMs also carry the dependency's own buttons (Renegotiate date, Mark met):
their ids are here, with the ladder's; bot.dependencies answers them and builds their modal."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import MESSAGE_BLOCKS, context, header, plain, section
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS
from bot.core import mrkdwn
from bot.core.mrkdwn import truncate
from bot.escalation.models import EscalationCard, Side, StallLine


class EscalationAction(StrEnum):
    UPDATE = "checkin_update"  # the check-in feature's button: value {"initiative": "<provider key>"}
    RENEGOTIATE = "dependency_renegotiate"  # value {"dependency": <id>}
    MARK_MET = "dependency_mark_met"  # value {"dependency": <id>}
    ACKNOWLEDGE = "escalation_acknowledge"  # value {"escalation": <id>}
    RESOLVE = "escalation_resolve"  # value {"escalation": <id>}
    SNOOZE = "escalation_snooze"  # value {"escalation": <id>}


class EscalationCallback(StrEnum):
    RENEGOTIATE = "dependency_renegotiate_modal"
    RESOLVE = "escalation_resolve_modal"
    SNOOZE = "escalation_snooze_modal"


class EscalationBlock(StrEnum):
    FACTS = "escalation_facts"
    AFFECTED = "escalation_affected"
    CHECKINS = "escalation_checkins"
    STATUS = "escalation_status"
    ACTIONS = "escalation_actions"
    NEEDED_BY = "renegotiate_needed_by"
    REASON = "renegotiate_reason"
    HOW = "resolve_how"
    UNTIL = "snooze_until"
    SNOOZE_REASON = "snooze_reason"


# -- pieces ----------------------------------------------------------------------------------------


def _day(value: datetime | date | None, tz: ZoneInfo) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(tz).date()
    return mrkdwn.date_text(value)


def _days(n: int) -> str:
    return f"{n} business day{'s' if n != 1 else ''}"


def side_label(side: Side) -> str:
    """`*REQ-2* Rate limits`, or `the Platform team`."""
    if side.key:
        return f"*{mrkdwn.escape(side.key)}* {mrkdwn.escape(side.title)}"
    return f"the {mrkdwn.escape(side.team)} team"


def _side_plain(side: Side) -> str:
    return side.key or f"the {side.team} team"


def _side_detail(side: Side) -> str:
    parts = []
    if side.key:
        parts.append(f"owner {mrkdwn.user(side.owner_id)}")
    if side.contact_id:
        parts.append(f"contact {mrkdwn.user(side.contact_id)}")
    if side.okr_key:
        parts.append(f"{mrkdwn.escape(side.okr_key)} {mrkdwn.escape(side.okr_title)}".rstrip())
    return f" ({' · '.join(parts)})" if parts else ""


def _what(card: EscalationCard) -> str:
    what = f" for: {mrkdwn.escape(truncate(card.what, 300))}" if card.what else ""
    by = f" · needed by {mrkdwn.date_text(card.needed_by)}" if card.needed_by else ""
    return what + by


def _relation(card: EscalationCard) -> str:
    return (
        f"{side_label(card.waiter)}{_side_detail(card.waiter)} waits on "
        f"{side_label(card.provider)}{_side_detail(card.provider)}{_what(card)}"
    )


def _checkins(card: EscalationCard) -> str | None:
    if not card.provider.key:
        return None
    title = f"*Last check-ins on {mrkdwn.escape(card.provider.key)}*"
    missed = f" · missed the last {card.provider_misses}" if card.provider_misses and card.checkins else ""
    if not card.checkins:
        tail = f" (missed {card.provider_misses} in a row)" if card.provider_misses else ""
        return f"{title}: none yet{tail}"
    lines = []
    for item in card.checkins:
        words = "done" if item.done else HEALTH_WORDS[item.health]
        icon = ":white_check_mark:" if item.done else HEALTH_ICON[item.health]
        line = f"• {_day(item.at, card.tz)} · {mrkdwn.user(item.author_id)} · {icon} {words}"
        if item.moved:
            line += f" — moved: {mrkdwn.escape(truncate(item.moved, 200))}"
        if item.blockers:
            line += f" — blockers: {mrkdwn.escape(truncate(item.blockers, 200))}"
        lines.append(line)
    return f"{title}{missed}\n" + "\n".join(lines)


def _value(**data: object) -> str:
    return json.dumps(data)


def _button(text: str, action: EscalationAction, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=plain(text, 75), action_id=action.value, value=value, style=style)


def update_button(initiative_key: str) -> ButtonElement:
    """The shared check-in button (handled by the check-in feature)."""
    return _button("Update", EscalationAction.UPDATE, _value(initiative=initiative_key), "primary")


def _dependency_buttons(card: EscalationCard) -> list[ButtonElement]:
    value = _value(dependency=card.dependency_id)
    return [
        _button("Renegotiate date", EscalationAction.RENEGOTIATE, value),
        _button("Mark met", EscalationAction.MARK_MET, value),
    ]


def _handling_buttons(card: EscalationCard) -> list[ButtonElement]:
    value = _value(escalation=card.escalation_id)
    return [
        _button("Acknowledge", EscalationAction.ACKNOWLEDGE, value, "primary"),
        _button("Resolve", EscalationAction.RESOLVE, value),
        _button("Snooze", EscalationAction.SNOOZE, value),
    ]


def _next_steps(card: EscalationCard) -> str:
    who = mrkdwn.user(card.lead_id) if card.lead_id else "the OKR owner"
    where = mrkdwn.channel(card.channel) if card.channel else "governance"
    return (
        f"If it stays stalled, {who} is asked in {_days(card.level2_days)} and {where} in "
        f"{_days(card.level3_days)}. It ends by itself when the cause goes away."
    )


def _status_lines(card: EscalationCard) -> list[str]:
    told = " and ".join(mrkdwn.user(u) for u in card.told)
    lines = [f"Level {card.level} · {told} told on {_day(card.opened_at, card.tz)}"]
    if card.level >= 2 and card.lead_id:
        lines[0] += f" · {mrkdwn.user(card.lead_id)} asked as {mrkdwn.escape(card.lead_as)}"
    if card.acknowledged_by:
        lines.append(
            f":eyes: Acknowledged by {mrkdwn.user(card.acknowledged_by)} on "
            f"{_day(card.acknowledged_at, card.tz)}"
        )
    if card.snoozed_until and not card.resolved:
        lines.append(
            f":zzz: Snoozed until {_day(card.snoozed_until, card.tz)}: {mrkdwn.escape(card.snooze_reason)}"
        )
    return lines


def _resolution(card: EscalationCard) -> str:
    how = mrkdwn.escape(card.resolution or "")
    when = _day(card.resolved_at, card.tz)
    if card.resolved_by:
        return f":white_check_mark: *Resolved* by {mrkdwn.user(card.resolved_by)} on {when}: {how}"
    return f":white_check_mark: *Resolved by itself* on {when}: {how}"


# -- the ladder's messages -------------------------------------------------------------------------


def level1_dm(card: EscalationCard, recipient: str) -> tuple[str, list[Block]]:
    """Level 1, to one of the people on either side: the facts, and Update (for the provider's
    owner) / Renegotiate date / Mark met."""
    text = (
        f":warning: {mrkdwn.escape(_side_plain(card.waiter))} waits on "
        f"{mrkdwn.escape(_side_plain(card.provider))}, and it has stalled: {mrkdwn.escape(card.reason)}"
    )
    blocks: list[Block] = [
        section(
            f":warning: *A dependency has stalled.*\n{_relation(card)}\n*Why:* {mrkdwn.escape(card.reason)}",
            block_id=EscalationBlock.FACTS,
        )
    ]
    checkins = _checkins(card)
    if checkins:
        blocks.append(section(checkins, block_id=EscalationBlock.CHECKINS))
    blocks.append(context(_next_steps(card)))
    buttons = _dependency_buttons(card)
    if card.provider.key and recipient == card.provider.owner_id:
        buttons.insert(0, update_button(card.provider.key))
    blocks.append(ActionsBlock(block_id=EscalationBlock.ACTIONS, elements=buttons))
    return text, blocks


def level2_dm(card: EscalationCard) -> tuple[str, list[Block]]:
    """Level 2, to the providing team's lead or the OKR owner."""
    told = " and ".join(mrkdwn.user(u) for u in card.told)
    text = (
        f":rotating_light: {mrkdwn.escape(_side_plain(card.waiter))} has been held up by "
        f"{mrkdwn.escape(_side_plain(card.provider))} for {_days(card.age_days)}: "
        f"{mrkdwn.escape(card.reason)}"
    )
    where = mrkdwn.channel(card.channel) if card.channel else "governance"
    remaining = max(card.level3_days - card.age_days, 0)
    blocks: list[Block] = [
        section(
            f":rotating_light: *A stalled dependency needs you*, as {mrkdwn.escape(card.lead_as)}.\n"
            f"{_relation(card)}\n*Why:* {mrkdwn.escape(card.reason)}\n"
            f"*Stalled since* {_day(card.opened_at, card.tz)} ({_days(card.age_days)}). "
            f"{told} were told then; it is still not resolved.",
            block_id=EscalationBlock.FACTS,
        )
    ]
    checkins = _checkins(card)
    if checkins:
        blocks.append(section(checkins, block_id=EscalationBlock.CHECKINS))
    blocks.append(context(f"In {_days(remaining)} it goes to {where}, unless it is resolved or snoozed."))
    blocks.append(
        ActionsBlock(
            block_id=EscalationBlock.ACTIONS, elements=[*_handling_buttons(card), *_dependency_buttons(card)]
        )
    )
    return text, blocks


def _post_blocks(card: EscalationCard, *, buttons: bool) -> list[Block]:
    title = f"{_side_plain(card.waiter)} waits on {_side_plain(card.provider)}"
    blocks: list[Block] = [
        header(("Resolved: " if card.resolved else "Stalled: ") + title),
        section(
            f"{_relation(card)}\n*Stalled since* {_day(card.opened_at, card.tz)} "
            f"({_days(card.age_days)}): {mrkdwn.escape(card.reason)}",
            block_id=EscalationBlock.FACTS,
        ),
    ]
    if card.affected:
        lines = [
            f"• *{mrkdwn.escape(a.key)}* {mrkdwn.escape(truncate(a.title, 100))} — "
            f"{mrkdwn.escape(a.okr_key)} {mrkdwn.escape(truncate(a.okr_title, 100))}"
            for a in card.affected[:15]
        ]
        if len(card.affected) > 15:
            lines.append(f"…and {len(card.affected) - 15} more")
        blocks.append(
            section("*Affected downstream*\n" + "\n".join(lines), block_id=EscalationBlock.AFFECTED)
        )
    checkins = _checkins(card)
    if checkins:
        blocks.append(section(checkins, block_id=EscalationBlock.CHECKINS))
    status = _status_lines(card)
    if card.resolved:
        blocks.append(section(_resolution(card), block_id=EscalationBlock.STATUS))
        blocks.append(context(*status))
    else:
        blocks.append(context(*status))
        if buttons:
            blocks.append(ActionsBlock(block_id=EscalationBlock.ACTIONS, elements=_handling_buttons(card)))
    return blocks


def governance_post(card: EscalationCard) -> tuple[str, list[Block]]:
    """Level 3: the post in the governance channel, and every later version of it (acknowledged,
    snoozed, resolved), edited in place."""
    relation = (
        f"{mrkdwn.escape(_side_plain(card.waiter))} waits on {mrkdwn.escape(_side_plain(card.provider))}"
    )
    if card.resolved:
        text = f":white_check_mark: Resolved: {relation}"
    else:
        text = f":rotating_light: Stalled since {_day(card.opened_at, card.tz)}: {relation}"
    return text, _post_blocks(card, buttons=True)


def no_governance_channel(card: EscalationCard) -> tuple[str, list[Block]]:
    """Level 3 with nowhere to post: the admins get the post's content and how to fix it."""
    text = (
        f":rotating_light: A stalled dependency reached governance, but no governance channel is set: "
        f"{mrkdwn.escape(_side_plain(card.waiter))} waits on {mrkdwn.escape(_side_plain(card.provider))}"
    )
    blocks = _post_blocks(card, buttons=False)
    blocks.append(
        context(
            ":gear: No governance channel is configured, so this comes to you, the admins. Set "
            "`THROUGHLINE_GOVERNANCE_CHANNEL` (or an OKR's own governance channel) to post these there."
        )
    )
    return text, blocks


def resolved_dm_text(card: EscalationCard) -> str:
    """To the waiting side when the escalation ends."""
    base = (
        f":white_check_mark: {side_label(card.provider)} no longer holds up {side_label(card.waiter)}"
        f"{_what(card)}."
    )
    how = mrkdwn.escape(card.resolution or "")
    if card.resolved_by:
        return f"{base} Resolved by {mrkdwn.user(card.resolved_by)}: {how}"
    return f"{base} Resolved by itself: {how}"


def snooze_ended_text(card: EscalationCard) -> str:
    return (
        f":alarm_clock: The snooze is over and {side_label(card.waiter)} still waits on "
        f"{side_label(card.provider)}: {mrkdwn.escape(card.reason)}"
    )


# -- replies to the person who pressed a button ------------------------------------------------------


def acknowledged_reply(card: EscalationCard) -> str:
    return (
        f":eyes: You're recorded as looking after {mrkdwn.escape(_side_plain(card.waiter))} → "
        f"{mrkdwn.escape(_side_plain(card.provider))}. The escalation goes on until the cause goes away "
        "or someone resolves it."
    )


def resolved_reply(card: EscalationCard) -> str:
    return (
        f":white_check_mark: Resolved: {mrkdwn.escape(_side_plain(card.waiter))} → "
        f"{mrkdwn.escape(_side_plain(card.provider))}. The waiting side has been told."
    )


def snoozed_reply(card: EscalationCard) -> str:
    return f":zzz: Snoozed until {_day(card.snoozed_until, card.tz)}: it won't climb before then."


# -- modals ----------------------------------------------------------------------------------------


def resolve_modal(card: EscalationCard) -> View:
    return View(
        type="modal",
        callback_id=EscalationCallback.RESOLVE,
        private_metadata=_value(escalation=card.escalation_id),
        title=plain("Resolve escalation", 24),
        submit=plain("Resolve", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(f"{_relation(card)}\n*Why it stalled:* {mrkdwn.escape(card.reason)}"),
            InputBlock(
                block_id=EscalationBlock.HOW,
                label=plain("How was it resolved?"),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            ),
        ],
    )


def snooze_modal(card: EscalationCard) -> View:
    return View(
        type="modal",
        callback_id=EscalationCallback.SNOOZE,
        private_metadata=_value(escalation=card.escalation_id),
        title=plain("Snooze escalation", 24),
        submit=plain("Snooze", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(
                f"{_relation(card)}\nWhile snoozed it does not climb; the post shows the snooze and why."
            ),
            InputBlock(
                block_id=EscalationBlock.UNTIL,
                label=plain("Snooze until"),
                element=DatePickerElement(action_id="value"),
            ),
            InputBlock(
                block_id=EscalationBlock.SNOOZE_REASON,
                label=plain("Why it can wait"),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=500),
            ),
        ],
    )


# -- /initiative stalled ---------------------------------------------------------------------------


def stalled_list(lines: list[StallLine], tz: ZoneInfo) -> tuple[str, list[Block]]:
    if not lines:
        text = "Nothing is stalled right now."
        return text, [section(f":white_check_mark: {text}")]
    blocks: list[Block] = [header(f"Stalled dependencies ({len(lines)})")]
    for item in lines[: MESSAGE_BLOCKS - 2]:
        provider = (
            f"*{mrkdwn.escape(item.provider_key)}* {mrkdwn.escape(truncate(item.provider_title or '', 80))}"
            if item.provider_key
            else f"the {mrkdwn.escape(item.provider_team)} team"
        )
        level = "resolved by hand, still stalled" if item.level is None else f"level {item.level}"
        facts = [
            mrkdwn.escape(item.reason),
            f"stalled {_days(item.age_days)} (since {_day(item.stalled_since, tz)})",
            level,
        ]
        if item.acknowledged_by:
            facts.append(f"acknowledged by {mrkdwn.user(item.acknowledged_by)}")
        if item.snoozed_until:
            facts.append(f"snoozed until {_day(item.snoozed_until, tz)}")
        blocks.append(
            section(
                f"*{mrkdwn.escape(item.waiter_key)}* {mrkdwn.escape(truncate(item.waiter_title, 80))} "
                f"waits on {provider}\n" + " · ".join(facts)
            )
        )
    return f"{len(lines)} stalled dependenc{'y' if len(lines) == 1 else 'ies'}", blocks

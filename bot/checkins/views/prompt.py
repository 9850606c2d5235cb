"""The check-in DM (and its reminder), and the pieces every check-in surface shares.

Shared entry point others render: `update_button(key)` — a button with action id `checkin_update`
and value `{"initiative": "REQ-17"}` (optionally `"checkin": <id>`) that opens the Update modal from
any container (a message, an ephemeral reply, the App Home, a modal).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject

from bot.blockkit.blocks import MESSAGE_BLOCKS, context, md, plain, section
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS
from bot.checkins.models import Metric, SlotItem, SlotMessage
from bot.core import mrkdwn
from bot.core.mrkdwn import Mrkdwn
from bot.trackers import views as tracker_views
from storage.models import CheckinStatus, Health, InitiativeState


class CheckinAction(StrEnum):
    ON_TRACK = "checkin_on_track"
    AT_RISK = "checkin_at_risk"
    BLOCKED = "checkin_blocked"
    DONE = "checkin_done"
    UPDATE = "checkin_update"  # opens the Update modal; value {"initiative": KEY[, "checkin": ID]}
    WAITING_ON = "checkin_waiting_on"  # the Update modal's external select (options load)


QUICK_ANSWERS = (CheckinAction.ON_TRACK, CheckinAction.AT_RISK, CheckinAction.BLOCKED, CheckinAction.DONE)
QUICK_LABELS = {
    CheckinAction.ON_TRACK: "On track",
    CheckinAction.AT_RISK: "At risk",
    CheckinAction.BLOCKED: "Blocked",
    CheckinAction.DONE: "Done",
}
ITEMS_PER_MESSAGE = 22  # two blocks each, plus the intro and the footer, under Slack's 50


# -- shared pieces ---------------------------------------------------------------------------------


def update_button(
    initiative_key: str, checkin_id: int | None = None, label: str = "Update…"
) -> ButtonElement:
    """The button that opens the Update modal for `initiative_key`, from any surface."""
    value: dict[str, Any] = {"initiative": initiative_key}
    if checkin_id is not None:
        value["checkin"] = checkin_id
    return ButtonElement(
        text=plain(label, 75), action_id=CheckinAction.UPDATE, value=json.dumps(value, separators=(",", ":"))
    )


def answer_buttons(item: SlotItem, block_id: str | None = None) -> ActionsBlock:
    """On track / At risk / Blocked / Done for one pending check-in."""
    value = json.dumps({"checkin": item.checkin_id, "initiative": item.initiative_key}, separators=(",", ":"))
    buttons = []
    for action in QUICK_ANSWERS:
        style = {CheckinAction.ON_TRACK: "primary", CheckinAction.BLOCKED: "danger"}.get(action)
        confirm = None
        if action is CheckinAction.DONE:
            confirm = ConfirmObject(
                title=plain("Mark it done?", 100),
                text=md(f"*{mrkdwn.escape(item.initiative_key)}* is closed and check-ins on it stop."),
                confirm=plain("Done", 30),
                deny=plain("Not yet", 30),
            )
        buttons.append(
            ButtonElement(
                text=plain(QUICK_LABELS[action], 75),
                action_id=action,
                value=value,
                style=style,
                confirm=confirm,
            )
        )
    return ActionsBlock(block_id=block_id or f"ci_{item.checkin_id}_answer", elements=buttons)


def when(at: datetime | None, tz: ZoneInfo) -> Mrkdwn:
    """An instant in the viewer's zone."""
    return mrkdwn.date_text(at.astimezone(tz) if at else None)


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def metric_text(metric: Metric, value: float | None = None) -> str:
    unit = f" {mrkdwn.escape(metric.unit)}" if metric.unit else ""
    shown = metric.current if value is None else value
    target = f" of {number(metric.target)}" if metric.target is not None else ""
    return f"{number(shown)}{target}{unit}"


def health_text(health: Health | None) -> str:
    return f"{HEALTH_ICON[health]} {HEALTH_WORDS[health]}"


def _recorded(item: SlotItem, tz: ZoneInfo) -> str:
    answer = item.answer
    assert answer is not None
    if answer.done:
        what = ":checkered_flag: *done*"
    else:
        what = f"{HEALTH_ICON[answer.health]} *{HEALTH_WORDS[answer.health]}*"
    extra = ""
    if answer.progress_pct is not None:
        extra += f" · {answer.progress_pct}%"
    if answer.metric_value is not None and item.metric is not None:
        extra += f" · {mrkdwn.escape(item.metric.okr_key)} → {metric_text(item.metric, answer.metric_value)}"
    corrected = " (corrected since)" if answer.count > 1 else ""
    return f"{what}{extra}, by {mrkdwn.user(answer.author_id)} on {when(answer.at, tz)}{corrected}"


def item_status(item: SlotItem, tz: ZoneInfo) -> str:
    """One line saying where this check-in stands."""
    if item.status == CheckinStatus.ANSWERED and item.answer is not None:
        return f":white_check_mark: Recorded {_recorded(item, tz)}"
    if item.current_owner_id != item.owner_id and item.status in (
        CheckinStatus.PENDING,
        CheckinStatus.EXCUSED,
    ):
        return f":arrow_right: Handed over to {mrkdwn.user(item.current_owner_id)}: nothing to answer."
    if item.state != InitiativeState.ACTIVE and item.status in (CheckinStatus.PENDING, CheckinStatus.EXCUSED):
        key = mrkdwn.escape(item.initiative_key)
        return f":information_source: {key} is {item.state.value}: nothing to answer."
    if item.status == CheckinStatus.MISSED:
        later = f" Later update: {_recorded(item, tz)}" if item.answer else ""
        return f":x: Missed: no answer before the next check-in.{later}"
    if item.status == CheckinStatus.SNOOZED:
        return f":zzz: Snoozed: {mrkdwn.escape(item.note or '')}"
    if item.status == CheckinStatus.EXCUSED:
        return f":palm_tree: Excused: {mrkdwn.escape(item.note or 'out of office')}"
    now = health_text(item.health) if item.health else "no check-in yet"
    progress = f" · {item.progress_pct}%" if item.progress_pct is not None else ""
    return f"Last: {now}{progress}"


def item_text(item: SlotItem, tz: ZoneInfo) -> str:
    kr = f":dart: {mrkdwn.escape(item.okr_key)} {mrkdwn.escape(item.okr_title)}"
    if item.metric is not None:
        kr += f" · now {metric_text(item.metric)}"
    text = (
        f"*{mrkdwn.escape(item.initiative_key)}* {mrkdwn.escape(item.title)}\n{kr}\n{item_status(item, tz)}"
    )
    if item.moved:
        text += "\n*Moved in the linked work since the last check-in:*\n" + "\n".join(
            tracker_views.move_lines(list(item.moved))
        )
        if item.answerable:
            text += "\n_A quick answer below records this as what moved; *Update…* corrects it._"
    return text


def item_blocks(item: SlotItem, tz: ZoneInfo) -> list[Block]:
    """An initiative in a check-in: what it is, where it stands, its buttons (for any surface)."""
    accessory = update_button(item.initiative_key, item.checkin_id) if item.updatable else None
    blocks: list[Block] = [
        section(item_text(item, tz), block_id=f"ci_{item.checkin_id}", accessory=accessory)
    ]
    if item.answerable:
        blocks.append(answer_buttons(item))
    return blocks


def _how(items: list[SlotItem]) -> str:
    """The notification's question: "how is REQ-1 going?", "how are REQ-1 and REQ-2 going?"."""
    return f"how {'is' if len(items) == 1 else 'are'} {_keys(items)} going?"


def _keys(items: list[SlotItem]) -> str:
    keys = [mrkdwn.escape(i.initiative_key) for i in items]
    if len(keys) > 5:
        return ", ".join(keys[:5]) + f" and {len(keys) - 5} more"
    if len(keys) <= 1:
        return "".join(keys) or "your initiatives"
    return ", ".join(keys[:-1]) + " and " + keys[-1]


# -- the DM ----------------------------------------------------------------------------------------


def slot_message(message: SlotMessage, *, reminder: bool = False) -> tuple[str, list[Block]]:
    """The check-in DM for one owner and slot (or its reminder): (fallback text, blocks)."""
    tz = message.tz
    open_items = [i for i in message.items if i.answerable]
    slot = when(message.slot_at, tz)
    if reminder:
        text = f"Reminder: {_how(open_items or message.items)}"
        intro = f":bell: *Reminder:* I asked on {slot} and haven't heard back yet. How is it going?"
    else:
        text = f"Check-in: {_how(message.items)}"
        intro = f":wave: *Time for a check-in* ({slot}). How is it going?"
    if not open_items:
        thanks = " Thank you!" if any(i.status == CheckinStatus.ANSWERED for i in message.items) else ""
        intro += f"\n:white_check_mark: Nothing left to answer here.{thanks}"
    blocks: list[Block] = [section(intro, block_id="ci_intro")]
    shown = message.items[:ITEMS_PER_MESSAGE]
    for item in shown:
        blocks += item_blocks(item, tz)
    footer = [
        "Pick how it's going, or *Update…* for progress, what moved, blockers and the next milestone.",
        "`/checkin` lists what is open · `/checkin snooze KEY reason` skips one · `/checkin help`",
    ]
    if len(message.items) > len(shown):
        footer.insert(0, f"…and {len(message.items) - len(shown)} more: `/checkin` lists them all.")
    blocks.append(context(*footer))
    assert len(blocks) <= MESSAGE_BLOCKS
    return text, blocks

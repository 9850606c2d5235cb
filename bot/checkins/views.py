"""Check-in surfaces: the DM (and its reminder), `/checkin`, the Update modal, confirmations.

Shared entry point others render: `update_button(key)` — a button with action id `checkin_update`
and value `{"initiative": "REQ-17"}` (optionally `"checkin": <id>`) that opens the Update modal from
any container (a message, an ephemeral reply, the App Home, a modal).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    OptionGroup,
    PlainTextInputElement,
    RadioButtonsElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import MESSAGE_BLOCKS, context, header, md, plain, section
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS
from bot.core import mrkdwn
from bot.core.mrkdwn import Mrkdwn
from storage.models import CheckinStatus, Health, InitiativeState

if TYPE_CHECKING:
    from bot.checkins.answers import Answered, ProviderOptions, UpdateForm
    from bot.checkins.command import Outcome
    from bot.checkins.service import (
        CadenceChanged,
        Cancelled,
        Metric,
        MyCheckins,
        OutOfOffice,
        Reassigned,
        SlotItem,
        SlotMessage,
        Snoozed,
    )


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


class UpdateBlock(StrEnum):
    """Input block ids of the Update modal (errors land on these)."""

    HEALTH = "checkin_health"
    PROGRESS = "checkin_progress"
    METRIC = "checkin_metric"
    MOVED = "checkin_moved"
    BLOCKERS = "checkin_blockers"
    BLOCKED_ON = "checkin_blocked_on"
    WAITING_ON = "checkin_waiting_on"
    NEEDED_BY = "checkin_needed_by"
    NEXT_MILESTONE = "checkin_next_milestone"


UPDATE_CALLBACK = "checkin_update"
CHOICES = {"on_track": "On track", "at_risk": "At risk", "blocked": "Blocked", "done": "Done"}
ITEMS_PER_MESSAGE = 22  # two blocks each, plus the intro and the footer, under Slack's 50
MOVED_LIMIT = 3000
BLOCKERS_LIMIT = 500

USAGE = (
    "*Check-ins*\n"
    "• `/checkin` – the check-ins waiting for your answer, with their buttons\n"
    "• `/checkin snooze REQ-17 reason` – skip one check-in of REQ-17 (the open one, or else the next)\n"
    "• `/checkin ooo 2026-04-10 [note]` – out of office through that day: no nudges, nothing missed\n"
    "• `/checkin back` – back early\n"
    "• `/checkin cadence REQ-17 weekly:tue@10:00` – how often REQ-17's owner is asked: "
    "`workdays@09:00`, `weekly:mon@09:00`, `biweekly:mon@09:00`, `monthly:mon@09:00` "
    "(first Monday), or `default`\n"
    "• `/checkin owner REQ-17 @someone` – hand REQ-17 to a new owner\n"
    "• `/checkin cancel REQ-17 reason` – nobody needs it any more: stop asking, close its dependencies\n"
    "Times are in the owner's own time zone; weekends and the workspace's holidays are skipped."
)


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
    return (
        f"*{mrkdwn.escape(item.initiative_key)}* {mrkdwn.escape(item.title)}\n{kr}\n{item_status(item, tz)}"
    )


def item_blocks(item: SlotItem, tz: ZoneInfo) -> list[Block]:
    """An initiative in a check-in: what it is, where it stands, its buttons (for any surface)."""
    accessory = update_button(item.initiative_key, item.checkin_id) if item.updatable else None
    blocks: list[Block] = [
        section(item_text(item, tz), block_id=f"ci_{item.checkin_id}", accessory=accessory)
    ]
    if item.answerable:
        blocks.append(answer_buttons(item))
    return blocks


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
        text = f"Reminder: how are {_keys(open_items or message.items)} going?"
        intro = f":bell: *Reminder:* I asked on {slot} and haven't heard back yet. How is it going?"
    else:
        text = f"Check-in: how are {_keys(message.items)} going?"
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


# -- /checkin ----------------------------------------------------------------------------------------


def my_checkins(mine: MyCheckins) -> tuple[str, list[Block]]:
    """The reply to a bare `/checkin`: what to answer, what comes next."""
    tz = mine.tz
    blocks: list[Block] = [header("Your check-ins")]
    if mine.ooo_until is not None:
        note = f" ({mrkdwn.escape(mine.ooo_note)})" if mine.ooo_note else ""
        blocks.append(
            section(
                f":palm_tree: You're out of office through {mrkdwn.date_text(mine.ooo_until)}{note}: no "
                "nudges until then, nothing counted as missed. `/checkin back` ends it."
            )
        )
    if mine.pending:
        for item in mine.pending:
            slot = f"Asked {when(item.slot_at, tz)}\n"
            blocks.append(
                section(
                    slot + item_text(item, tz),
                    block_id=f"ci_{item.checkin_id}",
                    accessory=update_button(item.initiative_key, item.checkin_id),
                )
            )
            blocks.append(answer_buttons(item))
        if mine.more:
            blocks.append(context(f"…and {mine.more} more; answer these first."))
        text = f"{len(mine.pending) + mine.more} check-in(s) waiting for your answer."
    else:
        blocks.append(section(":white_check_mark: Nothing to answer right now."))
        text = "Nothing to answer right now."
    if mine.upcoming:
        rows = [
            f"• *{mrkdwn.escape(u.initiative_key)}* {mrkdwn.escape(u.title)} – {when(u.at, tz)}"
            for u in mine.upcoming
        ]
        blocks.append(section("*Next check-ins* (your time)\n" + "\n".join(rows)))
    blocks.append(context("`/checkin help` for snooze, out of office, cadence and owner"))
    return text, blocks[:MESSAGE_BLOCKS]


def usage(problem: str | None = None) -> tuple[str, list[Block]]:
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":warning: {problem}"))
    blocks.append(section(USAGE))
    return (problem or "How to use /checkin"), blocks


def snoozed(result: Snoozed) -> str:
    what = "The check-in" if not result.upcoming else "The next check-in"
    follow = f" The one after is on {when(result.next_at, result.tz)}." if result.next_at else ""
    return (
        f":zzz: {what} of *{mrkdwn.escape(result.initiative_key)}* ({when(result.slot_at, result.tz)}) "
        f"is snoozed: {mrkdwn.escape(result.reason)}. It won't count as missed.{follow}"
    )


def out_of_office(result: OutOfOffice) -> str:
    if result.until is None:
        return ":wave: Welcome back! Check-ins resume at their next slot."
    note = f" ({mrkdwn.escape(result.note)})" if result.note else ""
    return (
        f":palm_tree: You're out of office through {mrkdwn.date_text(result.until)}{note}. No check-in "
        "nudges until then; those slots are recorded as excused, not missed. `/checkin back` if you "
        "return early."
    )


def reassigned(result: Reassigned, viewer_tz: ZoneInfo) -> str:
    return (
        f":handshake: {mrkdwn.user(result.new_owner_id)} now owns *{mrkdwn.escape(result.initiative_key)}* "
        f"{mrkdwn.escape(result.title)}; their first check-in is on {when(result.next_at, result.owner_tz)} "
        f"their time ({when(result.next_at, viewer_tz)} yours). Both of you were told."
    )


def cadence_changed(result: CadenceChanged, viewer_tz: ZoneInfo) -> str:
    default = " (the workspace default)" if result.is_default else ""
    return (
        f":calendar: *{mrkdwn.escape(result.initiative_key)}* is now checked in {result.cadence.describe()}"
        f"{default}, in its owner's time zone. Next: {when(result.next_at, result.owner_tz)} their time "
        f"({when(result.next_at, viewer_tz)} yours)."
    )


def cancelled(result: Cancelled) -> str:
    also = (
        f" {result.dependencies} open dependenc{'y' if result.dependencies == 1 else 'ies'} closed with it."
        if result.dependencies
        else ""
    )
    return (
        f":heavy_multiplication_x: *{mrkdwn.escape(result.initiative_key)}* {mrkdwn.escape(result.title)} is "
        f"cancelled: no more check-ins; the requester and the owner are told.{also}"
    )


def answered(result: Answered) -> str:
    """A short confirmation of what was recorded."""
    if result.done:
        what = ":checkered_flag: *done*"
    else:
        what = health_text(result.health) if result.health else "your update"
    fix = " as a correction" if result.correction else ""
    told = ""
    if result.told:
        told = " Told " + ", ".join(mrkdwn.user(u) for u in result.told) + "."
    return f"Recorded {what} for *{mrkdwn.escape(result.initiative_key)}*{fix}.{told}"


# -- the Update modal --------------------------------------------------------------------------------


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def update_modal(form: UpdateForm, *, from_home: bool = False) -> View:
    """Health, progress (or the KR's new value), what moved, what blocks it and on whom, next milestone.
    `from_home`: opened from the App Home, which is re-published once the answer is recorded."""
    tz = form.tz
    lines = [
        f"*{mrkdwn.escape(form.initiative_key)}* {mrkdwn.escape(form.title)}",
        f":dart: {mrkdwn.escape(form.okr_key)} {mrkdwn.escape(form.okr_title)}",
    ]
    if form.health:
        lines.append(f"Now: {health_text(form.health)} since {when(form.health_since, tz)}")
    blocks: list[Block] = [section("\n".join(lines), block_id="cu_intro")]
    if form.answered_by is not None:
        blocks.append(
            context(
                f"The check-in of {when(form.slot_at, tz)} was already answered by "
                f"{mrkdwn.user(form.answered_by)} on {when(form.answered_at, tz)}. This adds a correction; "
                "the first answer is kept."
            )
        )
    elif form.slot_at is not None:
        blocks.append(context(f"Answers the check-in of {when(form.slot_at, tz)}."))

    options = [Option(value=value, label=label) for value, label in CHOICES.items()]
    initial = next((o for o in options if form.health and o.value == form.health.value), None)
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.HEALTH,
            label=plain("How is it going?", 2000),
            element=RadioButtonsElement(
                action_id=UpdateBlock.HEALTH, options=options, initial_option=initial
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.PROGRESS,
            label=plain("Progress (%)", 2000),
            optional=True,
            element=NumberInputElement(
                action_id=UpdateBlock.PROGRESS,
                is_decimal_allowed=False,
                min_value=0,
                max_value=100,
                initial_value=str(form.progress_pct) if form.progress_pct is not None else None,
            ),
        )
    )
    if form.metric is not None:
        metric = form.metric
        unit = f" ({metric.unit})" if metric.unit else ""
        hint = f"Now {number(metric.current)}, target {number(metric.target)}"
        if metric.start is not None:
            hint += f" (from {number(metric.start)})"
        blocks.append(
            InputBlock(
                block_id=UpdateBlock.METRIC,
                label=plain(f"{metric.okr_key}: the metric's new value{unit}", 2000),
                hint=plain(hint, 2000),
                optional=True,
                element=NumberInputElement(action_id=UpdateBlock.METRIC, is_decimal_allowed=True),
            )
        )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.MOVED,
            label=plain("What moved since last time?", 2000),
            optional=True,
            element=PlainTextInputElement(
                action_id=UpdateBlock.MOVED, multiline=True, max_length=MOVED_LIMIT
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.BLOCKERS,
            label=plain("What blocks it?", 2000),
            optional=True,
            element=PlainTextInputElement(
                action_id=UpdateBlock.BLOCKERS, multiline=True, max_length=BLOCKERS_LIMIT
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.BLOCKED_ON,
            label=plain("Blocked on whom?", 2000),
            hint=plain("If they lead a team, a dependency on that team is recorded and they are told.", 2000),
            optional=True,
            element=UserSelectElement(action_id=UpdateBlock.BLOCKED_ON),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.WAITING_ON,
            label=plain("Waiting on another initiative or team?", 2000),
            hint=plain("A dependency is recorded and both sides are told.", 2000),
            optional=True,
            element=ExternalDataSelectElement(
                action_id=CheckinAction.WAITING_ON,
                placeholder=plain("Type a key, a title or a team", 150),
                min_query_length=0,
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.NEEDED_BY,
            label=plain("Needed from them by", 2000),
            optional=True,
            element=DatePickerElement(action_id=UpdateBlock.NEEDED_BY),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.NEXT_MILESTONE,
            label=plain("Next milestone date", 2000),
            optional=True,
            element=DatePickerElement(
                action_id=UpdateBlock.NEXT_MILESTONE, initial_date=_date(form.next_milestone)
            ),
        )
    )
    metadata: dict[str, Any] = {"initiative": form.initiative_key}
    if form.checkin_id is not None:
        metadata["checkin"] = form.checkin_id
    if from_home:
        metadata["home"] = True
    return View(
        type="modal",
        callback_id=UPDATE_CALLBACK,
        title=plain(f"Update {form.initiative_key}", 24),
        submit=plain("Record", 24),
        close=plain("Cancel", 24),
        private_metadata=json.dumps(metadata, separators=(",", ":")),
        blocks=blocks,
    )


def provider_options(found: ProviderOptions) -> dict[str, Any]:
    """The options-load answer for the "waiting on" select: initiatives, then teams."""
    groups = []
    if found.initiatives:
        groups.append(
            OptionGroup(
                label=plain("Initiatives", 75),
                options=[Option(value=value, text=plain(label, 75)) for value, label in found.initiatives],
            )
        )
    if found.teams:
        groups.append(
            OptionGroup(
                label=plain("Teams", 75),
                options=[Option(value=value, text=plain(label, 75)) for value, label in found.teams],
            )
        )
    if not groups:
        return {"options": []}
    return {"option_groups": [g.to_dict() for g in groups]}


def update_recorded(result: Answered) -> View:
    """The modal after a successful Update."""
    return View(
        type="modal",
        title=plain("Check-in recorded", 24),
        close=plain("Close", 24),
        blocks=[section(answered(result))],
    )


def command_reply(outcome: Outcome) -> tuple[str, list[Block]]:
    """The ephemeral reply to a `/checkin` form that worked."""
    from bot.checkins import command as checkin_command
    from bot.checkins import service as checkins

    result, tz = outcome.result, outcome.tz
    if isinstance(result, checkin_command.Help):
        return usage()
    if isinstance(result, checkins.MyCheckins):
        return my_checkins(result)
    if isinstance(result, checkins.Snoozed):
        text = snoozed(result)
    elif isinstance(result, checkins.OutOfOffice):
        text = out_of_office(result)
    elif isinstance(result, checkins.Reassigned):
        text = reassigned(result, tz)
    elif isinstance(result, checkins.Cancelled):
        text = cancelled(result)
    else:
        text = cadence_changed(result, tz)
    return text, [section(text)]

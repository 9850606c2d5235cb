"""`/checkin`'s replies: the list of check-ins to answer, the usage, and what each form did."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.blockkit.blocks import MESSAGE_BLOCKS, context, header, section
from bot.checkins.models import (
    CadenceChanged,
    Cancelled,
    Help,
    MyCheckins,
    Outcome,
    OutOfOffice,
    Reassigned,
    Snoozed,
)
from bot.checkins.views.prompt import answer_buttons, item_text, update_button, when
from bot.core import mrkdwn

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


def command_reply(outcome: Outcome) -> tuple[str, list[Block]]:
    """The ephemeral reply to a `/checkin` form that worked."""
    result, tz = outcome.result, outcome.tz
    if isinstance(result, Help):
        return usage()
    if isinstance(result, MyCheckins):
        return my_checkins(result)
    if isinstance(result, Snoozed):
        text = snoozed(result)
    elif isinstance(result, OutOfOffice):
        text = out_of_office(result)
    elif isinstance(result, Reassigned):
        text = reassigned(result, tz)
    elif isinstance(result, Cancelled):
        text = cancelled(result)
    else:
        text = cadence_changed(result, tz)
    return text, [section(text)]

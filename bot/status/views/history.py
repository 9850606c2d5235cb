"""The History modal of one initiative (the status card's *History* button): its events newest
first, one block each, a page at a time with *Newer* / *Older* (views.update)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, header, plain, section
from bot.core import mrkdwn
from bot.status.models import History, HistoryEntry
from bot.status.views.replies import when

DETAIL_LIMIT = 600  # characters of an event's details shown


class HistoryAction(StrEnum):
    OPEN = "status_history"  # the card's button
    NEWER = "status_history_newer"
    OLDER = "status_history_older"


WORDS = {
    "request.submitted": ":inbox_tray: Requested",
    "request.accepted": ":white_check_mark: Accepted",
    "request.declined": ":no_entry_sign: Declined",
    "request.info_requested": ":question: More information asked for",
    "request.info_given": ":speech_balloon: More information given",
    "initiative.reassigned": ":busts_in_silhouette: Owner changed",
    "initiative.cadence_changed": ":calendar: Cadence changed",
    "checkin.asked": ":wave: Check-in asked",
    "checkin.reminded": ":bell: Check-in reminder",
    "checkin.answered": ":memo: Check-in answered",
    "checkin.missed": ":warning: Check-in missed",
    "checkin.snoozed": ":zzz: Check-in skipped",
    "checkin.excused": ":palm_tree: Check-in excused (out of office)",
    "health.changed": ":traffic_light: Health changed",
    "dependency.added": ":link: Dependency added",
    "dependency.stalled": ":hourglass: Dependency stalled",
    "dependency.recovered": ":arrows_counterclockwise: Dependency moving again",
    "dependency.renegotiated": ":handshake: Dependency renegotiated",
    "escalation.opened": ":rotating_light: Escalation opened",
    "escalation.acknowledged": ":eyes: Escalation acknowledged",
    "escalation.snoozed": ":zzz: Escalation snoozed",
    "escalation.snooze_ended": ":alarm_clock: Escalation snooze ended",
    "escalation.resolved": ":white_check_mark: Escalation resolved",
    "tracker.linked": ":paperclip: Work linked",
    "tracker.moved": ":paperclip: Linked work moved",
    "tracker.gone": ":paperclip: Linked work gone",
    "okr.metric_updated": ":chart_with_upwards_trend: Key result updated",
}
HIDDEN = {"escalation", "dependency", "checkin", "initiative", "okr", "outbox"}  # ids, not news


def page_value(key: str, offset: int) -> str:
    return json.dumps({"initiative": key, "offset": offset})


def page_of(value: str | None) -> tuple[str, int] | None:
    """(initiative key, offset) from a paging button's value, or None if it is not one of ours."""
    try:
        data: Any = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    key, offset = data.get("initiative"), data.get("offset", 0)
    if not (isinstance(key, str) and 0 < len(key) <= 20 and isinstance(offset, int) and offset >= 0):
        return None
    return key, offset


def _label(kind: str) -> str:
    if kind in WORDS:
        return WORDS[kind]
    if kind.startswith("escalation.level"):
        return f":rotating_light: Escalated to level {mrkdwn.escape(kind.removeprefix('escalation.level'))}"
    return f":small_blue_diamond: {mrkdwn.escape(kind.replace('.', ' ').replace('_', ' ').capitalize())}"


def _detail(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def entry_text(entry: HistoryEntry, history: History) -> str:
    by = f" by {mrkdwn.user(entry.actor_id)}" if entry.actor_id else ""
    text = f"*{when(entry.at, history.zone)}* · {_label(entry.kind)}{by}"
    details = [
        f"{key.replace('_', ' ')}: {_detail(value)}"
        for key, value in entry.data.items()
        if key not in HIDDEN and value not in (None, "", [], {})
    ]
    if details:
        text += "\n" + mrkdwn.escape(mrkdwn.truncate(" · ".join(details), DETAIL_LIMIT))
    return text


def modal(history: History) -> View:
    """The modal: a header, one section per event of the page, where the page is, and the paging
    buttons. At most 40 events a page: 44 blocks, under Slack's 100."""
    page = history.page
    blocks: list[Block] = [header(f"{history.key} · {history.title}")]
    if not page.items:
        blocks.append(section("Nothing has happened to it yet."))
    blocks += [section(entry_text(e, history)) for e in page.items]
    if page.total:
        first, last = page.offset + 1, page.offset + len(page.items)
        zone = mrkdwn.escape(history.zone.key)
        blocks.append(context(f"Events {first}–{last} of {page.total}, newest first · times in {zone}"))
    buttons = []
    if page.has_previous:
        buttons.append(
            ButtonElement(
                text=plain("Newer", 75),
                action_id=HistoryAction.NEWER,
                value=page_value(history.key, max(0, page.offset - history.size)),
            )
        )
    if page.has_next:
        buttons.append(
            ButtonElement(
                text=plain("Older", 75),
                action_id=HistoryAction.OLDER,
                value=page_value(history.key, page.offset + len(page.items)),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return View(type="modal", title=plain("History", 24), close=plain("Close", 24), blocks=blocks)

"""Linked work on Slack's surfaces: the "Link work" button and modal, a linked item's line (the
status card lists them), and the answers to a link."""

from __future__ import annotations

import json
from enum import StrEnum

from slack_sdk.models.blocks import Block, ButtonElement, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, plain, section
from bot.core import mrkdwn
from bot.trackers.models import TRACKER_NAMES, URL_FIELD, Kind, Linked, LinkLine, Move, Tracker


class LinkAction(StrEnum):
    OPEN = "tracker_link_open"  # the status card's "Link work"


class LinkCallback(StrEnum):
    SUBMIT = "tracker_link_modal"


class LinkBlock(StrEnum):
    URL = URL_FIELD


KIND_WORDS = {Kind.ISSUE: "Issue", Kind.EPIC: "Epic", Kind.PULL: "PR", Kind.MILESTONE: "Milestone"}
ICON = {Tracker.JIRA: ":jigsaw:", Tracker.GITHUB: ":octopus:"}


def link_button(key: str) -> ButtonElement:
    return ButtonElement(
        text=plain("Link work", 75), action_id=LinkAction.OPEN, value=json.dumps({"initiative": key})
    )


def link_modal(key: str, title: str) -> View:
    return View(
        type="modal",
        callback_id=LinkCallback.SUBMIT,
        private_metadata=json.dumps({"initiative": key}),
        title=plain("Link work", 24),
        submit=plain("Link", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(
                f"Link a Jira issue or epic, or a GitHub issue, pull request or milestone to "
                f"*{mrkdwn.escape(key)}* {mrkdwn.escape(title)}. Its card then shows where the work is."
            ),
            InputBlock(
                block_id=LinkBlock.URL,
                label=plain("Link"),
                hint=plain("Paste the address from your browser."),
                element=PlainTextInputElement(
                    action_id="value",
                    max_length=2000,
                    placeholder=plain("https://acme.atlassian.net/browse/PAY-12"),
                ),
            ),
        ],
    )


def _progress(done: int | None, total: int | None) -> str:
    if total is None or done is None:
        return ""
    return f" · {done} of {total} done"


def link_line(line: LinkLine) -> str:
    """`:jigsaw: Epic <url|PAY-12> Checkout — *In Progress* · Ana · 3 of 8 done`."""
    label = mrkdwn.link(line.url, line.ref.label)
    title = f" {mrkdwn.escape(mrkdwn.truncate(line.title, 120))}" if line.title else ""
    if line.missing:
        return f":grey_question: {KIND_WORDS[line.ref.kind]} {label}{title} — _no longer found_"
    icon = ":white_check_mark:" if line.done else ICON[line.ref.tracker]
    who = f" · {mrkdwn.escape(line.assignee)}" if line.assignee else ""
    status = f"*{mrkdwn.escape(line.status)}*" if line.status else "_no status_"
    progress = _progress(line.done_count, line.total_count)
    return f"{icon} {KIND_WORDS[line.ref.kind]} {label}{title} — {status}{who}{progress}"


def linked_reply(linked: Linked) -> str:
    item = linked.item
    what = f"{TRACKER_NAMES[item.ref.tracker]} {KIND_WORDS[item.ref.kind].lower()} {item.ref.label}"
    progress = _progress(item.done_count, item.total_count)
    if not linked.new:
        return (
            f":link: {mrkdwn.escape(what)} was already linked to {mrkdwn.escape(linked.initiative_key)}; "
            f"it now reads *{mrkdwn.escape(item.status)}*{progress}."
        )
    return (
        f":link: Linked {mrkdwn.link(item.url, what)} (*{mrkdwn.escape(item.status)}*{progress}) to "
        f"{mrkdwn.escape(linked.initiative_key)}. Its status card shows it from now on."
    )


def usage() -> tuple[str, list[Block]]:
    text = (
        "Link work to an initiative: `/initiative link REQ-17 https://acme.atlassian.net/browse/PAY-12` "
        "(a Jira issue or epic, a GitHub issue, pull request or milestone)."
    )
    return text, [section(text), context("Or press *Link work* on the initiative's card.")]


MOVES_SHOWN = 6  # moves listed in a check-in before "…and N more"


def _change_words(move: Move) -> list[str]:
    """Plain words for what changed: "To Do → Done", "assigned to Bo", "3 → 5 of 8 done"."""
    if move.gone:
        return ["deleted"]
    words = []
    changes = move.changes
    if "status" in changes:
        old, new = changes["status"]
        words.append(f"{old or '—'} → {new or '—'}")
    elif "done" in changes:
        words.append("done" if changes["done"][1] else "reopened")
    if "done_count" in changes or "total_count" in changes:
        done = changes.get("done_count", (None, None))
        total = changes.get("total_count", (None, None))
        if done[1] is not None and total[1] is not None:
            was = f"{done[0]} → " if "done_count" in changes and done[0] is not None else ""
            words.append(f"{was}{done[1]} of {total[1]} done")
    if "assignee" in changes:
        new = changes["assignee"][1]
        words.append(f"assigned to {new}" if new else "unassigned")
    if "missing" in changes and not changes["missing"][1]:
        words.append("found again")
    return words or ["changed"]


def move_line(move: Move) -> str:
    """`• <url|PAY-12> To Do → Done, assigned to Bo` (mrkdwn, escaped)."""
    return f"• {mrkdwn.link(move.url or None, move.label)} {mrkdwn.escape(', '.join(_change_words(move)))}"


def move_lines(moves: list[Move]) -> list[str]:
    shown = [move_line(m) for m in moves[:MOVES_SHOWN]]
    if len(moves) > MOVES_SHOWN:
        shown.append(f"• _…and {len(moves) - MOVES_SHOWN} more_")
    return shown


def moved_text(moves: list[Move]) -> str:
    """What moved, as plain text an owner can keep or correct: `PAY-12: To Do → Done.` a line each."""
    return "\n".join(f"{m.label}: {', '.join(_change_words(m))}." for m in moves)


# -- back-links (plain text: a comment on the linked item, read in Jira or GitHub) ---------------------


def backlink_accepted(key: str, title: str, okr_key: str, owner: str | None) -> str:
    who = f", owned by {owner}" if owner else ""
    return (
        f"Throughline: {key} \u201c{title}\u201d was accepted{who}; it moves the OKR {okr_key}.\n"
        f"Where it stands: /initiative {key} in Slack."
    )


def backlink_health(key: str, title: str, health: str, previous: str | None) -> str:
    was = f" (was {previous})" if previous else ""
    return (
        f"Throughline: {key} \u201c{title}\u201d is now {health}{was}.\n"
        f"Where it stands: /initiative {key} in Slack."
    )

"""Linked work on Slack's surfaces: the "Link work" button and modal, a linked item's line (the
status card lists them), and the answers to a link."""

from __future__ import annotations

import json
from enum import StrEnum

from slack_sdk.models.blocks import Block, ButtonElement, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, plain, section
from bot.core import mrkdwn
from bot.trackers.models import TRACKER_NAMES, URL_FIELD, Kind, Linked, LinkLine, Tracker


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

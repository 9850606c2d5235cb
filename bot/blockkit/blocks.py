"""Pieces every surface uses."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.mrkdwn import truncate

SECTION_LIMIT = 3000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100


def plain(text: str, limit: int = 150) -> PlainTextObject:
    """Plain text (Slack shows it literally; no escaping needed), cut to `limit`."""
    return PlainTextObject(text=truncate(text, limit), emoji=True)


def md(text: str) -> MarkdownTextObject:
    """A mrkdwn text object; `text` must already be escaped (see bot.mrkdwn)."""
    return MarkdownTextObject(text=text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…")


def section(text: str, block_id: str | None = None, accessory: Any = None) -> SectionBlock:
    return SectionBlock(text=md(text), block_id=block_id, accessory=accessory)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, 150))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[md(t) for t in texts[:10]])


def divider() -> DividerBlock:
    return DividerBlock()


def notice_modal(title: str, text: str) -> View:
    """A small modal that only says something (errors from the Home tab, confirmations)."""
    return View(
        type="modal",
        title=plain(title, 24),
        close=plain("Close", 24),
        blocks=[section(text)],
    )

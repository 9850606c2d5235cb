"""What Slack checks in a Block Kit payload before it accepts it, and what a person reads in one.

slack_sdk's models validate each block; Slack also refuses more than 50 blocks in a message and 100
in a view, and duplicate block or action ids (https://api.slack.com/reference/block-kit/blocks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")


class BlockKitError(Exception):
    pass


def visible_text(payload: dict[str, Any] | None) -> str:
    """All the text a person would read in a message or view: text, blocks, fields, buttons."""
    if not payload:
        return ""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                parts.append(node["text"])
                return
            for key, value in node.items():
                if key in (
                    "text",
                    "title",
                    "label",
                    "placeholder",
                    "fields",
                    "elements",
                    "accessory",
                    "blocks",
                    "options",
                    "option_groups",
                    "initial_option",
                    "submit",
                    "close",
                    "hint",
                    "element",
                    "confirm",
                ):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            parts.append(node)

    if payload.get("blocks"):
        walk(payload.get("blocks"))
    elif payload.get("text"):
        parts.append(payload["text"])
    if payload.get("title"):
        walk(payload["title"])
    return "\n".join(parts)


def validate_blocks(blocks: list[dict[str, Any]] | None, limit: int) -> None:
    """Raise BlockKitError if Slack would answer invalid_blocks."""
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise BlockKitError("blocks must be a list")
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks; Slack allows at most {limit}")
    seen: set[str] = set()
    for index, raw in enumerate(blocks):
        if not isinstance(raw, dict) or "type" not in raw:
            raise BlockKitError(f"block {index} has no type")
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in seen:
                raise BlockKitError(f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                raise BlockKitError(f"block {index}: unknown type {raw['type']!r}")
            parsed.to_dict()
        except BlockKitError:
            raise
        except Exception as exc:
            raise BlockKitError(f"block {index} ({raw.get('type')}): {exc}") from exc
        elements = raw.get("elements") if raw.get("type") == "actions" else None
        if elements:
            ids = [e.get("action_id") for e in elements if e.get("action_id")]
            if len(ids) != len(set(ids)):
                raise BlockKitError(f"block {index}: duplicate action_id")


def validate_view(view: dict[str, Any]) -> None:
    if not isinstance(view, dict):
        raise BlockKitError("view must be an object")
    if view.get("type") not in ("modal", "home"):
        raise BlockKitError(f"view type {view.get('type')!r}")
    validate_blocks(view.get("blocks") or [], VIEW_BLOCK_LIMIT)
    try:
        View(**view).to_dict()
    except Exception as exc:
        raise BlockKitError(f"view: {exc}") from exc
    if view.get("type") == "modal":
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            raise BlockKitError("a modal with inputs needs a submit button")


def broadcasts(texts: Iterable[str]) -> list[str]:
    """Broadcast mentions (`<!channel>`, `<!here>`, `<!everyone>`) found in posted text."""
    return [m.group(0) for text in texts for m in BROADCAST.finditer(text or "")]

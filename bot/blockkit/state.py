"""Reading what a person entered in a modal: `view.state.values`, by input block id.

Each input block holds one element; these return its value in plain Python, None when empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


def _element(view: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    block = ((view.get("state") or {}).get("values") or {}).get(str(block_id)) or {}
    return next(iter(block.values()), {}) if block else {}


def text(view: Mapping[str, Any], block_id: str) -> str | None:
    """A plain-text, URL, email or number input."""
    value = _element(view, block_id).get("value")
    return None if value is None else str(value)


def option(view: Mapping[str, Any], block_id: str) -> str | None:
    """The value of a static or external select's selected option."""
    selected = _element(view, block_id).get("selected_option") or {}
    return selected.get("value")


def options(view: Mapping[str, Any], block_id: str) -> list[str]:
    """The values of a multi-select's selected options."""
    return [o["value"] for o in _element(view, block_id).get("selected_options") or [] if "value" in o]


def user(view: Mapping[str, Any], block_id: str) -> str | None:
    return _element(view, block_id).get("selected_user")


def channel(view: Mapping[str, Any], block_id: str) -> str | None:
    element = _element(view, block_id)
    return element.get("selected_channel") or element.get("selected_conversation")


def day(view: Mapping[str, Any], block_id: str) -> date | None:
    """A date picker's date (Slack sends YYYY-MM-DD); None when empty or malformed."""
    value = _element(view, block_id).get("selected_date")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None

"""Escaping for Slack's mrkdwn.

Slack treats `<...>` as links, mentions and broadcasts (`<!channel>`), and `&` starts an entity;
slack_sdk escapes nothing. Every piece of user text that goes into mrkdwn passes through
`escape`. Text built by code (links, mentions we mean) is wrapped in `Mrkdwn` to say so.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit


class Mrkdwn(str):
    """A string of trusted mrkdwn: already escaped or built by our own code."""

    __slots__ = ()


def escape(text: object) -> Mrkdwn:
    """Escape `&`, `<` and `>` so user text shows as written and cannot mention or link."""
    if isinstance(text, Mrkdwn):
        return text
    value = "" if text is None else str(text)
    return Mrkdwn(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def user(user_id: str | None) -> Mrkdwn:
    """A mention of a Slack user id we stored (not user text)."""
    if not user_id:
        return Mrkdwn("nobody")
    if not _is_slack_id(user_id):
        return escape(user_id)
    return Mrkdwn(f"<@{user_id}>")


def channel(channel_id: str | None) -> Mrkdwn:
    if not channel_id or not _is_slack_id(channel_id):
        return escape(channel_id or "")
    return Mrkdwn(f"<#{channel_id}>")


def link(url: str | None, label: object) -> Mrkdwn:
    """A link to an http(s) URL with an escaped label; anything else is shown as plain text."""
    shown = escape(label)
    if not url:
        return shown
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in "<>| \n"):
        return shown
    safe_url = url.replace("&", "&amp;")
    # a `|` or `>` in the label would end the link early
    return Mrkdwn(f"<{safe_url}|{shown.replace('|', '¦')}>")


def date_text(value: date | datetime | None, fallback: str = "—") -> Mrkdwn:
    if value is None:
        return Mrkdwn(fallback)
    if isinstance(value, datetime):
        return Mrkdwn(value.strftime("%a %d %b %Y %H:%M"))
    return Mrkdwn(value.strftime("%a %d %b %Y"))


def truncate(text: str, limit: int) -> str:
    """Shorten plain text to `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def _is_slack_id(value: str) -> bool:
    return value.isascii() and value.isalnum() and value[:1].isupper()

"""`/okr <text>`, parsed."""

from __future__ import annotations

from bot.okrs.models import OkrCommand, OkrCommandKind


def parse_command(text: str) -> OkrCommand:
    """What `/okr <text>` asks for. Anything that is not a known subcommand is a search, so a
    subcommand another module answers (`/okr digest`) never fails here."""
    words = (text or "").split()
    if not words:
        return OkrCommand(OkrCommandKind.LIST)
    first = words[0].lower()
    rest = " ".join(words[1:])
    if first in ("help", "?", "-h", "--help") and len(words) == 1:
        return OkrCommand(OkrCommandKind.HELP)
    if first == "add":
        return OkrCommand(OkrCommandKind.ADD, rest)
    if first == "archive" and len(words) == 2:
        return OkrCommand(OkrCommandKind.ARCHIVE, words[1])
    if first == "archive" and len(words) == 1:
        return OkrCommand(OkrCommandKind.HELP)
    return OkrCommand(OkrCommandKind.LIST, " ".join(words))

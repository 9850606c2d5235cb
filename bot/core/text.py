"""Text people type, cleaned before the domain validates or stores it.

Control characters are dropped (PostgreSQL refuses NUL; the others only hide or garble text),
except line breaks and tabs, and surrounding space is trimmed. Escaping for Slack happens on the
way out (`bot.mrkdwn`), never here: what is stored is what was typed.
"""

from __future__ import annotations


def clean(text: str | None) -> str:
    """`text` without control characters (line breaks and tabs kept), trimmed."""
    return "".join(ch for ch in (text or "") if ch >= " " or ch in "\n\t").strip()


def one_line(text: str | None) -> str:
    """`clean(text)` with every run of white space (line breaks too) made one space."""
    return " ".join(clean(text).split())

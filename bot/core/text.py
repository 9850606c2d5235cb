"""Text people type, cleaned before the domain validates or stores it.

Dropped: control characters (PostgreSQL refuses NUL; the others only hide or garble text), except
line breaks and tabs; and invisible format characters (Unicode category Cf): bidi overrides and
isolates, which make a title read differently from what it holds ("Pay invoice" showing as
something else), and zero-width spaces and joiners, which make two titles that look the same
differ. Kept where they are needed: a zero-width joiner inside an emoji sequence (👩‍💻) or between
letters of scripts that join with it (Sinhala ශ්‍රී), the format characters that are seen (Arabic
number signs), a
zero-width non-joiner between letters of scripts that use it (Persian, Indic), the tag characters
of a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿). Unicode's line and paragraph separators become line breaks.
Surrounding space is trimmed. Escaping for Slack happens on the way out (`bot.core.mrkdwn`), never
here: what is stored is what was typed, less what nobody can see.
"""

from __future__ import annotations

import unicodedata

_ZWJ, _ZWNJ, _BLACK_FLAG = "\u200d", "\u200c", "\U0001f3f4"
_TAGS = range(0xE0020, 0xE0080)
_SHOWN = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd")


def clean(text: str | None) -> str:
    """`text` without control and invisible format characters (line breaks and tabs kept), trimmed."""
    source = (text or "").replace("\u2028", "\n").replace("\u2029", "\n")
    kept: list[str] = []
    for i, ch in enumerate(source):
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in "\n\t":
            continue
        if category == "Cf" and not _needed(source, i, kept):
            continue
        kept.append(ch)
    return "".join(kept).strip()


def one_line(text: str | None) -> str:
    """`clean(text)` with every run of white space (line breaks too) made one space."""
    return " ".join(clean(text).split())


def _needed(source: str, i: int, kept: list[str]) -> bool:
    """Whether the format character at `source[i]` does visible work where it stands."""
    ch, before = source[i], kept[-1] if kept else ""
    after = source[i + 1] if i + 1 < len(source) else ""
    if ch in _SHOWN:
        return True  # prepended concatenation marks (Arabic number signs, ...): visible
    if ch == _ZWJ:
        # inside an emoji sequence, or after a virama or a letter in scripts that join (ශ්‍රී)
        return (_emoji_part(before) and _emoji_part(after)) or (_letter(before) and _letter(after))
    if ch == _ZWNJ:
        return _letter(before) and _letter(after)
    if ord(ch) in _TAGS or ch == "\U000e007f":
        return before == _BLACK_FLAG or (bool(before) and ord(before) in _TAGS)
    return False


def _emoji_part(ch: str) -> bool:
    # a pictograph (So), a skin tone (Sk), or the emoji variation selector (Mn) ending one
    return (bool(ch) and unicodedata.category(ch) in ("So", "Sk")) or ch == "\ufe0f"


def _letter(ch: str) -> bool:
    return bool(ch) and not ch.isascii() and unicodedata.category(ch).startswith(("L", "M"))

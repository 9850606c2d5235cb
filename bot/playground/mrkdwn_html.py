"""Slack's mrkdwn as safe HTML.

Text arrives as the bot sends it: `&`, `<` and `>` written as entities, so the only real `<` in it
open Slack's own tokens (links, mentions, broadcasts). Everything else is decoded and escaped again
for HTML; only markup built here is trusted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from bot.playground.emoji import emojify

SAFE_SCHEMES = ("http", "https", "mailto")

_PRE = re.compile(r"```(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_TOKEN = re.compile(r"<([^<>\n]+)>")
_SLOT = re.compile("\x00(\\d+)\x00")
_QUOTE = re.compile(r"^(?:&gt;|>) ?")
# Slack's inline styles: the marker hugs the text and does not sit inside a word
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), "s"),
)


@dataclass
class Directory:
    """Who and what the ids in Slack's data stand for: user id → display name, channel id → name."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)


def decode(text: str) -> str:
    """The three entities Slack uses, back to the characters they stand for."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def safe_url(url: str) -> str | None:
    """`url` if it is an http(s) or mailto link with nothing odd in it, else None."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or any(c in url for c in " \n\t\"'<>`"):
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url


def mention(kind: str, name: str, target: str = "") -> Markup:
    """A mention chip: `kind` is user, channel or broadcast."""
    return Markup('<span class="sk-mention sk-mention--{}" data-id="{}">{}</span>').format(kind, target, name)


def token(inner: str, directory: Directory) -> Markup:
    """One `<...>` token: a link, a user or channel mention, or a broadcast; anything else as text."""
    target, _, label = inner.partition("|")
    shown = decode(label)
    if target.startswith("@"):
        uid = target[1:]
        return mention("user", "@" + directory.users.get(uid, shown.lstrip("@") or uid), uid)
    if target.startswith("#"):
        cid = target[1:]
        return mention("channel", "#" + directory.channels.get(cid, shown.lstrip("#") or cid), cid)
    if target.startswith("!"):
        word = target[1:]
        if word in ("here", "channel", "everyone"):
            return mention("broadcast", "@" + word, word)
        if word.startswith("subteam^"):
            return mention("usergroup", shown or "@group", word.partition("^")[2])
        # <!date^...|fallback> and the like: Slack shows the fallback text
        return escape(shown or "<" + decode(inner) + ">")
    url = safe_url(decode(target))
    if url is None:
        return escape(shown or "<" + decode(inner) + ">")
    return link(url, shown or url.removeprefix("mailto:"))


def link(url: str, shown: str) -> Markup:
    """A link to a URL `safe_url` let through, opening in a new tab."""
    return Markup('<a class="sk-link" href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(
        url, shown
    )


def mrkdwn(text: str, directory: Directory) -> Markup:
    """Slack mrkdwn (already entity-escaped, as the bot sends it) as safe HTML."""
    slots: list[Markup] = []

    def keep(fragment: Markup) -> str:
        slots.append(fragment)
        return f"\x00{len(slots) - 1}\x00"

    def keeper(build: Callable[[re.Match[str]], Markup]) -> Callable[[re.Match[str]], str]:
        return lambda m: keep(build(m))

    source = (text or "").replace("\x00", "").replace("\r\n", "\n")
    source = _PRE.sub(
        keeper(lambda m: Markup('<pre class="sk-pre">{}</pre>').format(decode(m.group(1).strip("\n")))),
        source,
    )
    code = Markup('<code class="sk-code">{}</code>')
    source = _CODE.sub(keeper(lambda m: code.format(decode(m.group(1)))), source)
    source = _TOKEN.sub(keeper(lambda m: token(m.group(1), directory)), source)

    html: list[str] = []
    quote: list[str] = []

    def flush_quote() -> None:
        if quote:
            html.append('<blockquote class="sk-quote">' + "<br>".join(quote) + "</blockquote>")
            quote.clear()

    lines: list[str] = []
    for line in source.split("\n"):
        quoted = _QUOTE.match(line)
        if quoted:
            if lines:
                html.append("<br>".join(lines))
                lines = []
            quote.append(_inline(line[quoted.end() :]))
        else:
            flush_quote()
            lines.append(_inline(line))
    flush_quote()
    if lines:
        html.append("<br>".join(lines))
    out = "".join(html)
    out = _SLOT.sub(lambda m: str(slots[int(m.group(1))]), out)
    # a fence straight after a line break would show two breaks; Slack shows one
    out = out.replace('<br><pre class="sk-pre">', '<pre class="sk-pre">')
    out = out.replace("</pre><br>", "</pre>")
    return Markup(out)  # noqa: S704 -- every piece is escaped above or built from escaped parts


def _inline(line: str) -> str:
    """One line: decode, escape, then bold / italic / strike and emoji."""
    out = str(escape(decode(line)))
    for pattern, tag in _STYLES:
        out = pattern.sub(rf"<{tag}>\1</{tag}>", out)
    return emojify(out)


def plain(text: object, directory: Directory | None = None) -> Markup:
    """A plain_text object (or a str) as safe HTML: shown literally, emoji codes converted unless
    the object says `emoji: false`. A mrkdwn object is handed to `mrkdwn`."""
    if text is None:
        return Markup("")
    if isinstance(text, dict):
        if text.get("type") == "mrkdwn":
            return mrkdwn(str(text.get("text", "")), directory or Directory())
        value = str(text.get("text", ""))
        converted = text.get("emoji", True) is not False
    else:
        value, converted = str(text), True
    out = str(escape(value))
    if converted:
        out = emojify(out)
    return Markup(out.replace("\n", "<br>"))  # noqa: S704 -- escaped above

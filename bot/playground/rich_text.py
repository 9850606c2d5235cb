"""The rich_text block (what Slack's composer sends for a message a person types), as HTML."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from bot.playground.emoji import EMOJI
from bot.playground.mrkdwn_html import Directory, mention, safe_url

_STYLE_TAGS = (
    ("code", Markup('<code class="sk-code">{}</code>')),
    ("bold", Markup("<b>{}</b>")),
    ("italic", Markup("<i>{}</i>")),
    ("strike", Markup("<s>{}</s>")),
)
_LISTS = {
    "ordered": Markup('<ol class="sk-rt-list">{}</ol>'),
    "bullet": Markup('<ul class="sk-rt-list">{}</ul>'),
}


def rich_text(block: dict[str, Any], directory: Directory) -> Markup:
    return Markup("").join(_part(part, directory) for part in block.get("elements") or [])


def _part(part: dict[str, Any], directory: Directory) -> Markup:
    kind = part.get("type")
    inner = Markup("").join(_inline(el, directory) for el in part.get("elements") or [])
    if kind == "rich_text_section":
        return Markup('<div class="sk-rt-section">{}</div>').format(inner)
    if kind == "rich_text_preformatted":
        return Markup('<pre class="sk-pre">{}</pre>').format(inner)
    if kind == "rich_text_quote":
        return Markup('<blockquote class="sk-quote">{}</blockquote>').format(inner)
    if kind == "rich_text_list":
        items = Markup("").join(
            Markup("<li>{}</li>").format(_part({**item, "type": "rich_text_inline"}, directory))
            for item in part.get("elements") or []
        )
        return _LISTS.get(str(part.get("style")), _LISTS["bullet"]).format(items)
    return inner


def _inline(el: dict[str, Any], directory: Directory) -> Markup:
    kind = el.get("type")
    if kind == "text":
        out = escape(str(el.get("text", ""))).replace("\n", Markup("<br>"))
    elif kind == "link":
        url = safe_url(str(el.get("url", "")))
        shown = str(el.get("text") or el.get("url", ""))
        if url is None:
            out = escape(shown)
        else:
            out = Markup(
                '<a class="sk-link" href="{}" target="_blank" rel="noopener noreferrer">{}</a>'
            ).format(url, shown)
    elif kind == "user":
        uid = str(el.get("user_id", ""))
        out = mention("user", "@" + directory.users.get(uid, uid), uid)
    elif kind == "channel":
        cid = str(el.get("channel_id", ""))
        out = mention("channel", "#" + directory.channels.get(cid, cid), cid)
    elif kind == "broadcast":
        out = mention("broadcast", "@" + str(el.get("range", "here")), str(el.get("range", "here")))
    elif kind == "emoji":
        name = str(el.get("name", ""))
        out = escape(EMOJI.get(name, f":{name}:"))
    elif kind in ("rich_text_section", "rich_text_inline"):
        return _part(el, directory)
    else:
        return Markup("")
    for style, wrap in _STYLE_TAGS:
        if (el.get("style") or {}).get(style):
            out = wrap.format(out)
    return out

"""Slack's data as the desktop client shows it: Block Kit blocks, messages, modals and the Home tab.

The page of the playground calls these; they never fail on a block they do not know (a grey note
says so). Blocks without a `block_id` get one from their place (`b3`), as Slack makes one up.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.playground.elements import element, image
from bot.playground.environment import Context, Surface, as_json, raw_text, template, text
from bot.playground.mrkdwn_html import Directory, mrkdwn, plain, safe_url
from bot.playground.rich_text import rich_text

__all__ = ["Directory", "mrkdwn", "plain", "render_blocks", "render_message", "render_view"]

AVATAR_COLOURS = 8


def render_blocks(
    blocks: list[dict[str, Any]],
    directory: Directory,
    *,
    surface: Surface = "message",
    errors: dict[str, str] | None = None,
) -> Markup:
    """A list of blocks as HTML; `errors` (block id → message) show in red under those inputs."""
    ctx = Context(directory=directory, surface=surface, errors=dict(errors or {}))
    rendered = [_block(block, ctx, index) for index, block in enumerate(blocks or [])]
    return template("blocks", blocks=rendered, surface=surface)


def _block(block: Any, ctx: Context, index: int) -> Markup:
    if not isinstance(block, dict):
        return template("unsupported", kind="?", block_id=f"b{index}")
    kind = str(block.get("type", ""))
    block_id = str(block.get("block_id") or f"b{index}")
    try:
        build = _BUILDERS.get(kind)
        if build is None:
            return template("unsupported", kind=kind or "?", block_id=block_id)
        return build(block, ctx, block_id)
    except (KeyError, TypeError, ValueError, AttributeError):
        # a malformed block shows as unsupported rather than breaking the page
        return template("unsupported", kind=kind or "?", block_id=block_id)


def _section(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    accessory = block.get("accessory")
    if not isinstance(block.get("fields") or [], list):
        raise TypeError("fields must be a list")
    return template(
        "section",
        block_id=block_id,
        body=text(block["text"], ctx) if block.get("text") else None,
        fields=[text(field, ctx) for field in block.get("fields") or []],
        accessory=element(accessory, ctx, block_id, 0) if accessory else None,
        accessory_type=accessory.get("type", "") if accessory else "",
    )


def _context(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    items = []
    for el in block.get("elements") or []:
        if el.get("type") == "image":
            items.append(image(el, css="sk-context__image"))
        else:
            items.append(text(el, ctx))
    return template("context", block_id=block_id, items=items)


def _header(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    return template("header", block_id=block_id, body=plain(block.get("text"), ctx.directory))


def _divider(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    return template("divider", block_id=block_id)


def _actions(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    items = [element(el, ctx, block_id, i) for i, el in enumerate(block.get("elements") or [])]
    return template("actions", block_id=block_id, items=items)


def _image(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    title = plain(block["title"], ctx.directory) if block.get("title") else None
    return template("image", block_id=block_id, title=title, image=image(block, css="sk-image-block__img"))


def _input(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    return template(
        "input",
        block_id=block_id,
        control_id=f"input-{block_id}",
        label=plain(block.get("label"), ctx.directory),
        optional=bool(block.get("optional")),
        hint=plain(block["hint"], ctx.directory) if block.get("hint") else None,
        control=element(block.get("element") or {}, ctx, block_id, 0),
        error=ctx.errors.get(block_id),
        dispatch=bool(block.get("dispatch_action")),
    )


def _rich_text(block: dict[str, Any], ctx: Context, block_id: str) -> Markup:
    return template("rich_text", block_id=block_id, body=rich_text(block, ctx.directory))


_BUILDERS = {
    "section": _section,
    "context": _context,
    "header": _header,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "input": _input,
    "rich_text": _rich_text,
}


def render_message(
    message: dict[str, Any],
    directory: Directory,
    *,
    bot_name: str = "Throughline",
    tz: tzinfo | str | None = None,
) -> Markup:
    """One message as Slack lists it: avatar, name (with the APP tag for the bot), time in `tz`
    (UTC unless given), its blocks or its text, "(edited)", files and the thread's reply count."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or UTC)
    ts = str(message.get("ts") or "")
    attrs = {"data-ts": ts} if ts else {}
    for key in ("channel", "thread_ts", "user", "bot_id"):
        if message.get(key):
            attrs[f"data-{key.replace('_', '-')}"] = str(message[key])
    is_app = bool(message.get("bot_id")) or not message.get("user")
    if is_app:
        name = str(message.get("username") or bot_name)
    else:
        name = directory.users.get(str(message["user"]), str(message["user"]))
    time = iso = full_time = ""
    try:
        when = datetime.fromtimestamp(int(float(ts)), zone)
        time, iso, full_time = when.strftime("%H:%M"), when.isoformat(), when.strftime("%a %d %b %Y %H:%M %Z")
    except (ValueError, OverflowError):
        pass
    if message.get("blocks"):
        content = render_blocks(message["blocks"], directory, surface="message")
    else:
        content = Markup('<div class="sk-message__text">{}</div>').format(
            mrkdwn(str(message.get("text") or ""), directory)
        )
    return template(
        "message",
        attrs=attrs,
        name=name,
        initial=(name[:1] or "?").upper(),
        avatar_colour=zlib.crc32(name.encode()) % AVATAR_COLOURS,
        is_app=is_app,
        time=time,
        iso=iso,
        full_time=full_time,
        content=content,
        edited=bool(message.get("edited")),
        ephemeral=bool(message.get("ephemeral")) or message.get("response_type") == "ephemeral",
        files=[_file(f) for f in message.get("files") or [] if isinstance(f, dict)],
        replies=int(message.get("reply_count") or 0),
    )


def _file(file: dict[str, Any]) -> dict[str, Any]:
    name = str(file.get("name") or "")
    given = str(file.get("url") or file.get("url_private") or "")
    # a path on the page's own server (the local Slack's file), or an http(s) link
    url = given if given.startswith("/") and not given.startswith("//") else (safe_url(given) or "")
    return {
        "title": str(file.get("title") or name or "file"),
        "url": url,
        "image": bool(url) and name.lower().endswith(".png"),
    }


def render_view(
    view: dict[str, Any], directory: Directory, *, errors: dict[str, str] | None = None
) -> Markup:
    """A modal (title bar, blocks, Cancel and Submit) or a Home tab (its blocks)."""
    kind: Surface = "home" if view.get("type") == "home" else "modal"
    attrs: dict[str, str] = {"data-view-type": kind}
    for key in ("id", "callback_id", "private_metadata", "external_id", "hash"):
        if view.get(key):
            attrs[f"data-{key.replace('_', '-')}"] = str(view[key])
    if view.get("notify_on_close"):
        attrs["data-notify-on-close"] = "true"
    body = render_blocks(view.get("blocks") or [], directory, surface=kind, errors=errors)
    if kind == "home":
        return template("home", attrs=attrs, body=body)
    return template(
        "modal",
        attrs=attrs,
        icon="T",
        title=plain(view.get("title"), directory),
        close=plain(view.get("close"), directory) if view.get("close") else "Cancel",
        submit=plain(view["submit"], directory) if view.get("submit") else None,
        body=body,
    )


# re-exported for the page, which builds a few things itself
__all__ += ["as_json", "raw_text"]

"""The jinja environment the playground renders with, and what one rendering knows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.playground.mrkdwn_html import Directory, mrkdwn, plain

Surface = Literal["message", "modal", "home"]

ENV = Environment(
    loader=PackageLoader("bot.playground", "templates"),
    autoescape=True,  # every template is HTML; trusted fragments arrive as Markup
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


@dataclass
class Context:
    """One rendering: who the ids are, which surface, the inline errors a submission got back."""

    directory: Directory
    surface: Surface = "message"
    errors: dict[str, str] = field(default_factory=dict)


def template(name: str, /, **values: Any) -> Markup:
    """Render `templates/blocks/<name>.html.j2`."""
    return Markup(ENV.get_template(f"blocks/{name}.html.j2").render(**values).strip())  # noqa: S704


def text(obj: Any, ctx: Context) -> Markup:
    """A text object of either kind (or a bare string, taken as plain text) as HTML."""
    if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), ctx.directory)
    return plain(obj, ctx.directory)


def raw_text(obj: Any) -> str:
    """The characters of a text object, for places that cannot hold markup (an <option>, a title)."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)

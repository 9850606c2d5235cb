"""The digest as Block Kit: jinja2 templates (sandboxed) render each part's mrkdwn, this module
turns the parts into at most 50 blocks, each section within Slack's 3000 characters.

Templates live in `bot/digest/templates/` (named `digest/<file>`); a file of the same name under
`THROUGHLINE_TEMPLATE_DIR/digest/` overrides one. Every `{{ value }}` is escaped for mrkdwn
(`finalize=bot.mrkdwn.escape`; HTML autoescaping would be wrong for Slack) unless it is a
`Mrkdwn` built by code: mentions, links and the like from the filters below. A broken override is
logged and the packaged template used instead, so a typo never stops the digest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from slack_sdk.models.blocks import Block, ContextBlock

from bot.blockkit.blocks import MESSAGE_BLOCKS, SECTION_LIMIT, divider, header, md, section
from bot.blockkit.health import HEALTH_ICON
from bot.core import mrkdwn
from bot.core.config import WorkspaceSettings
from bot.core.mrkdwn import Mrkdwn
from bot.digest.models import PERIOD_NOUNS, DigestData, ObjectiveDigest

log = logging.getLogger(__name__)

PACKAGED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
OBJECTIVE_LIMIT = 15  # objectives shown in full; the rest get one line each in "more objectives"
CONTEXT_LIMIT = 2000
PACE_ICONS: dict[str | None, str] = {
    "at target": ":white_check_mark:",
    "ahead": ":large_green_circle:",
    "on pace": ":large_green_circle:",
    "behind": ":small_red_triangle_down:",
    None: ":white_circle:",
}


class DigestBlock:
    """Block ids of the digest message."""

    HEADER = "digest_header"
    INTRO = "digest_intro"
    NOTE = "digest_note"
    OVERVIEW = "digest_overview"
    DECISIONS = "digest_decisions"
    OBJECTIVE = "digest_objective_{index}"
    MORE = "digest_more"
    FOOTER = "digest_footer"


@dataclass(frozen=True)
class RenderedDigest:
    text: str  # the notification fallback (escaped mrkdwn)
    blocks: list[Block]


# -- filters and functions the templates can use -------------------------------------------------


def _zone(ctx: Context) -> ZoneInfo | None:
    tz = ctx.get("tz")
    return tz if isinstance(tz, ZoneInfo) else None


def _local(ctx: Context, value: date | datetime) -> date | datetime:
    tz = _zone(ctx)
    if isinstance(value, datetime) and tz is not None:
        return value.astimezone(tz)
    return value


@pass_context
def day(ctx: Context, value: date | datetime | None, year: bool = False) -> str:
    """`Fri 6 Mar` (with `year=True`: `Fri 6 Mar 2026`), in the workspace's zone."""
    if value is None:
        return "—"
    local = _local(ctx, value)
    text = f"{local:%a} {local.day} {local:%b}"
    return f"{text} {local.year}" if year else text


@pass_context
def when(ctx: Context, value: datetime | None) -> str:
    """`Fri 6 Mar 16:00`, in the workspace's zone."""
    if value is None:
        return "—"
    local = _local(ctx, value)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def number(value: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    """A metric value: `1,250`, `0.25`, `42%`, `160 k€`; with `decimals`, exactly that many."""
    if value is None:
        return "—"
    if decimals is not None:
        text = f"{value:,.{max(0, min(decimals, 6))}f}"
    elif float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{round(fraction * 100)}%"


def points(delta: float | None) -> str:
    """A change of progress: `+12 pts`, `−3 pts`, `±0 pts`."""
    if delta is None:
        return ""
    value = round(delta * 100)
    if value == 0:
        return "±0 pts"
    return f"+{value} pts" if value > 0 else f"−{-value} pts"


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def user(user_id: str | None) -> Mrkdwn:
    return mrkdwn.user(user_id)


def users(user_ids: Sequence[str] | None) -> Mrkdwn:
    return Mrkdwn(", ".join(mrkdwn.user(u) for u in user_ids or ()) or "nobody")


def channel(channel_id: str | None) -> Mrkdwn:
    return mrkdwn.channel(channel_id)


def link(url: str | None, label: object) -> Mrkdwn:
    return mrkdwn.link(url, label)


def okr_command(key: str) -> Mrkdwn:
    """The command that shows everything under an OKR: `/initiative okr O1`."""
    shown = mrkdwn.escape(key).replace("`", "'")
    return Mrkdwn(f"`/initiative okr {shown}`")


def _icon(icons: Mapping[Any, str], value: object) -> Mrkdwn:
    name = getattr(value, "value", value)
    return Mrkdwn(icons.get(name if isinstance(name, str) else None, icons[None]))


def health_icon(health: object) -> Mrkdwn:
    return _icon(HEALTH_ICON, health)  # keyed by Health, a StrEnum: its names find it too


def pace_icon(pace: object) -> Mrkdwn:
    return _icon(PACE_ICONS, pace)


FILTERS: dict[str, Any] = {
    "day": day,
    "when": when,
    "number": number,
    "percent": percent,
    "points": points,
    "user": user,
    "users": users,
    "channel": channel,
    "health_icon": health_icon,
    "pace_icon": pace_icon,
    "okr_command": okr_command,
}
GLOBALS: dict[str, Any] = {"link": link, "plural": plural}


@lru_cache(maxsize=16)
def environment(template_dir: str | None, for_mrkdwn: bool = True) -> SandboxedEnvironment:
    """The sandboxed environment: `template_dir` first, then the packaged templates. For mrkdwn
    every printed value is escaped (`Mrkdwn` values pass as they are); plain text (the header)
    is left alone, as Slack shows plain_text literally."""
    loaders: list[BaseLoader] = [PrefixLoader({"digest": FileSystemLoader(str(PACKAGED_TEMPLATES))})]
    if template_dir:
        loaders.insert(0, FileSystemLoader(template_dir))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=False,
        finalize=_mrkdwn if for_mrkdwn else _plain,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


def _mrkdwn(value: object) -> str:
    """How a printed value appears in mrkdwn: counts with thousands separators, text escaped."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return mrkdwn.escape(value)


def _plain(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def render_part(name: str, template_dir: Path | None, *, for_mrkdwn: bool = True, **values: Any) -> str:
    """One template's output, stripped. A failing override falls back to the packaged template."""
    directory = str(template_dir) if template_dir else None
    try:
        return environment(directory, for_mrkdwn).get_template(name).render(**values).strip()
    except Exception:  # a template error, the sandbox refusing, or a plain bug like 1/0
        if directory is None:
            raise
        log.exception("digest template %s in %s failed; using the packaged one", name, directory)
        return environment(None, for_mrkdwn).get_template(name).render(**values).strip()


# -- fitting Slack's limits --------------------------------------------------------------------------


def fit(text: str, limit: int = SECTION_LIMIT, pointer: str | None = None) -> str:
    """`text` within `limit` characters, cut at a line boundary with a pointer to the rest."""
    if len(text) <= limit:
        return text
    tail = f"_… cut short: {pointer} shows the rest_" if pointer else "_… cut short_"
    kept: list[str] = []
    size = len(tail)
    for line in text.split("\n"):
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    if not kept:  # one enormous line: cut inside it, but never through an entity or a <link>
        cut = text[: limit - len(tail) - 2]
        for opener, closer in (("<", ">"), ("&", ";")):
            at = cut.rfind(opener)
            if at != -1 and cut.find(closer, at) == -1:
                cut = cut[:at]
        kept = [cut.rstrip() + "…"]
    return "\n".join([*kept, tail])


def _context(text: str, block_id: str) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[md(fit(text, CONTEXT_LIMIT))])


def render(data: DigestData, template_dir: Path | None = None, *, note: str | None = None) -> RenderedDigest:
    """The digest message: (fallback text, ≤ 50 blocks). `note` (trusted mrkdwn) is shown under
    the header, e.g. "this is a preview"."""
    values: dict[str, Any] = {"digest": data, "period": data.period, "tz": data.period.tz}
    title = render_part("digest/header.txt.j2", template_dir, for_mrkdwn=False, **values)
    blocks: list[Block] = [header(" ".join(title.split()) or "Leadership digest")]
    intro = render_part("digest/intro.md.j2", template_dir, **values)
    if intro:
        blocks.append(_context(intro, DigestBlock.INTRO))
    if note:
        blocks.append(_context(note, DigestBlock.NOTE))
    overview = render_part("digest/overview.md.j2", template_dir, **values)
    if overview:
        blocks.append(section(fit(overview), DigestBlock.OVERVIEW))
    decisions = render_part("digest/decisions.md.j2", template_dir, **values)
    if decisions:
        blocks.append(section(fit(decisions), DigestBlock.DECISIONS))
    blocks.append(divider())

    reserved = 2  # "more objectives" and the footer
    room = max(0, min(OBJECTIVE_LIMIT, MESSAGE_BLOCKS - len(blocks) - reserved))
    shown: list[ObjectiveDigest] = data.objectives[:room]
    hidden: list[ObjectiveDigest] = data.objectives[room:]
    for index, objective in enumerate(shown):
        text = render_part("digest/objective.md.j2", template_dir, objective=objective, **values)
        if text:
            pointer = okr_command(objective.key)
            blocks.append(section(fit(text, pointer=pointer), DigestBlock.OBJECTIVE.format(index=index)))
    if hidden:
        more = render_part("digest/more.md.j2", template_dir, hidden=hidden, **values)
        if more:
            blocks.append(section(fit(more, pointer="`/initiative okr KEY`"), DigestBlock.MORE))
    footer = render_part("digest/footer.md.j2", template_dir, **values)
    if footer:
        blocks.append(_context(footer, DigestBlock.FOOTER))
    text = fit(render_part("digest/notification.md.j2", template_dir, **values), CONTEXT_LIMIT)
    assert len(blocks) <= MESSAGE_BLOCKS, f"{len(blocks)} blocks"
    return RenderedDigest(text=text or "Leadership digest", blocks=blocks)


# -- the digest as text (golden files, the terminal) --------------------------------------------------

_MENTION = re.compile(r"<([@#])([A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")


def as_text(blocks: Sequence[Block | dict[str, Any]], *, terminal: bool = False) -> str:
    """The message as a person reads it, one block after another. `terminal` turns mrkdwn's
    mentions, links and entities into plain text (`@U0ALICE`, `label (url)`, `<`)."""
    parts: list[str] = []
    for block in blocks:
        raw = block.to_dict() if isinstance(block, Block) else block
        kind = raw.get("type")
        if kind == "header":
            title = raw["text"]["text"]
            parts.append(f"{title}\n{'=' * len(title)}")
        elif kind == "section":
            parts.append(raw["text"]["text"])
        elif kind == "context":
            parts.append("\n".join(f"> {e.get('text', '')}" for e in raw.get("elements", [])))
        elif kind == "divider":
            parts.append("---")
    text = "\n\n".join(parts) + "\n"
    if terminal:
        text = _LINK.sub(lambda m: f"{m[2]} ({m[1].replace('&amp;', '&')})", text)
        text = _MENTION.sub(lambda m: f"{m[1]}{m[2]}", text)
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text


def preview_note(settings: WorkspaceSettings, posts_at: datetime) -> str:
    """The line under a preview's header: what it is, and where and when (`posts_at`, the next
    digest slot) the real one posts."""
    if not settings.digest_channel:
        return (
            ":eyes: A preview, only you can see it. No digest channel is set, so none is posted: "
            "an admin sets `THROUGHLINE_DIGEST_CHANNEL` (or the App Home settings)."
        )
    at = posts_at.astimezone(ZoneInfo(settings.timezone))
    return (
        f":eyes: A preview, only you can see it: this {PERIOD_NOUNS[settings.digest_cadence().kind]} so far. "
        f"The digest posts in {mrkdwn.channel(settings.digest_channel)} on {at:%a} {at.day} {at:%b %H:%M} "
        f"({mrkdwn.escape(settings.timezone)}), with a chart of health and pace attached in its thread."
    )

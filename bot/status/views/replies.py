"""Status surfaces: the `/initiative` replies (your work, search, an OKR, usage)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.blockkit.blocks import SECTION_LIMIT, context, header, section
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS, STATE_WORDS
from bot.core import mrkdwn
from bot.status.models import (
    DueCheckin,
    HealthCounts,
    InitiativeLine,
    MyWork,
    OkrNotFound,
    OkrOverview,
    Page,
    SearchResult,
    WaitingLine,
    kr_progress,
)
from storage.models import Health, InitiativeState, Okr, OkrKind

USAGE = (
    "*Usage*\n"
    "• `/initiative` – your initiatives, check-ins due from you and what waits on you\n"
    "• `/initiative REQ-17` – the status card of one initiative\n"
    "• `/initiative words` – search initiatives by title or key, best matches first\n"
    "• `/initiative okr O1` – an objective or key result: its key results, roll-up health and "
    "initiatives\n"
    "• `/initiative queue` – requests waiting for triage, by strategic weight\n"
    "• `/initiative stalled` – stalled dependencies and their escalation\n"
    "• `/initiative link REQ-17 URL` – link a Jira issue or epic, a GitHub issue, PR or milestone\n"
    "• `/initiative help` – this list\n"
    "• `/request` – ask another team for something (linked to an OKR)\n"
    "Everything about you is also on Throughline's *Home* tab."
)
HINTS = "`/initiative REQ-17` for a status card · `/initiative help` for more · all of it on the Home tab"


# -- small pieces other surfaces share -----------------------------------------------------------


def when(value: datetime | None, zone: ZoneInfo, fallback: str = "—") -> mrkdwn.Mrkdwn:
    """An instant as a date and time in `zone`."""
    return mrkdwn.date_text(value.astimezone(zone) if value is not None else None, fallback)


def day(value: datetime | date | None, zone: ZoneInfo, fallback: str = "—") -> mrkdwn.Mrkdwn:
    """The day of an instant in `zone` (a date is shown as it is)."""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return mrkdwn.date_text(value, fallback)


def health_text(health: Health | None) -> str:
    return f"{HEALTH_ICON[health]} {HEALTH_WORDS[health]}"


def line(item: InitiativeLine) -> str:
    state = "" if item.state == InitiativeState.ACTIVE else f" · _{STATE_WORDS[item.state]}_"
    return (
        f"{HEALTH_ICON[item.health]} *{mrkdwn.escape(item.key)}* {mrkdwn.escape(item.title)} "
        f"· {mrkdwn.escape(item.okr_key)}{state}"
    )


def waiting_line(item: WaitingLine) -> str:
    waiter = item.waiter
    on = f"your *{mrkdwn.escape(item.provider_key)}*" if item.provider_key else "you"
    what = f": {mrkdwn.escape(item.what)}" if item.what else ""
    by = f" · needed by {mrkdwn.date_text(item.needed_by)}" if item.needed_by else ""
    return (
        f"{HEALTH_ICON[waiter.health]} *{mrkdwn.escape(waiter.key)}* {mrkdwn.escape(waiter.title)} "
        f"({mrkdwn.user(waiter.owner_id or waiter.requester_id)}) waits on {on}{what}{by}"
    )


def due_line(item: DueCheckin, zone: ZoneInfo) -> str:
    reminded = f" · reminded {when(item.reminded_at, zone)}" if item.reminded_at else ""
    return (
        f":memo: *{mrkdwn.escape(item.key)}* {mrkdwn.escape(item.title)} "
        f"· asked {when(item.slot_at, zone)}{reminded}"
    )


def listing(title: str, lines: Sequence[str], footer: str = "") -> list[Block]:
    """`title` then one line each, split over as few sections as Slack's 3,000 characters allow."""
    blocks: list[Block] = []
    chunk = title
    for text in [*lines, *([footer] if footer else [])]:
        text = mrkdwn.truncate(text, SECTION_LIMIT // 2)
        if len(chunk) + 1 + len(text) > SECTION_LIMIT - 10:
            blocks.append(section(chunk))
            chunk = text
        else:
            chunk = f"{chunk}\n{text}" if chunk else text
    if chunk:
        blocks.append(section(chunk))
    return blocks


def counted(title: str, page: Page[Any]) -> str:
    return f"*{title}* ({page.total})" if page.total > len(page.items) else f"*{title}*"


def more_text(page: Page[Any], where: str = "on the Home tab") -> str:
    return f"_…and {page.more} more {where}_" if page.more else ""


# -- replies -------------------------------------------------------------------------------------


def my_work(work: MyWork) -> tuple[str, list[Block]]:
    """The reply to a bare `/initiative`: (fallback text, blocks)."""
    if work.empty:
        text = "You have no initiatives yet, and nothing waits on you."
        return text, [section(f":seedling: {text} Start one with `/request`."), section(USAGE)]
    blocks: list[Block] = [header("Your initiatives")]
    if work.due.items:
        blocks += listing(
            counted("Check-ins due from you", work.due),
            [due_line(d, work.zone) for d in work.due.items],
            more_text(work.due),
        )
    if work.owned.items:
        blocks += listing(
            counted("You own", work.owned), [line(i) for i in work.owned.items], more_text(work.owned)
        )
    if work.waiting_on_me.items:
        blocks += listing(
            counted("Waiting on you", work.waiting_on_me),
            [waiting_line(w) for w in work.waiting_on_me.items],
            more_text(work.waiting_on_me),
        )
    if work.requested.items:
        blocks += listing(
            counted("You asked for", work.requested),
            [line(i) for i in work.requested.items],
            more_text(work.requested),
        )
    blocks.append(context(HINTS))
    text = (
        f"You own {work.owned.total} open initiative(s); {work.due.total} check-in(s) due from you; "
        f"{work.waiting_on_me.total} wait(s) on you."
    )
    return text, blocks


def usage(intro: str = "") -> tuple[str, list[Block]]:
    """How to use `/initiative`, after `intro` (already escaped mrkdwn) when there is one."""
    blocks: list[Block] = [section(intro)] if intro else []
    return (intro or "How to use /initiative"), [*blocks, section(USAGE)]


def unknown_initiative(key: str) -> tuple[str, list[Block]]:
    return usage(
        f":mag: There is no initiative *{mrkdwn.escape(key)}* in this workspace. "
        "Check the key, or search by title: `/initiative some words`."
    )


def search_results(result: SearchResult) -> tuple[str, list[Block]]:
    phrase = mrkdwn.escape(" ".join(result.words))
    if not result.words:
        return usage(":mag: Tell me what to look for: `/initiative some words from the title`.")
    found = result.found
    if not found.items:
        return usage(
            f":mag: No initiative matches “{phrase}”. Try fewer or shorter words, "
            "or a key like `/initiative REQ-17`."
        )
    shown = f"{len(found.items)} of {found.total}" if found.more else f"{found.total}"
    blocks: list[Block] = listing(
        f"*Initiatives matching “{phrase}”* ({shown})", [line(i) for i in found.items]
    )
    if found.more:
        blocks.append(context(f":mag: More results: refine your words ({found.more} more match)."))
    blocks.append(context("`/initiative REQ-17` shows one in full"))
    return f"{found.total} initiative(s) match “{phrase}”.", blocks


# -- /initiative okr ------------------------------------------------------------------------------


def number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def bar(percent: float, width: int = 10) -> str:
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "▓" * filled + "░" * (width - filled)


def okr_label(okr: Okr) -> str:
    """`O1` linked to the OKR tool when it has a URL, then its title."""
    return f"*{mrkdwn.link(okr.url, okr.key)}* {mrkdwn.escape(okr.title)}"


def kr_line(kr: Okr) -> str:
    progress = kr_progress(kr)
    unit = f" {mrkdwn.escape(kr.metric_unit)}" if kr.metric_unit else ""
    if kr.metric_target is None:
        return f"• {okr_label(kr)} · _no target set_"
    current = number(kr.metric_current) if kr.metric_current is not None else "?"
    span = f"{current} of {number(kr.metric_target)}{unit}"  # no start: how far it has come is unknown
    if kr.metric_start is not None:
        span = f"{number(kr.metric_start)} → {current} → {number(kr.metric_target)}{unit}"
    shown = f" · *{progress:.0f}%* {bar(progress)}" if progress is not None else ""
    return f"• {okr_label(kr)}: {span}{shown}"


def health_counts(counts: HealthCounts) -> str:
    parts = [
        f"{HEALTH_ICON[h]} {n} {HEALTH_WORDS[h]}"
        for h, n in (
            (Health.ON_TRACK, counts.on_track),
            (Health.AT_RISK, counts.at_risk),
            (Health.BLOCKED, counts.blocked),
            (None, counts.unreported),
        )
        if n
    ]
    rest = [
        f"{n} {words}"
        for n, words in (
            (counts.proposed, "waiting for triage"),
            (counts.done, "done"),
            (counts.closed, "declined or cancelled"),
        )
        if n
    ]
    return " · ".join(parts) + ("\n" + " · ".join(rest) if rest else "")


def okr_overview(view: OkrOverview) -> tuple[str, list[Block]]:
    okr, counts = view.okr, view.counts
    is_kr = okr.kind is OkrKind.KEY_RESULT
    blocks: list[Block] = [header(f"{okr.key} · {okr.title}")]
    about = ["*Key result*" if is_kr else "*Objective*"]
    if is_kr and view.objective is not None:
        about[0] += f" of {okr_label(view.objective)}"
    about.append(f"owner {mrkdwn.user(okr.owner_id)}")
    if okr.period:
        about.append(mrkdwn.escape(okr.period))
    if okr.url:
        about.append(mrkdwn.link(okr.url, "open in the OKR tool"))
    if okr.archived_at is not None:
        about.append("_archived_")
    blocks.append(section(" · ".join(about)))

    rollup = counts.rollup
    if counts.active:
        health = (
            f"*Health:* {health_text(rollup)}"
            + (f" (the worst of {counts.active} active initiatives)" if rollup is not None else "")
            + "\n"
            + health_counts(counts)
        )
    elif counts.proposed or counts.done or counts.closed:
        health = "*Health:* no active initiatives\n" + health_counts(counts)
    else:
        health = "*Health:* no initiatives yet. Start one with `/request`."
    blocks.append(section(health))

    progress = view.progress
    if is_kr:
        blocks.append(section("*Progress*\n" + kr_line(okr)))
    elif view.key_results:
        overall = (
            f" · overall *{progress:.0f}%* {bar(progress)} (the mean of its key results)"
            if progress is not None
            else ""
        )
        blocks += listing(f"*Key results*{overall}", [kr_line(kr) for kr in view.key_results])
    else:
        blocks.append(section("*Key results:* none yet."))

    page = view.initiatives
    if page.items:
        blocks += listing(
            counted("Open initiatives", page) + " (worst health first)",
            [line(i) for i in page.items],
            more_text(page, "— `/initiative some words` finds one"),
        )
    blocks.append(
        context(
            "Roll-up health is the worst of its active initiatives' (blocked, then at risk, then on "
            "track). Progress is (current − start) ÷ (target − start)."
        )
    )
    text = f"{okr.key} {okr.title}: {HEALTH_WORDS[rollup] if counts.active else 'no active initiatives'}"
    return mrkdwn.escape(text), blocks


def unknown_okr(missing: OkrNotFound) -> tuple[str, list[Block]]:
    if missing.asked:
        intro = f":mag: There is no OKR *{mrkdwn.escape(missing.asked)}* in this workspace."
    else:
        intro = ":mag: Which OKR? Name its key: `/initiative okr O1`."
    if missing.suggestions:
        intro += "\nSome OKRs you can ask about:\n" + "\n".join(
            f"• `{mrkdwn.escape(key)}` {mrkdwn.escape(title)}" for key, title in missing.suggestions
        )
    else:
        intro += "\nNo OKRs have been added to Throughline yet."
    return usage(intro)

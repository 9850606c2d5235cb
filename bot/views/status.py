"""Status surfaces: the `/initiative` replies."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot import mrkdwn
from bot.status import InitiativeLine, MyWork
from bot.views.common import context, header, section
from storage.models import Health, InitiativeState

HEALTH_ICON = {
    Health.ON_TRACK: ":large_green_circle:",
    Health.AT_RISK: ":large_yellow_circle:",
    Health.BLOCKED: ":red_circle:",
    None: ":white_circle:",
}
HEALTH_WORDS = {
    Health.ON_TRACK: "on track",
    Health.AT_RISK: "at risk",
    Health.BLOCKED: "blocked",
    None: "no check-in yet",
}

USAGE = (
    "*Usage*\n"
    "• `/initiative` – your initiatives and what waits on you\n"
    "• `/initiative REQ-17` – the status card of one initiative\n"
    "• `/initiative words` – search initiatives by title\n"
    "• `/initiative okr O1` – everything under an OKR\n"
    "• `/initiative queue` – requests waiting for triage, by strategic weight\n"
    "• `/initiative stalled` – stalled dependencies and their escalation\n"
    "• `/request` – ask another team for something (linked to an OKR)"
)


def line(item: InitiativeLine) -> str:
    state = "" if item.state == InitiativeState.ACTIVE else f" · _{item.state.value}_"
    return (
        f"{HEALTH_ICON[item.health]} *{mrkdwn.escape(item.key)}* {mrkdwn.escape(item.title)} "
        f"· {mrkdwn.escape(item.okr_key)}{state}"
    )


def my_work(work: MyWork) -> tuple[str, list[Block]]:
    """The reply to a bare `/initiative`: (fallback text, blocks)."""
    if work.empty:
        text = "You have no initiatives yet, and nothing waits on you."
        return text, [section(f":seedling: {text} Start one with `/request`."), section(USAGE)]
    blocks: list[Block] = [header("Your initiatives")]
    if work.owned:
        blocks.append(section("*You own*\n" + "\n".join(line(i) for i in work.owned)))
    if work.waiting_on_me:
        rows = [
            f"• {mrkdwn.escape(w.waiter.key)} {mrkdwn.escape(w.waiter.title)} waits on "
            f"{mrkdwn.escape(w.provider_key or 'you')}: {mrkdwn.escape(w.what)}"
            + (f" (by {mrkdwn.date_text(w.needed_by)})" if w.needed_by else "")  # type: ignore[arg-type]
            for w in work.waiting_on_me
        ]
        blocks.append(section("*Waiting on you*\n" + "\n".join(rows)))
    if work.requested:
        blocks.append(section("*You asked for*\n" + "\n".join(line(i) for i in work.requested)))
    blocks.append(context("`/initiative help` for more"))
    return f"You own {len(work.owned)} initiative(s); {len(work.waiting_on_me)} wait(s) on you.", blocks


def usage() -> tuple[str, list[Block]]:
    return "How to use /initiative", [section(USAGE)]

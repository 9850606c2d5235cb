"""The reply to `/initiative queue`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import Block

from bot.blockkit.blocks import context, section
from bot.core import mrkdwn
from bot.intake.models import IMPACT_LEVELS, QueueItem
from bot.intake.views.triage import triage_buttons


def age(created_at: datetime, now: datetime) -> str:
    elapsed = max(now - created_at, timedelta(0))
    if elapsed < timedelta(hours=1):
        return f"{int(elapsed.total_seconds() // 60)}m"
    if elapsed < timedelta(days=1):
        return f"{int(elapsed.total_seconds() // 3600)}h"
    return f"{elapsed.days}d"


def queue(items: Sequence[QueueItem], total: int, now: datetime) -> tuple[str, list[Block]]:
    """The reply to `/initiative queue`: proposed requests by strategic weight, then age."""
    if not items:
        text = "No requests are waiting for triage."
        return text, [section(f":sparkles: {text} `/request` starts one.")]
    blocks: list[Block] = [section(f"*Triage queue* · {total} waiting, ranked by strategic weight, then age")]
    for rank, item in enumerate(items, start=1):
        blocks.append(
            section(
                f"*{rank}.* *{mrkdwn.escape(item.key)}* {mrkdwn.escape(item.title)}\n"
                f"{mrkdwn.escape(item.okr_key)} · weight {item.weight} "
                f"(priority {item.priority} × {IMPACT_LEVELS.get(item.impact_level, '?')} impact) · "
                f"{age(item.created_at, now)} old · from {mrkdwn.user(item.requester_id)}"
            )
        )
        if item.can_triage:
            blocks.append(triage_buttons(f"queue_{item.id}", item.id, ask=False))
    if total > len(items):
        blocks.append(context(f"…and {total - len(items)} more below these."))
    return f"{total} request(s) waiting for triage", blocks

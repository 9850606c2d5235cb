"""The ladder's messages with whatever people type: valid Block Kit, shown as written, never a
mention, link or broadcast they did not mean."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.escalation import views
from bot.escalation.models import AffectedLine, CheckinLine, EscalationCard, Side, StallLine
from storage.models import Health, InitiativeState
from tests.slackfake import MESSAGE_BLOCK_LIMIT, broadcasts, validate_blocks, validate_view

AT = datetime(2026, 3, 9, 8, tzinfo=UTC)
# the only markup the views may produce: mentions of the stored people and the channel
OURS = re.compile(r"<@U0[A-Z]+>|<#C0GOVERN>")
words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)


def card(text: str, *, resolved: bool, snoozed: bool, level: int) -> EscalationCard:
    waiter = Side(
        "REQ-1", text[:150] or "x", "U0ALICE", None, None, "O1", text[:300], None, InitiativeState.ACTIVE
    )
    provider = Side(
        "REQ-2",
        text[:150] or "y",
        "U0BOB",
        text[:100],
        "U0DAN",
        "O2",
        "p99",
        Health.BLOCKED,
        InitiativeState.ACTIVE,
    )
    return EscalationCard(
        escalation_id=7,
        dependency_id=3,
        level=level,
        reason=text[:200],
        opened_at=AT,
        age_days=5,
        what=text,
        needed_by=date(2026, 3, 20),
        waiter=waiter,
        provider=provider,
        told=("U0ALICE", "U0BOB"),
        lead_id="U0LEAD",
        lead_as=f"the lead of {text[:100]}",
        channel="C0GOVERN",
        affected=tuple(AffectedLine(f"REQ-{n}", text[:150], None, "O1", text[:300]) for n in range(20)),
        checkins=(CheckinLine("REQ-2", AT, "U0BOB", Health.AT_RISK, False, text, text),),
        provider_misses=1,
        acknowledged_by="U0GOV",
        acknowledged_at=AT,
        snoozed_until=AT if snoozed else None,
        snooze_reason=text if snoozed else None,
        resolved_at=AT if resolved else None,
        resolved_by="U0GOV" if resolved else None,
        resolution=text if resolved else None,
        level2_days=2,
        level3_days=5,
        tz=ZoneInfo("Europe/Berlin"),
    )


def check_mrkdwn(rendered: str) -> None:
    assert broadcasts([rendered]) == []
    assert "<" not in OURS.sub("", rendered), rendered


@settings(max_examples=60, deadline=None)
@given(text=words, resolved=st.booleans(), snoozed=st.booleans(), level=st.integers(1, 3))
def test_every_ladder_message_escapes_what_people_typed(
    text: str, resolved: bool, snoozed: bool, level: int
) -> None:
    item = card(text, resolved=resolved, snoozed=snoozed, level=level)
    messages = [
        views.level1_dm(item, "U0BOB"),
        views.level1_dm(item, "U0ALICE"),
        views.level2_dm(item),
        views.governance_post(item),
        views.no_governance_channel(item),
    ]
    for fallback, blocks in messages:
        dicts = [b.to_dict() for b in blocks]
        validate_blocks(dicts, MESSAGE_BLOCK_LIMIT)
        check_mrkdwn(fallback)
        check_mrkdwn(json.dumps(dicts, ensure_ascii=False))
    for text_only in (
        views.resolved_dm_text(item),
        views.snooze_ended_text(item),
        views.acknowledged_reply(item),
    ):
        check_mrkdwn(text_only)
    for modal in (views.resolve_modal(item), views.snooze_modal(item)):
        validate_view(modal.to_dict())


@settings(max_examples=30, deadline=None)
@given(text=words, n=st.integers(0, 60))
def test_the_stalled_list_fits_a_message(text: str, n: int) -> None:
    lines = [
        StallLine(
            i, i or None, f"REQ-{i}", text[:150], None, None, text[:100], text[:200], AT, 3, 2, "U0GOV", AT
        )
        for i in range(n)
    ]
    fallback, blocks = views.stalled_list(lines, ZoneInfo("Europe/Berlin"))
    dicts = [b.to_dict() for b in blocks]
    validate_blocks(dicts, MESSAGE_BLOCK_LIMIT)
    check_mrkdwn(json.dumps(dicts, ensure_ascii=False))
    assert fallback == (
        "Nothing is stalled right now." if n == 0 else f"{n} stalled dependenc{'y' if n == 1 else 'ies'}"
    )

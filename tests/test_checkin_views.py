"""The check-in DM stays valid Block Kit however many initiatives are due at once."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.checkins.models import SlotItem, SlotMessage
from bot.checkins.views import prompt as views
from storage.models import CheckinStatus, Health, InitiativeState
from tests.conftest import START
from tests.slackfake import MESSAGE_BLOCK_LIMIT, validate_blocks


def item(n: int, status: CheckinStatus = CheckinStatus.PENDING) -> SlotItem:
    return SlotItem(
        checkin_id=n,
        owner_id="U0ALICE",
        slot_at=START,
        status=status,
        closed_at=None,
        note=None,
        initiative_key=f"REQ-{n}",
        title=f"Initiative {n} <b>",
        state=InitiativeState.ACTIVE,
        current_owner_id="U0ALICE",
        health=Health.ON_TRACK if n % 2 else None,
        progress_pct=n,
        okr_key="O1-KR1",
        okr_title="Conversion",
        metric=None,
        answer=None,
    )


def render(items: list[SlotItem], reminder: bool = False) -> tuple[str, list[dict]]:
    message = SlotMessage("T0FAKE", "U0ALICE", START, ZoneInfo("Europe/Berlin"), items)
    text, blocks = views.slot_message(message, reminder=reminder)
    return text, [b.to_dict() if isinstance(b, Block) else b for b in blocks]


def test_thirty_due_at_once_fit_in_one_message_and_point_to_the_rest() -> None:
    text, blocks = render([item(n) for n in range(1, 31)])
    validate_blocks(blocks, MESSAGE_BLOCK_LIMIT)
    assert text == "Check-in: how are REQ-1, REQ-2, REQ-3, REQ-4, REQ-5 and 25 more going?"
    assert "…and 8 more: `/checkin` lists them all." in str(blocks[-1])
    assert sum(1 for b in blocks if b["type"] == "actions") == views.ITEMS_PER_MESSAGE


def test_a_closed_slot_has_no_buttons_left_and_says_so() -> None:
    _, blocks = render([item(1, CheckinStatus.MISSED), item(2, CheckinStatus.SNOOZED)], reminder=True)
    validate_blocks(blocks, MESSAGE_BLOCK_LIMIT)
    assert all(b["type"] != "actions" for b in blocks)
    intro = blocks[0]["text"]["text"]
    assert intro.startswith(":bell: *Reminder:* I asked on Mon 02 Mar 2026 08:00")
    assert intro.endswith("Nothing left to answer here.")

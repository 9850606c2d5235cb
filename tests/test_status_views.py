"""The status views as pure functions: snapshots of the card and the Home, and any user text
rendering as valid, escaped Block Kit."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.core.config import WorkspaceSettings
from bot.home import views as home_views
from bot.home.models import HomeData, HomePages
from bot.status.models import (
    Card,
    DependencyLine,
    DueCheckin,
    EscalationLine,
    InitiativeLine,
    OtherSide,
    Page,
    SearchResult,
    WaitingLine,
)
from bot.status.views import card as card_views
from bot.status.views import replies as status_views
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
)
from tests.conftest import START
from tests.slackfake import MESSAGE_BLOCK_LIMIT, VIEW_BLOCK_LIMIT, validate_blocks, validate_view

SNAPSHOTS = Path(__file__).parent / "snapshots"
BERLIN = ZoneInfo("Europe/Berlin")
# what our own code may put between < and >: mentions, channels, links
OURS = re.compile(r"<(@U[A-Z0-9]+|#C[A-Z0-9]+|https?://[^|<>\s]+\|[^<>]*)>")


def snapshot(name: str, value: Any) -> None:
    """Compare with tests/snapshots/<name>.json (UPDATE_SNAPSHOTS=1 rewrites it)."""
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 once and review it"
    assert text == path.read_text(), f"{name} changed: review, then UPDATE_SNAPSHOTS=1"


def dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            return [node["text"]]
        return [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def assert_escaped(blocks: list[dict[str, Any]]) -> None:
    for text in mrkdwn_texts(blocks):
        assert "<" not in OURS.sub("", text), text
        assert "<!" not in text


def make_card(title: str = "Faster checkout", what: str = "the API", moved: str = "Designs done") -> Card:
    objective = Okr(
        id=1, key="O1", kind=OkrKind.OBJECTIVE, title="Grow revenue", url="https://okr.example.com/o1"
    )
    okr = Okr(id=2, key="O1-KR1", kind=OkrKind.KEY_RESULT, parent_id=1, title="Conversion 2% → 4%")
    item = Initiative(
        id=17,
        key="REQ-17",
        number=17,
        title=title,
        description=f"About {title}",
        requester_id="U0DAN",
        owner_id="U0ALICE",
        okr_id=2,
        state=InitiativeState.ACTIVE,
        health=Health.AT_RISK,
        health_since=START,
        progress_pct=40,
        due_date=date(2026, 3, 20),
        forecast_date=date(2026, 3, 18),
        next_checkin_at=START + timedelta(days=7),
        consecutive_misses=1,
        source_link="https://fake.slack.com/archives/C0GENERAL/p1",
        created_at=START,
    )
    update = CheckinUpdate(
        author_id="U0ALICE",
        health=Health.AT_RISK,
        done=False,
        moved=moved,
        blockers=f"{what} is late",
        blocked_on_id="U0BOB",
        next_milestone=date(2026, 3, 11),
        created_at=START,
    )
    checkin = Checkin(owner_id="U0ALICE", slot_at=START + timedelta(days=7), status=CheckinStatus.PENDING)
    provider = OtherSide("REQ-5", f"Provider {title}", Health.BLOCKED, InitiativeState.ACTIVE, "U0BOB")
    waiter = OtherSide("REQ-9", "Analytics", None, InitiativeState.PROPOSED, None)
    return Card(
        initiative=item,
        okr=okr,
        objective=objective,
        latest_update=update,
        latest_checkin=checkin,
        waits_on=[
            DependencyLine(what, date(2026, 3, 10), START, provider, None, None),
            DependencyLine(what, None, None, None, "Platform", "U0LEAD"),
        ],
        waited_on_by=[DependencyLine("the checkout", None, None, waiter, None, None)],
        escalations=[EscalationLine(2, f"{what}: blocked 4 days", START, "U0GOV", "REQ-17", "REQ-5")],
        triage_post=None,
        zone=BERLIN,
        can_update=True,
        can_add_dependency=True,
    )


def test_card_snapshot() -> None:
    text, blocks = card_views.card(make_card(), intake_link="https://fake.slack.com/archives/C0TRIAGE/p2")
    snapshot("status_card", {"text": text, "blocks": dicts(blocks)})


def test_shared_card_snapshot() -> None:
    text, blocks = card_views.card(make_card(), shared_by="U0DAN")
    snapshot("status_card_shared", {"text": text, "blocks": dicts(blocks)})


def _line(n: int, title: str = "Initiative") -> InitiativeLine:
    return InitiativeLine(
        f"REQ-{n}",
        f"{title} {n}",
        InitiativeState.ACTIVE,
        Health.ON_TRACK,
        "O1",
        "U0ALICE",
        "U0DAN",
        START + timedelta(days=7),
        date(2026, 4, 1),
    )


def make_home(settings: WorkspaceSettings | None = None, title: str = "Initiative") -> HomeData:
    due = [DueCheckin(f"REQ-{n}", f"{title} {n}", None, START, None) for n in range(1, 6)]
    owned = [_line(n, title) for n in range(1, 11)]
    waiting = [WaitingLine(_line(100 + n, title), f"REQ-{n}", title, date(2026, 3, 9)) for n in range(10)]
    return HomeData(
        user_id="U0ALICE",
        zone=BERLIN,
        pages=HomePages(owned=1),
        due=Page(due, 12, 0),
        owned=Page(owned, 300, 10),
        waiting=Page(waiting, 10, 0),
        requested=Page([], 0, 0),
        settings=settings,
    )


def test_home_snapshot() -> None:
    view = home_views.home(make_home(WorkspaceSettings(triage_channel="C0TRIAGE", admins=["U0ALICE"])), START)
    snapshot("home", view.to_dict())


def test_settings_modal_snapshot() -> None:
    settings = WorkspaceSettings(triage_channel="C0TRIAGE", holidays="DE-BE")
    snapshot("settings_modal", home_views.settings_modal(settings).to_dict())


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@given(title=_TEXT, what=_TEXT, moved=_TEXT)
def test_any_user_text_makes_a_valid_escaped_card(title: str, what: str, moved: str) -> None:
    for shared_by in (None, "U0DAN"):
        text, blocks = card_views.card(make_card(title[:150], what, moved), shared_by=shared_by)
        payload = dicts(blocks)
        validate_blocks(payload, MESSAGE_BLOCK_LIMIT)
        assert_escaped(payload)
        assert "<" not in text


@given(title=_TEXT)
def test_any_user_text_makes_a_valid_escaped_home(title: str) -> None:
    view = home_views.home(make_home(WorkspaceSettings(admins=["U0ALICE"]), title[:150]), START).to_dict()
    validate_view(view)
    assert len(view["blocks"]) <= VIEW_BLOCK_LIMIT
    assert_escaped(view["blocks"])


@given(words=st.lists(_TEXT, min_size=1, max_size=8), titles=st.lists(_TEXT, max_size=15))
def test_any_search_renders_valid_escaped_blocks(words: list[str], titles: list[str]) -> None:
    lines = [_line(n, t[:150]) for n, t in enumerate(titles)]
    text, blocks = status_views.search_results(SearchResult(words, Page(lines, len(lines) + 3)))
    payload = dicts(blocks)
    validate_blocks(payload, MESSAGE_BLOCK_LIMIT)
    assert_escaped(payload)
    assert "<" not in text


def test_home_times_are_in_the_viewers_zone() -> None:
    data = make_home()
    la = HomeData(**{**data.__dict__, "zone": ZoneInfo("America/Los_Angeles")})
    text = json.dumps(home_views.home(la, datetime(2026, 3, 9, 16, tzinfo=UTC)).to_dict())
    assert "Updated Mon 09 Mar 2026 09:00 (America/Los_Angeles)" in text

"""The status card's History button, over HTTP against the fake Slack: a modal of the initiative's
events, newest first, 40 a page with Newer / Older (views.update), within Slack's 100 blocks however
many events it has, with what people typed escaped."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.core import history
from storage.models import Initiative
from tests import factories as f
from tests.conftest import START, Rig
from tests.slackfake import visible_text
from tests.slackhttp import find_action
from tests.test_status_command import ask

EVENTS = 250
KINDS = (
    "checkin.answered",
    "dependency.stalled",
    "escalation.level2",
    "escalation.acknowledged",
    "health.changed",
)


@pytest.fixture
def story(rig: Rig) -> Rig:
    """REQ-17, with EVENTS events, one an hour, the last by Alice with hostile text in it; REQ-18
    with none."""
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        item = f.initiative(s, okr, now=START, number=17, title="Faster checkout")
        f.initiative(s, okr, now=START, number=18, title="Quiet one")
        other = f.initiative(s, okr, now=START, number=19, title="Another's")
        for n in range(EVENTS):
            history.record_initiative(
                s, item, KINDS[n % len(KINDS)], at=START + timedelta(hours=n), actor_id="U0BOB", n=n, level=2
            )
        history.record_initiative(
            s, other, "checkin.answered", at=START + timedelta(days=400), moved="not REQ-17's"
        )
        last = history.record_initiative(
            s,
            item,
            "checkin.answered",
            at=START + timedelta(hours=EVENTS),
            actor_id="U0ALICE",
            moved="<!channel> *shipped* & <https://evil.example|click>",
        )
        assert isinstance(last.initiative_id, int)
    return rig


def opened(rig: Rig, user: str = "U0MALLORY", key: str = "REQ-17") -> dict[str, Any]:
    button = find_action(ask(rig, key, user=user), "status_history")
    assert rig.slack.block_action(button, user=user, channel="C0GENERAL").status == 200
    rig.settle()
    return rig.fake.views_opened(user)[-1]


def turn(rig: Rig, view: dict[str, Any], action_id: str, user: str = "U0MALLORY") -> dict[str, Any]:
    before = len(rig.fake.calls_to("views.update", ok=True))
    assert rig.slack.block_action(find_action(view, action_id), user=user, view=view).status == 200
    rig.settle()
    updates = rig.fake.calls_to("views.update", ok=True)
    assert len(updates) == before + 1
    assert updates[-1].args["view_id"] == view["id"]
    return updates[-1].response["view"]


def entries(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def buttons(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def footer(view: dict[str, Any]) -> str:
    return next(b for b in view["blocks"] if b["type"] == "context")["elements"][0]["text"]


def test_the_history_opens_newest_first_within_the_block_limit(story: Rig) -> None:
    view = opened(story)
    assert view["type"] == "modal" and view["title"]["text"] == "History"
    assert len(view["blocks"]) <= 100
    shown = entries(view)
    assert len(shown) == 40
    newest = shown[0]
    assert newest.startswith("*") and ":memo: Check-in answered by <@U0ALICE>" in newest
    # what was typed is shown as text: no mention, no formatting, no link of the typist's making
    assert newest.endswith("\nmoved: &lt;!channel&gt; *shipped* &amp; &lt;https://evil.example|click&gt;")
    assert f"n: {EVENTS - 1}" in shown[1] and f"n: {EVENTS - 39}" in shown[39]
    assert "not REQ-17" not in visible_text(view)
    assert footer(view).startswith(f"Events 1–40 of {EVENTS + 1}, newest first · times in Europe/Berlin")
    assert buttons(view) == ["status_history_older"]


def test_older_and_newer_page_through_every_event_once(story: Rig) -> None:
    view = opened(story)
    seen = entries(view)
    pages = 1
    while "status_history_older" in buttons(view):
        view = turn(story, view, "status_history_older")
        assert len(view["blocks"]) <= 100
        seen += entries(view)
        pages += 1
    assert pages == 7 and len(seen) == EVENTS + 1
    numbers = [int(t.split("n: ")[1].split(" ")[0]) for t in seen[1:]]
    assert numbers == list(range(EVENTS - 1, -1, -1))  # each once, newest first
    assert footer(view).startswith(f"Events 241–{EVENTS + 1} of {EVENTS + 1}")
    assert buttons(view) == ["status_history_newer"]
    back = turn(story, view, "status_history_newer")
    assert footer(back).startswith(f"Events 201–240 of {EVENTS + 1}")
    assert buttons(back) == ["status_history_newer", "status_history_older"]


def test_escalation_steps_and_decisions_read_in_words(story: Rig) -> None:
    text = "\n".join(entries(opened(story)))
    assert ":rotating_light: Escalated to level 2 by <@U0BOB>" in text
    assert ":eyes: Escalation acknowledged by <@U0BOB>" in text
    assert ":hourglass: Dependency stalled" in text


def test_an_initiative_without_events_says_so(story: Rig) -> None:
    view = opened(story, key="REQ-18")
    assert "Nothing has happened to it yet." in visible_text(view)
    assert buttons(view) == []


def test_a_forged_page_button_is_told_it_does_not_exist(story: Rig) -> None:
    view = opened(story)
    button = find_action(view, "status_history_older")
    button["value"] = json.dumps({"initiative": "REQ-404", "offset": 40})
    story.slack.block_action(button, user="U0MALLORY", view=view)
    story.settle()
    [update] = story.fake.calls_to("views.update", ok=True)
    assert "REQ-404 no longer exists" in visible_text(update.response["view"])
    button["value"] = json.dumps({"initiative": "REQ-17", "offset": 10_000})  # past the end: the last page
    story.slack.block_action(button, user="U0MALLORY", view=view)
    story.settle()
    last = story.fake.calls_to("views.update", ok=True)[-1].response["view"]
    assert footer(last).startswith(f"Events 241–{EVENTS + 1}")
    with story.db.read() as s:
        assert s.get(Initiative, 1) is not None

"""Check-ins that already know: the check-in DM says what moved in the linked work since the
check-in before, and the Update form starts with it, for the owner to keep or correct."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core.config import Settings
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from storage.models import CheckinUpdate
from tests.checkin_support import local, nudges, seed
from tests.conftest import Rig
from tests.slackfake import FakeSlack
from tests.slackhttp import find_action
from tests.trackers_rig import GITHUB_SECRET, JIRA_SECRET, linked_settings

MONDAY = local("Europe/Berlin", 2026, 3, 2, 9)
NEXT_MONDAY = MONDAY + timedelta(days=7)
MOVED = "*Moved in the linked work since the last check-in:*"


@pytest.fixture
def settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    return linked_settings(fake, database_url, jira, github)


@pytest.fixture
def key(rig: Rig, jira: LocalJira, github: LocalGitHub) -> str:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    jira.subscribe(rig.url + "/webhooks/jira", JIRA_SECRET)
    github.subscribe(rig.url + "/webhooks/github", GITHUB_SECRET)
    jira.add_issue("PAY-7", "Fraud rules", status="To Do")
    github.add_issue("acme/web", "Speed up", pull=True)
    for link in (f"{jira.url}/browse/PAY-7", "https://github.com/acme/web/pull/1"):
        reply = rig.slack.command("/initiative", f"link {key} {link}", user="U0ALICE").json()
        assert reply["text"].startswith(":link: Linked")
    return key


def open_update(rig: Rig, message: Any) -> dict[str, Any]:
    rig.slack.block_action(find_action(message, "checkin_update"), user="U0ALICE", message=message)
    rig.settle()
    return rig.fake.views_opened()[-1]


def moved_input(view: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == "checkin_moved")


def test_the_check_in_says_what_moved_and_the_update_starts_with_it(
    rig: Rig, key: str, jira: LocalJira, github: LocalGitHub
) -> None:
    jira.move("PAY-7", "In Progress", assignee="Bo")
    jira.move("PAY-7", "In Review")
    github.change("acme/web", 1, merged=True)
    rig.tick(MONDAY)
    (message,) = nudges(rig.fake, "U0ALICE")
    assert MOVED in message.visible
    assert f"• <{jira.url}/browse/PAY-7|PAY-7> To Do → In Review, assigned to Bo" in message.visible
    assert "• <https://github.com/acme/web/pull/1|acme/web#1> open → merged" in message.visible

    view = open_update(rig, message)
    field = moved_input(view)
    prefilled = field["element"]["initial_value"]
    assert prefilled == "PAY-7: To Do → In Review, assigned to Bo.\nacme/web#1: open → merged."
    assert "keep it, or correct it" in field["hint"]["text"]
    # the owner keeps what the form started with: one choice and Submit
    reply = rig.slack.submit_view(
        view, {"checkin_health": "on_track", "checkin_moved": prefilled}, user="U0ALICE"
    )
    assert reply.json()["response_action"] == "update"
    with rig.db.session() as s:
        (update,) = s.scalars(sa.select(CheckinUpdate)).all()
        assert update.moved == prefilled


def test_the_next_check_in_shows_only_what_moved_since_the_last(rig: Rig, key: str, jira: LocalJira) -> None:
    jira.move("PAY-7", "In Progress")
    rig.tick(MONDAY)
    rig.clock.set(MONDAY + timedelta(days=2))
    jira.move("PAY-7", "Done")
    rig.tick(NEXT_MONDAY)
    first, second = nudges(rig.fake, "U0ALICE")
    assert "To Do → In Progress" in first.visible and "Done" not in first.visible.split(MOVED)[1]
    assert "PAY-7|PAY-7> In Progress → Done" in second.visible and "To Do" not in second.visible


def test_nothing_moved_says_nothing_and_leaves_the_form_empty(rig: Rig, key: str) -> None:
    rig.tick(MONDAY)
    (message,) = nudges(rig.fake, "U0ALICE")
    assert MOVED not in message.visible
    assert "initial_value" not in json.dumps(moved_input(open_update(rig, message)))


def test_one_click_confirms_what_moved(rig: Rig, key: str, jira: LocalJira, github: LocalGitHub) -> None:
    jira.move("PAY-7", "Done")
    github.change("acme/web", 1, merged=True)
    rig.tick(MONDAY)
    (message,) = nudges(rig.fake, "U0ALICE")
    assert "A quick answer below records this as what moved" in message.visible
    reply = rig.slack.block_action(find_action(message, "checkin_on_track"), user="U0ALICE", message=message)
    assert reply.status == 200
    rig.settle()
    with rig.db.session() as s:
        (update,) = s.scalars(sa.select(CheckinUpdate)).all()
        assert (update.health.value, update.moved) == (
            "on_track",
            "PAY-7: To Do → Done.\nacme/web#1: open → merged.",
        )
    (edited,) = nudges(rig.fake, "U0ALICE")  # the DM, edited in place: nothing left to answer
    assert "A quick answer below" not in edited.visible


def test_a_quick_answer_with_nothing_moved_records_nothing_moved(rig: Rig, key: str) -> None:
    rig.tick(MONDAY)
    (message,) = nudges(rig.fake, "U0ALICE")
    rig.slack.block_action(find_action(message, "checkin_at_risk"), user="U0ALICE", message=message)
    rig.settle()
    with rig.db.session() as s:
        (update,) = s.scalars(sa.select(CheckinUpdate)).all()
        assert update.moved == ""

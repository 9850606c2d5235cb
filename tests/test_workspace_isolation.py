"""Two workspaces in one database: each sees only its own OKRs, requests, check-ins, stalls and
digest, even where keys collide (both have an O1 and a REQ-1)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from bot.app.server import EVENTS_PATH
from bot.core import workspaces
from bot.digest.service import build as digest_build
from bot.intake.models import TriageAction
from storage.models import Health, Initiative, InitiativeState
from tests import factories as f
from tests.conftest import SIGNING_SECRET, START, Rig
from tests.slackhttp import SlackHTTP

OURS, THEIRS = "T0FAKE", "T0OTHER"


def seed(rig: Rig) -> None:
    """The same shape in both workspaces, told apart by the words in every title."""
    with rig.db.session() as s:
        for team, word in ((OURS, "Ours"), (THEIRS, "Theirs")):
            workspaces.ensure_workspace(s, team, START)
            o1 = f.okr(s, "O1", now=START, team_id=team, title=f"{word} objective")
            active = f.initiative(
                s,
                o1,
                now=START,
                team_id=team,
                number=1,
                title=f"{word} active work",
                owner_id="U0ALICE",
                health=Health.BLOCKED,
                health_since=START - timedelta(days=9),
            )
            proposed = f.initiative(
                s,
                o1,
                now=START,
                team_id=team,
                number=2,
                title=f"{word} proposed request",
                state=InitiativeState.PROPOSED,
                requester_id="U0ALICE",
            )
            waiter = f.initiative(
                s, o1, now=START, team_id=team, number=3, title=f"{word} waiting work", owner_id="U0BOB"
            )
            f.dependency(
                s,
                waiter,
                active,
                now=START,
                team_id=team,
                what=f"{word} export",
                needed_by=date(2026, 2, 20),
                stalled_since=START - timedelta(days=8),
                stall_reason=f"{word} needed-by date passed",
            )
            f.checkin(s, active, slot_at=START - timedelta(days=1), team_id=team)
            assert proposed.id and waiter.id


@pytest.fixture
def theirs(rig: Rig) -> SlackHTTP:
    return SlackHTTP(rig.url + EVENTS_PATH, SIGNING_SECRET, rig.fake, team_id=THEIRS)


def reply_text(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.text
    return json.dumps(reply.json())


@pytest.mark.parametrize("text", ["", "REQ-1", "work", "okr O1", "queue", "stalled"])
def test_initiative_answers_only_from_the_asking_workspace(rig: Rig, theirs: SlackHTTP, text: str) -> None:
    seed(rig)
    mine = reply_text(rig.slack.command("/initiative", text, user="U0ALICE"))
    other = reply_text(theirs.command("/initiative", text, user="U0ALICE"))
    assert "Ours" in mine and "Theirs" not in mine
    assert "Theirs" in other and "Ours" not in other


def test_okr_search_stays_in_its_workspace(rig: Rig, theirs: SlackHTTP) -> None:
    seed(rig)
    mine = reply_text(rig.slack.command("/okr", "objective", user="U0ALICE"))
    other = reply_text(theirs.command("/okr", "objective", user="U0ALICE"))
    assert "Ours objective" in mine and "Theirs" not in mine
    assert "Theirs objective" in other and "Ours" not in other


def test_the_home_tab_shows_only_the_workspace_it_was_opened_in(rig: Rig, theirs: SlackHTTP) -> None:
    seed(rig)
    theirs.open_home("U0ALICE")
    rig.settle()
    other = json.dumps(rig.fake.home["U0ALICE"])
    rig.slack.open_home("U0ALICE")
    rig.settle()
    mine = json.dumps(rig.fake.home["U0ALICE"])
    assert "Theirs active work" in other and "Ours" not in other
    assert "Ours active work" in mine and "Theirs" not in mine


def test_each_workspaces_digest_counts_only_its_own(rig: Rig) -> None:
    seed(rig)
    with rig.db.session() as s:
        settings = rig.services.workspace(s, OURS)
        mine = digest_build.preview(s, OURS, settings, START + timedelta(days=4))
        other = digest_build.preview(s, THEIRS, settings, START + timedelta(days=4))
    mine_text, other_text = repr(mine), repr(other)
    assert "Ours" in mine_text and "Theirs" not in mine_text
    assert "Theirs" in other_text and "Ours" not in other_text


def test_a_button_naming_another_workspaces_row_reaches_nothing(rig: Rig, theirs: SlackHTTP) -> None:
    """Button values carry row ids; a value forged in one workspace must not act on another's row."""
    seed(rig)
    with rig.db.session() as s:
        ours = {i.key: i.id for i in s.scalars(sa.select(Initiative).where(Initiative.team_id == OURS))}
    button = {"action_id": TriageAction.ACCEPT.value, "value": str(ours["REQ-2"]), "type": "button"}
    reply = theirs.block_action(button, user="U0LEAD", channel="C0TRIAGE")
    rig.settle()
    assert reply.status == 200
    assert rig.fake.views_opened() == []  # no accept modal for a row of another workspace
    (answer,) = rig.fake.responses_all()
    assert answer["response_type"] == "ephemeral" and "doesn't exist" in answer["text"]
    with rig.db.session() as s:
        assert s.get(Initiative, ours["REQ-2"]).state == InitiativeState.PROPOSED

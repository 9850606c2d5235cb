""" "Add a dependency" from anywhere: the button opens the modal where the user is (a message, an
ephemeral reply, the Home tab, another modal), the modal searches open initiatives, and a
submission records the dependency and tells both sides, or puts the error on the right field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk.models.blocks import ActionsBlock
from slack_sdk.models.views import View

from bot.blockkit.blocks import plain
from bot.dependencies.views import add_button
from storage.models import Dependency, InitiativeState
from tests import factories as f
from tests.conftest import START, Rig
from tests.slackhttp import find_action


@pytest.fixture
def keys(rig: Rig) -> dict[str, str]:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        checkout = f.initiative(s, okr, now=START, owner_id="U0ALICE", title="One-click checkout")
        limits = f.initiative(s, okr, now=START, owner_id="U0BOB", title="Rate limits")
        quotas = f.initiative(
            s, okr, now=START, owner_id="U0CAROL", title="Rate quotas", state=InitiativeState.DONE
        )
        return {"checkout": checkout.key, "limits": limits.key, "quotas": quotas.key}


def button(key: str) -> dict[str, Any]:
    return {**add_button(key).to_dict(), "_block_id": "card_actions"}


def open_from_ephemeral(rig: Rig, key: str, user: str = "U0ALICE") -> dict[str, Any]:
    rig.slack.block_action(button(key), user=user, channel="C0GENERAL")
    rig.settle()
    (view,) = rig.fake.views_opened()
    return view


def test_the_button_in_a_message_opens_the_modal(rig: Rig, keys: dict[str, str]) -> None:
    rig.services.client.chat_postMessage(
        channel="U0ALICE",
        text="card",
        blocks=[ActionsBlock(block_id="card", elements=[add_button(keys["checkout"])])],
    )
    (message,) = rig.fake.dms("U0ALICE")
    rig.slack.block_action(find_action(message, "dependency_add"), user="U0ALICE", message=message)
    rig.settle()
    (view,) = rig.fake.views_opened()
    assert view["callback_id"] == "dependency_add_modal"
    assert f"*{keys['checkout']}* One-click checkout" in str(view["blocks"])
    assert [c.method for c in rig.fake.calls if c.method.startswith("views.")] == ["views.open"]


def test_the_button_on_the_home_tab_opens_and_in_a_modal_pushes(rig: Rig, keys: dict[str, str]) -> None:
    home = rig.services.client.views_publish(
        user_id="U0ALICE",
        view=View(type="home", blocks=[ActionsBlock(elements=[add_button(keys["checkout"])])]),
    )["view"]
    rig.slack.block_action(find_action(home, "dependency_add"), user="U0ALICE", view=home)
    rig.settle()
    assert rig.fake.calls_to("views.open", ok=True)

    card = rig.services.client.views_open(
        trigger_id=rig.fake.new_trigger(),
        view=View(
            type="modal",
            title=plain("Status card", 24),
            blocks=[ActionsBlock(elements=[add_button(keys["checkout"])])],
        ),
    )["view"]
    rig.slack.block_action(find_action(card, "dependency_add"), user="U0ALICE", view=card)
    rig.settle()
    (pushed,) = rig.fake.calls_to("views.push", ok=True)
    assert pushed.response["view"]["callback_id"] == "dependency_add_modal"


def test_only_the_owner_requester_or_a_triage_lead_may_add(rig: Rig, keys: dict[str, str]) -> None:
    rig.slack.block_action(button(keys["checkout"]), user="U0MALLORY", channel="C0GENERAL")
    rig.settle()
    assert rig.fake.views_opened() == []
    token = rig.slack.last_response_url.rsplit("/", 1)[1]
    (answer,) = rig.fake.responses[token]
    assert answer["text"].startswith(":no_entry: Only the requester, the owner or a triage lead can add")


def test_the_search_offers_open_initiatives_but_not_itself(rig: Rig, keys: dict[str, str]) -> None:
    view = open_from_ephemeral(rig, keys["checkout"])
    options = rig.slack.suggest(view, "dependency_provider", "rate", user="U0ALICE").json()["options"]
    assert [o["value"] for o in options] == [keys["limits"]]  # quotas is done; checkout is itself
    assert options[0]["text"]["text"] == f"{keys['limits']} Rate limits"
    by_key = rig.slack.suggest(view, "dependency_provider", keys["limits"].lower(), user="U0ALICE").json()
    assert [o["value"] for o in by_key["options"]] == [keys["limits"]]
    odd = rig.slack.suggest(view, "dependency_provider", "100%_", user="U0ALICE").json()
    assert odd["options"] == []


def test_submitting_records_it_and_tells_the_other_side(rig: Rig, keys: dict[str, str]) -> None:
    view = open_from_ephemeral(rig, keys["checkout"])
    reply = rig.slack.submit_view(
        view,
        {
            "dependency_provider": keys["limits"],
            "dependency_what": "the <quota> API",
            "dependency_needed_by": "2026-03-20",
        },
        user="U0ALICE",
    )
    assert reply.status == 200 and reply.body == b""
    rig.settle()
    with rig.db.session() as s:
        (dependency,) = s.scalars(sa.select(Dependency))
        assert dependency.what == "the <quota> API" and dependency.needed_by == date(2026, 3, 20)
        assert dependency.created_by == "U0ALICE"
    (dm,) = rig.fake.dms("U0BOB")
    assert "now waits on" in dm.text and "the &lt;quota&gt; API" in dm.text
    assert rig.fake.dms("U0ALICE") == []  # she recorded it: the modal told her, a DM would be noise


def test_a_team_with_a_contact(rig: Rig, keys: dict[str, str]) -> None:
    view = open_from_ephemeral(rig, keys["checkout"])
    rig.slack.submit_view(
        view,
        {"dependency_team": "Platform", "dependency_contact": "U0DAN", "dependency_what": "a queue"},
        user="U0ALICE",
    )
    rig.settle()
    assert "the Platform team" in rig.fake.dms("U0DAN")[0].text
    with rig.db.session() as s:
        (dependency,) = s.scalars(sa.select(Dependency))
        assert (dependency.provider_team, dependency.provider_contact_id) == ("Platform", "U0DAN")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"dependency_what": "x"}, "dependency_provider", "Say what this waits on"),
        (
            {"dependency_provider": "LIMITS", "dependency_team": "Platform", "dependency_what": "x"},
            "dependency_team",
            "Pick another initiative or a team, not both.",
        ),
        (
            {"dependency_team": "Platform", "dependency_what": "x", "dependency_needed_by": "2026-03-01"},
            "dependency_needed_by",
            "The needed-by date is in the past.",
        ),
        ({"dependency_provider": "REQ-999999", "dependency_what": "x"}, "dependency_provider", "There is no"),
        ({"dependency_provider": "QUOTAS", "dependency_what": "x"}, "dependency_provider", "is done"),
    ],
)
def test_a_wrong_submission_shows_the_error_on_its_field(
    rig: Rig, keys: dict[str, str], values: dict[str, str], field: str, message: str
) -> None:
    view = open_from_ephemeral(rig, keys["checkout"])
    values = {k: keys.get(v.lower(), v) for k, v in values.items()}
    errors = rig.slack.submit_view(view, values, user="U0ALICE").json()["errors"]
    assert list(errors) == [field] and message in errors[field]
    with rig.db.session() as s:
        assert s.scalars(sa.select(Dependency)).first() is None

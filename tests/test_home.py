"""The App Home end to end: what it shows, paging long lists, and the admins' settings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.home.models import HomePages
from storage.models import Checkin, CheckinStatus, Dependency, Event, Health, InitiativeState, Workspace
from tests import factories as f
from tests.conftest import START, Rig
from tests.slackfake import visible_text
from tests.slackhttp import find_action


def open_home(rig: Rig, user: str) -> dict[str, Any]:
    assert rig.slack.open_home(user).status == 200
    rig.settle()
    return rig.fake.home[user]


def blocks_text(view: dict[str, Any]) -> str:
    return visible_text({"blocks": view["blocks"]})


def click(
    rig: Rig, view: dict[str, Any], action_id: str, user: str, value: str | None = None
) -> dict[str, Any]:
    reply = rig.slack.block_action(find_action(view, action_id, value), user=user, view=view)
    assert reply.status == 200
    rig.settle()
    return rig.fake.home.get(user, {})


def pager(view: dict[str, Any], section: str) -> dict[str, str]:
    """The paging buttons of one list: action id -> value."""
    for block in view["blocks"]:
        if block.get("block_id") == f"home_pager_{section}":
            return {e["action_id"]: e["value"] for e in block["elements"]}
    return {}


def test_home_shows_what_is_due_owned_waited_on_and_requested(rig: Rig) -> None:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        mine = f.initiative(
            s,
            okr,
            now=START,
            number=17,
            title="Faster checkout",
            owner_id="U0ALICE",
            health=Health.AT_RISK,
            next_checkin_at=datetime(2026, 3, 9, 8, tzinfo=UTC),
            due_date=date(2026, 3, 20),
        )
        theirs = f.initiative(s, okr, now=START, number=5, title="Analytics <b>", owner_id="U0BOB")
        f.initiative(
            s, okr, now=START, number=8, title="Asked by Alice", owner_id="U0CAROL", requester_id="U0ALICE"
        )
        f.initiative(
            s,
            okr,
            now=START,
            number=9,
            title="Waiting",
            requester_id="U0ALICE",
            state=InitiativeState.PROPOSED,
        )
        f.initiative(
            s,
            okr,
            now=START,
            number=4,
            title="Old ask",
            requester_id="U0ALICE",
            state=InitiativeState.DECLINED,
        )
        f.dependency(s, theirs, mine, now=START, what="the checkout API", needed_by=date(2026, 3, 12))
        f.checkin(s, mine, slot_at=START)
    home = open_home(rig, "U0ALICE")
    text = blocks_text(home)
    assert home["type"] == "home"
    assert "Updated Mon 02 Mar 2026 08:00 (Europe/Berlin)" in text
    assert "*Check-ins due from you* · 1" in text
    assert ":memo: *REQ-17* Faster checkout · asked Mon 02 Mar 2026 08:00" in text
    answer = find_action(home, "checkin_update", json.dumps({"initiative": "REQ-17"}))
    assert answer["text"]["text"] == "Answer"  # answerable from the Home
    assert "next check-in Mon 09 Mar 2026 09:00 · due Fri 20 Mar 2026" in text
    assert "*REQ-5* Analytics &lt;b&gt; (<@U0BOB>) waits on your *REQ-17*: the checkout API" in text
    assert "*REQ-8* Asked by Alice · O1\naccepted · owner <@U0CAROL>" in text
    assert "*REQ-9* Waiting · O1\nwaiting for triage" in text
    assert "*REQ-4* Old ask · O1\ndeclined" in text
    assert text.index("REQ-9") < text.index("REQ-4")  # open requests first
    assert "Settings" not in text and "home_edit_settings" not in json.dumps(home)  # not an admin


def test_an_empty_home_says_what_to_do(rig: Rig) -> None:
    text = blocks_text(open_home(rig, "U0MALLORY"))
    assert "Nothing due from you." in text and "`/request` asks another team" in text


def test_the_messages_tab_publishes_nothing(rig: Rig) -> None:
    rig.slack.event({"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "messages"})
    rig.settle()
    assert rig.fake.calls_to("views.publish") == []


def test_a_redelivered_home_event_is_published_once(rig: Rig) -> None:
    event = {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home"}
    rig.slack.event(event, event_id="Ev0HOME1")
    rig.slack.event(event, event_id="Ev0HOME1", retry_num=1)
    rig.settle()
    assert len(rig.fake.calls_to("views.publish")) == 1


@pytest.fixture
def busy(rig: Rig) -> Rig:
    """Alice owns 300 active initiatives, owes 300 check-ins, is waited on 300 times and has
    asked for 300 things."""
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        owned = f.bulk_initiatives(
            s, okr, 300, now=START, first_number=1, owner_id="U0ALICE", health=Health.ON_TRACK
        )
        asked = f.bulk_initiatives(
            s,
            okr,
            300,
            now=START,
            first_number=1001,
            owner_id="U0BOB",
            requester_id="U0ALICE",
            title="Ask {n}",
        )
        f.bulk_rows(
            s,
            Checkin,
            [
                {
                    "initiative_id": i,
                    "owner_id": "U0ALICE",
                    "slot_at": START,
                    "prompted_at": START,
                    "status": CheckinStatus.PENDING,
                }
                for i in owned
            ],
        )
        f.bulk_rows(
            s,
            Dependency,
            [
                {"waiter_id": w, "provider_id": p, "what": "help", "created_by": "U0BOB", "created_at": START}
                for w, p in zip(asked, owned, strict=True)
            ],
        )
    return rig


def test_300_initiatives_page_within_slacks_100_blocks(busy: Rig) -> None:
    home = open_home(busy, "U0ALICE")
    assert len(home["blocks"]) <= 100
    text = blocks_text(home)
    assert "*Check-ins due from you* · 1–5 of 300" in text
    assert "*Your initiatives* · 1–10 of 300" in text
    assert "*Waiting on you* · 1–10 of 300" in text
    assert "*Your requests* · 1–10 of 300" in text
    assert set(pager(home, "owned")) == {"home_next_page"}  # no Previous on the first page

    second = click(busy, home, "home_next_page", "U0ALICE", pager(home, "owned")["home_next_page"])
    text = blocks_text(second)
    assert "*Your initiatives* · 11–20 of 300" in text
    assert "*Check-ins due from you* · 1–5 of 300" in text  # the other lists stay where they were
    assert set(pager(second, "owned")) == {"home_previous_page", "home_next_page"}
    assert len(second["blocks"]) <= 100

    third = click(busy, second, "home_next_page", "U0ALICE", pager(second, "requested")["home_next_page"])
    assert "*Your requests* · 11–20 of 300" in blocks_text(third)
    assert "*Your initiatives* · 11–20 of 300" in blocks_text(third)

    back = click(busy, third, "home_previous_page", "U0ALICE", pager(third, "owned")["home_previous_page"])
    assert "*Your initiatives* · 1–10 of 300" in blocks_text(back)


def test_the_last_page_has_no_next(busy: Rig) -> None:
    home = open_home(busy, "U0ALICE")
    value = HomePages(owned=29).to_value()
    button = {**find_action(home, "home_next_page", pager(home, "owned")["home_next_page"]), "value": value}
    busy.slack.block_action(button, user="U0ALICE", view=home)
    busy.settle()
    last = busy.fake.home["U0ALICE"]
    assert "*Your initiatives* · 291–300 of 300" in blocks_text(last)
    assert set(pager(last, "owned")) == {"home_previous_page"}


def test_a_forged_page_far_past_the_end_still_renders(busy: Rig) -> None:
    home = open_home(busy, "U0ALICE")
    button = {
        **find_action(home, "home_next_page", pager(home, "owned")["home_next_page"]),
        "value": '{"owned": 99999999, "due": "x"}',
    }
    busy.slack.block_action(button, user="U0ALICE", view=home)
    busy.settle()
    text = blocks_text(busy.fake.home["U0ALICE"])
    assert "Nothing more here." in text and "*Check-ins due from you* · 1–5 of 300" in text


# -- settings ------------------------------------------------------------------------------------


def modal_values(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Every input as the modal shows it initially, with `changes` (by setting name) applied."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        values[block["block_id"]] = (
            element.get("initial_conversation")
            or element.get("initial_value")
            or (element.get("initial_option") or {}).get("value")
        )
    for name, value in changes.items():
        values[f"settings_{name}"] = value
    return values


def open_settings(rig: Rig) -> dict[str, Any]:
    home = open_home(rig, "U0ADMIN")
    reply = rig.slack.block_action(find_action(home, "home_edit_settings"), user="U0ADMIN", view=home)
    assert reply.status == 200
    rig.settle()
    return rig.fake.views_opened()[-1]


def stored_overrides(rig: Rig) -> dict[str, Any]:
    with rig.db.session() as s:
        return s.scalar(sa.select(Workspace.settings).where(Workspace.team_id == f.TEAM)) or {}


def test_admins_see_the_settings(rig: Rig) -> None:
    text = blocks_text(open_home(rig, "U0ADMIN"))
    assert "Settings (admins)" in text
    assert "*Triage channel*\n<#C0TRIAGE>" in text and "*Digest channel*\n<#C0DIGEST>" in text
    assert "weekly on Monday at 09:00 (`weekly:mon@09:00`)" in text
    assert "*Level 3 after (business days from the stall)*\n5" in text


def test_an_admin_saves_settings_and_the_home_shows_them(rig: Rig) -> None:
    modal = open_settings(rig)
    assert modal["callback_id"] == "settings_edit"
    values = modal_values(
        modal,
        digest_channel="C0GENERAL",
        default_cadence=" biweekly:WED@10:30 ",
        reminder_after_hours="8",
        holidays="DE-BE",
        escalate_level3_days="7",
    )
    assert values["settings_triage_channel"] == "C0TRIAGE"  # the form starts from what is in force
    reply = rig.slack.submit_view(modal, values, user="U0ADMIN")
    assert reply.status == 200 and reply.body == b""  # the modal closes
    rig.settle()
    assert stored_overrides(rig) == {
        "digest_channel": "C0GENERAL",
        "default_cadence": "biweekly:wed@10:30",
        "reminder_after_hours": 8,
        "holidays": "DE-BE",
        "escalate_level3_days": 7,
    }
    text = blocks_text(rig.fake.home["U0ADMIN"])
    assert "*Digest channel*\n<#C0GENERAL>" in text
    assert "every two weeks on Wednesday at 10:30" in text and "*Holiday calendar*\nDE-BE" in text
    with rig.db.session() as s:
        event = s.scalars(sa.select(Event).where(Event.kind == "settings.changed")).one()
    assert event.actor_id == "U0ADMIN" and event.data["changes"]["reminder_after_hours"] == 8

    # the new settings are in force: the next form starts from them
    again = open_settings(rig)
    assert modal_values(again)["settings_default_cadence"] == "biweekly:wed@10:30"


def test_clearing_a_channel_is_saved(rig: Rig) -> None:
    modal = open_settings(rig)
    rig.slack.submit_view(modal, modal_values(modal, digest_channel=None), user="U0ADMIN")
    rig.settle()
    assert stored_overrides(rig) == {"digest_channel": None}
    assert "*Digest channel*\n_not set_" in blocks_text(rig.fake.home["U0ADMIN"])


def test_bad_settings_are_refused_on_their_fields(rig: Rig) -> None:
    modal = open_settings(rig)
    values = modal_values(
        modal,
        default_cadence="fortnightly",
        reminder_after_hours="0",
        holidays="XX-YY",
        stall_missed_checkins="2.5",
    )
    body = rig.slack.submit_view(modal, values, user="U0ADMIN").json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert set(errors) == {
        "settings_default_cadence",
        "settings_reminder_after_hours",
        "settings_holidays",
        "settings_stall_missed_checkins",
    }
    assert "weekly:mon@09:00" in errors["settings_default_cadence"]
    assert errors["settings_reminder_after_hours"] == "Enter 1 or more."
    assert errors["settings_stall_missed_checkins"] == "Enter a whole number."
    rig.settle()
    assert stored_overrides(rig) == {}


def test_level_3_must_come_after_level_2(rig: Rig) -> None:
    modal = open_settings(rig)
    values = modal_values(modal, escalate_level2_days="5", escalate_level3_days="5")
    body = rig.slack.submit_view(modal, values, user="U0ADMIN").json()
    assert list(body["errors"]) == ["settings_escalate_level3_days"]
    assert stored_overrides(rig) == {}


def test_a_non_admin_cannot_open_the_settings(rig: Rig) -> None:
    admin_home = open_home(rig, "U0ADMIN")
    mallory_home = open_home(rig, "U0MALLORY")
    button = find_action(admin_home, "home_edit_settings")  # not on Mallory's Home: forged
    opened_before = len(rig.fake.views_opened())
    rig.slack.block_action(button, user="U0MALLORY", view=mallory_home)
    rig.settle()
    [notice] = rig.fake.views_opened()[opened_before:]
    assert notice.get("callback_id", "") != "settings_edit"
    assert "Only a Throughline admin can change Throughline's settings" in visible_text(notice)


def test_a_forged_settings_submission_saves_nothing(rig: Rig) -> None:
    modal = open_settings(rig)
    values = modal_values(modal, triage_channel="C0GENERAL")
    body = rig.slack.submit_view(modal, values, user="U0MALLORY").json()
    assert body["response_action"] == "push"
    assert "Only a Throughline admin" in visible_text(body["view"])
    rig.settle()
    assert stored_overrides(rig) == {}
    assert "U0MALLORY" not in rig.fake.home

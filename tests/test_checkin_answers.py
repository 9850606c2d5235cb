"""Answering a check-in over HTTP, as Slack sends it: the DM's quick buttons, the Update modal
(from a DM, an ephemeral reply, the App Home or another modal), what is stored, who is told."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import sqlalchemy as sa

from bot.checkins.views import prompt as views
from storage.models import (
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    Event,
    Health,
    Initiative,
    InitiativeState,
    Outbox,
)
from tests import factories as f
from tests.checkin_support import checkin_rows, initiative, local, notices, nudges, okr_of, seed
from tests.conftest import Rig
from tests.hostile import INJECTIONS, assert_nothing_live
from tests.slackhttp import find_action

MONDAY = local("Europe/Berlin", 2026, 3, 2, 9)


def nudge(rig: Rig, owner: str = "U0ALICE", **kw: Any) -> tuple[str, Any]:
    """Seed an initiative for `owner`, tick at Monday 09:00 Berlin: (key, the DM)."""
    key = seed(rig.db, rig.services.defaults, owner=owner, **kw)
    rig.tick(MONDAY)
    return key, nudges(rig.fake, owner)[-1]


def updates(rig: Rig, key: str) -> list[CheckinUpdate]:
    with rig.db.session() as s:
        found = initiative(rig.db, key)
        return list(
            s.scalars(
                sa.select(CheckinUpdate)
                .where(CheckinUpdate.initiative_id == found.id)
                .order_by(CheckinUpdate.id)
            )
        )


def events(rig: Rig) -> list[str]:
    with rig.db.session() as s:
        return list(s.scalars(sa.select(Event.kind).order_by(Event.id)))


def open_update(rig: Rig, message: Any, user: str = "U0ALICE") -> dict[str, Any]:
    rig.slack.block_action(find_action(message, "checkin_update"), user=user, message=message)
    rig.settle()
    return rig.fake.views_opened()[-1]


def test_a_quick_answer_is_recorded_and_the_dm_edited_in_place(rig: Rig) -> None:
    key, message = nudge(rig, title="Checkout <b>revamp</b>")
    assert message.text == f"Check-in: how is {key} going?"
    for label in ("On track", "At risk", "Blocked", "Done", "Update…"):
        assert label in message.visible

    reply = rig.slack.block_action(find_action(message, "checkin_at_risk"), user="U0ALICE", message=message)
    assert reply.status == 200
    rig.clock.set(MONDAY)
    rig.settle()

    (update,) = updates(rig, key)
    assert (update.author_id, update.health, update.done) == ("U0ALICE", Health.AT_RISK, False)
    stored = initiative(rig.db, key)
    assert stored.health == Health.AT_RISK and stored.health_since == MONDAY
    assert stored.last_checkin_at == MONDAY and stored.consecutive_misses == 0
    assert [c.status for c in checkin_rows(rig.db, key)] == [CheckinStatus.ANSWERED]
    # the same DM now shows what was recorded; no more quick answers, Update stays for corrections
    (edited,) = nudges(rig.fake, "U0ALICE")
    assert edited.ts == message.ts and len(edited.history) == 1
    assert (
        "Recorded :large_yellow_circle: *at risk*, by <@U0ALICE> on Mon 02 Mar 2026 09:00" in edited.visible
    )
    assert "On track" not in edited.visible and "Update…" in edited.visible
    assert "Checkout &lt;b&gt;revamp&lt;/b&gt;" in edited.visible
    assert events(rig) == ["checkin.asked", "health.changed", "checkin.answered"]
    # the requester hears that it turned at risk
    (told,) = notices(rig.fake, "U0DAN")
    assert f"*{key}* Checkout &lt;b&gt;revamp&lt;/b&gt; is now *at risk*, says <@U0ALICE>" in told.text


def test_a_stale_button_changes_nothing_and_says_who_answered(rig: Rig) -> None:
    key, message = nudge(rig)
    on_track, blocked = find_action(message, "checkin_on_track"), find_action(message, "checkin_blocked")
    rig.slack.block_action(on_track, user="U0ALICE", message=message)
    rig.settle()
    reply = rig.slack.block_action(blocked, user="U0ALICE", message=message)  # an old copy of the DM
    rig.settle()

    assert reply.status == 200
    (response,) = rig.fake.responses_all()
    assert response["response_type"] == "ephemeral" and response.get("replace_original") is False
    assert response["text"] == (
        f":information_source: {key}'s check-in of Mon 02 Mar 2026 09:00 was already answered by <@U0ALICE> "
        "on Mon 02 Mar 2026 09:00. Nothing was changed; use *Update…* to add a correction."
    )
    assert [u.health for u in updates(rig, key)] == [Health.ON_TRACK]
    assert initiative(rig.db, key).health == Health.ON_TRACK


def test_a_double_click_records_one_answer(rig: Rig) -> None:
    key, message = nudge(rig)
    action = find_action(message, "checkin_on_track")
    replies: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: replies.append(rig.slack.block_action(action, user="U0ALICE", message=message))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    rig.settle()
    assert [r.status for r in replies] == [200, 200]
    assert len(updates(rig, key)) == 1
    assert len(rig.fake.responses_all()) == 1  # the second click is told it was answered


def test_only_the_owner_may_answer_or_open_the_update(rig: Rig) -> None:
    key, message = nudge(rig)
    rig.slack.block_action(find_action(message, "checkin_blocked"), user="U0MALLORY", message=message)
    rig.slack.block_action(find_action(message, "checkin_update"), user="U0MALLORY", message=message)
    rig.settle()
    refusal = (
        f":no_entry: Only the owner can post a check-in for this initiative on {key}. Nothing was changed."
    )
    assert [r["text"] for r in rig.fake.responses_all()] == [refusal, refusal]
    assert updates(rig, key) == [] and rig.fake.views_opened() == []


def test_the_update_modal_records_a_metric_value_and_moves_the_kr(rig: Rig) -> None:
    key, message = nudge(rig)
    view = open_update(rig, message)
    assert view["callback_id"] == "checkin_update"
    shown = json.dumps(view["blocks"])
    assert "now 12.5" not in shown and "Now 12.5, target 20 (from 10)" in shown
    assert json.loads(view["private_metadata"]) == {
        "initiative": key,
        "checkin": checkin_rows(rig.db, key)[0].id,
    }

    reply = rig.slack.submit_view(
        view,
        {
            "checkin_health": "on_track",
            "checkin_progress": "40",
            "checkin_metric": "15.5",
            "checkin_moved": "Shipped the new cart to 10% of users",
            "checkin_next_milestone": "2026-03-20",
        },
        user="U0ALICE",
    )
    body = reply.json()
    assert body["response_action"] == "update"
    assert f"Recorded :large_green_circle: on track for *{key}*." in json.dumps(body["view"])
    rig.settle()

    (update,) = updates(rig, key)
    assert (update.progress_pct, update.metric_value, update.next_milestone) == (40, 15.5, date(2026, 3, 20))
    assert update.moved == "Shipped the new cart to 10% of users"
    assert okr_of(rig.db, key).metric_current == 15.5
    stored = initiative(rig.db, key)
    assert (stored.health, stored.progress_pct, stored.forecast_date) == (
        Health.ON_TRACK,
        40,
        date(2026, 3, 20),
    )
    (edited,) = nudges(rig.fake, "U0ALICE")
    kr = okr_of(rig.db, key).key
    assert (
        f"Recorded :large_green_circle: *on track* · 40% · {kr} → 15.5 of 20 %, by <@U0ALICE>"
        in edited.visible
    )
    assert f"{kr} Conversion" in edited.visible and "now 15.5 of 20 %" in edited.visible
    assert "okr.metric_updated" in events(rig)
    assert notices(rig.fake, "U0DAN") == []  # on track: nobody needs telling


def test_update_errors_land_on_the_right_fields_and_nothing_is_stored(rig: Rig) -> None:
    key, message = nudge(rig)
    view = open_update(rig, message)
    reply = rig.slack.submit_view(
        view,
        {
            "checkin_health": "blocked",
            "checkin_progress": "140",
            "checkin_metric": "lots",
            "checkin_next_milestone": "2026-02-27",
        },
        user="U0ALICE",
    )
    assert reply.json() == {
        "response_action": "errors",
        "errors": {
            "checkin_progress": "A whole number from 0 to 100.",
            "checkin_metric": "A number, like 42 or 3.5.",
            "checkin_next_milestone": "The next milestone is in the past; pick today or later.",
            "checkin_blockers": "Say what blocks it (or on whom, below).",
        },
    }
    rig.settle()
    assert updates(rig, key) == [] and checkin_rows(rig.db, key)[0].status == CheckinStatus.PENDING


def test_an_update_on_an_answered_slot_is_a_correction(rig: Rig) -> None:
    key, message = nudge(rig)
    rig.slack.block_action(find_action(message, "checkin_on_track"), user="U0ALICE", message=message)
    rig.settle()
    edited = nudges(rig.fake, "U0ALICE")[0]
    view = open_update(rig, edited)
    assert "was already answered by <@U0ALICE>" in json.dumps(view["blocks"])
    rig.slack.submit_view(
        view, {"checkin_health": "at_risk", "checkin_blockers": "The payments API is late"}, user="U0ALICE"
    )
    rig.settle()

    assert [(u.health, u.checkin_id) for u in updates(rig, key)] == [
        (Health.ON_TRACK, checkin_rows(rig.db, key)[0].id),
        (Health.AT_RISK, checkin_rows(rig.db, key)[0].id),
    ]
    assert checkin_rows(rig.db, key)[0].status == CheckinStatus.ANSWERED
    assert initiative(rig.db, key).health == Health.AT_RISK
    final = nudges(rig.fake, "U0ALICE")[0]
    assert "*at risk*, by <@U0ALICE> on Mon 02 Mar 2026 09:00 (corrected since)" in final.visible
    (told,) = notices(rig.fake, "U0DAN")
    assert "What blocks it: The payments API is late" in told.text


def test_health_turning_at_risk_tells_the_requester_and_dependent_owners_once(rig: Rig) -> None:
    key, message = nudge(rig)  # Alice's; Dan asked for it
    with rig.db.session() as s:
        provider = s.scalars(sa.select(Initiative).where(Initiative.key == key)).one()
        waiter = f.initiative(
            s, f.okr(s, "O99", now=MONDAY), now=MONDAY, owner_id="U0BOB", title="Mobile app"
        )
        f.dependency(s, waiter, provider, now=MONDAY, what="the cart API", needed_by=date(2026, 4, 1))
        waiter_key = waiter.key
    rig.slack.block_action(find_action(message, "checkin_blocked"), user="U0ALICE", message=message)
    rig.settle()

    (to_bob,) = notices(rig.fake, "U0BOB")
    assert f":red_circle: *{key}*" in to_bob.text and "is now *blocked*" in to_bob.text
    assert f"Your *{waiter_key}* Mobile app waits on it for the cart API by Wed 01 Apr 2026." in to_bob.text
    (to_dan,) = notices(rig.fake, "U0DAN")
    assert "_You asked for it._" in to_dan.text
    with rig.db.session() as s:
        keys = set(s.scalars(sa.select(Outbox.key).where(Outbox.key.startswith("health:"))))
    assert keys == {"health:U0BOB:2026-03-02", "health:U0DAN:2026-03-02"}  # one DM a person a day

    # still blocked in a correction: nobody is told again
    view = open_update(rig, nudges(rig.fake, "U0ALICE")[0])
    rig.slack.submit_view(view, {"checkin_health": "blocked", "checkin_blockers": "still"}, user="U0ALICE")
    rig.settle()
    assert len(notices(rig.fake, "U0BOB")) == 1 and len(notices(rig.fake, "U0DAN")) == 1


def test_waiting_on_another_initiative_records_a_dependency(rig: Rig) -> None:
    key, message = nudge(rig)
    other = seed(rig.db, rig.services.defaults, owner="U0BOB", title="Payments API")
    view = open_update(rig, message)

    options = rig.slack.suggest(view, "checkin_waiting_on", "paym", user="U0ALICE").json()
    assert options == {
        "option_groups": [
            {
                "label": {"type": "plain_text", "text": "Initiatives", "emoji": True},
                "options": [
                    {
                        "text": {"type": "plain_text", "text": f"{other} Payments API", "emoji": True},
                        "value": other,
                    }
                ],
            }
        ]
    }
    everything = rig.slack.suggest(view, "checkin_waiting_on", "", user="U0ALICE").json()
    values = [o["value"] for g in everything["option_groups"] for o in g["options"]]
    assert other in values and key not in values and "team:Platform" in values
    # teams are found as initiatives are: every word typed, in any order
    by_words = rig.slack.suggest(view, "checkin_waiting_on", "team platf", user="U0ALICE").json()
    assert [o["value"] for g in by_words["option_groups"] for o in g["options"]] == ["team:Platform"]

    reply = rig.slack.submit_view(
        view,
        {
            "checkin_health": "at_risk",
            "checkin_blockers": "Need the refund endpoint",
            "checkin_waiting_on": other,
            "checkin_needed_by": "2026-03-16",
        },
        user="U0ALICE",
    )
    assert reply.json()["response_action"] == "update"
    rig.settle()
    provider_id = initiative(rig.db, other).id
    with rig.db.session() as s:
        (dependency,) = s.scalars(sa.select(Dependency))
        assert dependency.what == "Need the refund endpoint" and dependency.needed_by == date(2026, 3, 16)
        assert dependency.provider_id == provider_id
    assert any("now waits on" in m.text for m in notices(rig.fake, "U0BOB"))


def test_blocked_on_a_team_lead_records_a_dependency_on_their_team(rig: Rig) -> None:
    key, message = nudge(rig)
    view = open_update(rig, message)
    rig.slack.submit_view(
        view,
        {
            "checkin_health": "blocked",
            "checkin_blocked_on": "U0LEAD",
            "checkin_blockers": "A queue for events",
        },
        user="U0ALICE",
    )
    rig.settle()
    with rig.db.session() as s:
        (dependency,) = s.scalars(sa.select(Dependency))
        assert (dependency.provider_team, dependency.provider_contact_id) == ("Platform", "U0LEAD")
    assert updates(rig, key)[0].blocked_on_id == "U0LEAD"
    assert any("the Platform team" in m.text for m in notices(rig.fake, "U0LEAD"))


def test_dependency_refusals_land_on_the_modals_fields(rig: Rig) -> None:
    key, message = nudge(rig)
    other = seed(rig.db, rig.services.defaults, owner="U0BOB")
    with rig.db.session() as s:
        mine = s.scalars(sa.select(Initiative).where(Initiative.key == key)).one()
        theirs = s.scalars(sa.select(Initiative).where(Initiative.key == other)).one()
        f.dependency(s, theirs, mine, now=MONDAY)  # theirs already waits on mine
    view = open_update(rig, message)
    circle = rig.slack.submit_view(
        view, {"checkin_health": "at_risk", "checkin_waiting_on": other}, user="U0ALICE"
    ).json()
    assert circle == {
        "response_action": "errors",
        "errors": {"checkin_waiting_on": f"{other} already waits on {key}: that would be a circle."},
    }
    past = rig.slack.submit_view(
        view,
        {"checkin_health": "at_risk", "checkin_waiting_on": "team:Data", "checkin_needed_by": "2026-02-01"},
        user="U0ALICE",
    ).json()
    assert past == {
        "response_action": "errors",
        "errors": {"checkin_needed_by": "The needed-by date is in the past."},
    }
    lonely = rig.slack.submit_view(
        view, {"checkin_health": "on_track", "checkin_needed_by": "2026-04-01"}, user="U0ALICE"
    ).json()
    assert list(lonely["errors"]) == ["checkin_needed_by"]
    rig.settle()
    assert updates(rig, key) == []


def test_done_closes_the_initiative_and_stops_its_check_ins(rig: Rig) -> None:
    key, message = nudge(rig)
    rig.slack.block_action(find_action(message, "checkin_done"), user="U0ALICE", message=message)
    rig.settle()
    stored = initiative(rig.db, key)
    assert (
        stored.state == InitiativeState.DONE and stored.next_checkin_at is None and stored.progress_pct == 100
    )
    assert stored.done_at == rig.clock.now()  # when the digest counts it as done
    assert "Recorded :checkered_flag: *done*" in nudges(rig.fake, "U0ALICE")[0].visible
    rig.tick(local("Europe/Berlin", 2026, 3, 9, 9))
    assert len(nudges(rig.fake, "U0ALICE")) == 1
    # and the Update button now says so
    rig.slack.block_action(
        views.update_button(key).to_dict() | {"_block_id": "x"}, user="U0ALICE", channel="D0ALICE"
    )
    rig.settle()
    assert "is done: check-ins on it are closed" in rig.fake.responses_all()[-1]["text"]


def test_the_update_button_opens_from_the_home_tab_a_modal_and_an_ephemeral_reply(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    button = views.update_button(key).to_dict()
    client = rig.runtime.client
    home = client.views_publish(
        user_id="U0ALICE",
        view={"type": "home", "blocks": [{"type": "actions", "block_id": "h", "elements": [button]}]},
    )["view"]
    rig.slack.block_action(find_action(home, "checkin_update"), user="U0ALICE", view=home)
    rig.settle()
    card = client.views_open(
        trigger_id=rig.fake.new_trigger(),
        view={
            "type": "modal",
            "title": {"type": "plain_text", "text": "Status card"},
            "blocks": [{"type": "actions", "block_id": "c", "elements": [button]}],
        },
    )["view"]
    rig.slack.block_action(find_action(card, "checkin_update"), user="U0ALICE", view=card)
    rig.settle()
    rig.slack.block_action(
        find_action({"blocks": [{"type": "actions", "elements": [button]}]}, "checkin_update"),
        user="U0ALICE",
        channel="C0GENERAL",
    )
    rig.settle()

    opened = [c.method for c in rig.fake.calls if c.method in ("views.open", "views.push") and c.ok]
    assert opened == [
        "views.open",
        "views.open",
        "views.push",
        "views.open",
    ]  # home, (the card), card, ephemeral
    modals = [v for v in rig.fake.views_opened() if v.get("callback_id") == "checkin_update"]
    metadata = [json.loads(m["private_metadata"]) for m in modals]
    # the one opened from the Home remembers it, so the Home is re-published after the answer
    assert metadata == [{"initiative": key, "home": True}, {"initiative": key}, {"initiative": key}]

    # from the Home tab, nothing pending yet: the update is recorded without a check-in
    rig.slack.submit_view(modals[0], {"checkin_health": "at_risk", "checkin_blockers": "x"}, user="U0ALICE")
    rig.settle()
    (update,) = updates(rig, key)
    assert update.checkin_id is None and initiative(rig.db, key).health == Health.AT_RISK


def test_a_refused_update_from_the_home_tab_shows_a_small_modal(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    home = rig.runtime.client.views_publish(
        user_id="U0MALLORY",
        view={
            "type": "home",
            "blocks": [
                {"type": "actions", "block_id": "h", "elements": [views.update_button(key).to_dict()]}
            ],
        },
    )["view"]
    rig.slack.block_action(find_action(home, "checkin_update"), user="U0MALLORY", view=home)
    rig.settle()
    (notice,) = rig.fake.views_opened()
    assert "Only the owner can post a check-in" in json.dumps(notice["blocks"])


def test_hostile_text_in_an_update_never_comes_back_live(rig: Rig) -> None:
    hostile = " ".join(INJECTIONS)
    key, message = nudge(rig, title=hostile[:150])
    with rig.db.session() as s:
        provider = s.scalars(sa.select(Initiative).where(Initiative.key == key)).one()
        waiter = f.initiative(
            s, f.okr(s, "O98", now=MONDAY), now=MONDAY, owner_id="U0BOB", title=hostile[:150]
        )
        f.dependency(s, waiter, provider, now=MONDAY, what=hostile)
    view = open_update(rig, message)
    rig.slack.submit_view(
        view,
        {"checkin_health": "blocked", "checkin_moved": hostile, "checkin_blockers": hostile[:500]},
        user="U0ALICE",
    )
    rig.settle()
    assert len(notices(rig.fake, "U0BOB")) == 1 and len(updates(rig, key)) == 1
    assert_nothing_live(rig.fake)


def test_update_from_last_weeks_missed_dm_answers_this_weeks_check_in(rig: Rig) -> None:
    key, _ = nudge(rig)
    rig.tick(local("Europe/Berlin", 2026, 3, 9, 9))  # no answer: last week's is missed, this week's asked
    old_dm = nudges(rig.fake, "U0ALICE")[0]
    missed, pending = checkin_rows(rig.db, key)
    assert (missed.status, pending.status) == (CheckinStatus.MISSED, CheckinStatus.PENDING)

    view = open_update(rig, old_dm)
    values = {"checkin_health": "on_track", "checkin_moved": "beta shipped"}
    rig.slack.submit_view(view, values, user="U0ALICE")
    rig.settle()

    missed, answered = checkin_rows(rig.db, key)
    assert (missed.status, answered.status) == (CheckinStatus.MISSED, CheckinStatus.ANSWERED)
    assert [u.checkin_id for u in updates(rig, key)] == [answered.id]
    assert initiative(rig.db, key).consecutive_misses == 0

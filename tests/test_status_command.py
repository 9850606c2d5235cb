"""`/initiative` end to end: every form through the HTTP door, as the person who typed it sees it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from storage.models import Checkin, CheckinStatus, Health, Initiative, InitiativeState, Okr
from tests import factories as f
from tests.conftest import START, Rig
from tests.slackfake import visible_text
from tests.slackhttp import find_action

USAGE_MARK = "/initiative okr O1"  # a line only the usage has


def ask(rig: Rig, text: str, user: str = "U0ALICE", channel: str = "C0GENERAL") -> dict[str, Any]:
    reply = rig.slack.command("/initiative", text, user=user, channel=channel)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    return body


def shown(body: dict[str, Any]) -> str:
    return visible_text({"blocks": body.get("blocks"), "text": body.get("text")})


def action_ids(body: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in body.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
def world(rig: Rig) -> Rig:
    """REQ-17 (Alice's, at risk) waits on REQ-5 (Bob's, blocked, escalated) and on the Platform
    team; REQ-9 (Carol's) waits on REQ-17. Bob is in Los Angeles."""
    with rig.db.session() as s:
        f.person(s, "U0BOB", tz="America/Los_Angeles", now=START)
        o1 = f.okr(s, "O1", now=START, title="Grow revenue", url="https://okr.example.com/o1")
        kr = f.okr(
            s,
            "O1-KR1",
            now=START,
            parent=o1,
            title="Checkout conversion 2% → 4%",
            url="https://okr.example.com/o1/kr1",
            metric_start=2,
            metric_target=4,
            metric_current=3,
            metric_unit="%",
        )
        item = f.initiative(
            s,
            kr,
            now=START,
            number=17,
            title="Faster checkout <!channel> & co",
            description="Cut the checkout to <one> page",
            owner_id="U0ALICE",
            requester_id="U0DAN",
            health=Health.AT_RISK,
            due_date=date(2026, 3, 20),
            forecast_date=date(2026, 3, 25),
            next_checkin_at=datetime(2026, 3, 9, 8, 0, tzinfo=UTC),
            source_link="https://fake.slack.com/archives/C0GENERAL/p1772400000000100",
        )
        provider = f.initiative(
            s, kr, now=START, number=5, title="Rate-limit API", owner_id="U0BOB", health=Health.BLOCKED
        )
        waiter = f.initiative(
            s, o1, now=START, number=9, title="Checkout analytics", owner_id="U0CAROL", health=Health.ON_TRACK
        )
        stalled = f.dependency(
            s, item, provider, now=START, what="the rate-limit API", needed_by=date(2026, 3, 10)
        )
        f.dependency(
            s, item, provider_team="Platform", provider_contact_id="U0LEAD", now=START, what="a queue"
        )
        f.dependency(s, waiter, item, now=START, what="the new checkout")
        f.escalation(s, stalled, now=START, level=2, reason="REQ-5 blocked for 4 business days")
        f.checkin_update(
            s,
            item,
            at=START - timedelta(days=3),
            moved="Designs signed off",
            blockers="Waiting on <API>",
            health=Health.AT_RISK,
        )
        f.checkin(s, item, slot_at=START)
        f.triage_post(s, item, now=START, ts="1772434800.000100")
    return rig


# -- the status card ------------------------------------------------------------------------------


def test_the_card_answers_where_is_this(world: Rig) -> None:
    body = ask(world, "REQ-17", user="U0ALICE")
    text = shown(body)
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "REQ-17 · Faster checkout <!channel> & co", "emoji": True},
    }
    # user text is escaped in mrkdwn: no broadcast, no fake link
    assert "Faster checkout &lt;!channel&gt; &amp; co" in body["text"]
    assert "Cut the checkout to &lt;one&gt; page" in text
    assert "<https://okr.example.com/o1/kr1|O1-KR1>* Checkout conversion 2% → 4%" in text
    assert "under *<https://okr.example.com/o1|O1>* Grow revenue" in text
    assert "*Owner*\n<@U0ALICE>" in text
    assert "at risk since Mon 02 Mar 2026" in text
    assert "*Due*\nFri 20 Mar 2026" in text
    assert "Wed 25 Mar 2026 · :warning: 5 days late" in text
    assert "*Next check-in*\nMon 09 Mar 2026 09:00" in text  # Alice: Berlin time
    assert "Designs signed off" in text and "Waiting on &lt;API&gt;" in text
    assert "Asked Mon 02 Mar 2026 08:00; waiting for <@U0ALICE>'s answer" in text
    assert (
        ":red_circle: *REQ-5* Rate-limit API · blocked — for the rate-limit API · needed by Tue 10 Mar"
        in text
    )
    assert "the *Platform* team (contact <@U0LEAD>) — for a queue" in text
    assert "*Waited on by*\n:large_green_circle: *REQ-9* Checkout analytics · on track" in text
    assert (
        "*Level 2* since Mon 02 Mar 2026 — REQ-17 waits on REQ-5: REQ-5 blocked for 4 business days" in text
    )
    assert "<https://fake.slack.com/archives/C0TRIAGE/p1772434800000100|Intake message>" in text
    assert "<https://fake.slack.com/archives/C0GENERAL/p1772400000000100|Original message>" in text
    assert action_ids(body) == ["status_share", "checkin_update", "dependency_add", "status_history"]
    update = find_action(body, "checkin_update")
    assert json.loads(update["value"]) == {"initiative": "REQ-17"}
    assert json.loads(find_action(body, "dependency_add")["value"]) == {"initiative": "REQ-17"}
    world.settle()
    assert [c.args["channel"] for c in world.fake.calls_to("chat.getPermalink")] == ["C0TRIAGE"]
    assert world.fake.posts() == []  # the answer is ephemeral: nothing posted


def test_the_card_is_in_the_viewers_time_zone(world: Rig) -> None:
    text = shown(ask(world, "req-17", user="U0BOB"))
    # 08:00 UTC on 9 March is 01:00 in Los Angeles (daylight saving time began on 8 March)
    assert "*Next check-in*\nMon 09 Mar 2026 01:00" in text
    assert "Times in America/Los_Angeles" in text


@pytest.mark.parametrize(
    ("user", "buttons"),
    [
        ("U0ALICE", ["status_share", "checkin_update", "dependency_add", "status_history"]),  # owner
        ("U0DAN", ["status_share", "dependency_add", "status_history"]),  # requester
        ("U0MALLORY", ["status_share", "status_history"]),  # anyone else
    ],
)
def test_update_is_for_the_owner_and_add_a_dependency_for_owner_or_requester(
    world: Rig, user: str, buttons: list[str]
) -> None:
    assert action_ids(ask(world, "REQ-17", user=user)) == buttons


def test_a_card_without_a_triage_post_has_no_intake_link(world: Rig) -> None:
    text = shown(ask(world, "REQ-5"))
    assert "Intake message" not in text and "Last check-in:* none yet" in text
    world.settle()
    assert world.fake.calls_to("chat.getPermalink") == []


def test_the_card_survives_slack_failing_the_permalink(world: Rig) -> None:
    world.fake.fail("chat.getPermalink", error="internal_error")
    body = ask(world, "REQ-17")
    assert "Intake message" not in shown(body) and "Original message" in shown(body)


def test_share_in_channel_posts_the_card_visibly(world: Rig) -> None:
    body = ask(world, "REQ-17", user="U0DAN", channel="C0GENERAL")
    reply = world.slack.block_action(find_action(body, "status_share"), user="U0DAN", channel="C0GENERAL")
    assert reply.status == 200
    world.settle()
    token = world.slack.last_response_url.rsplit("/", 1)[1]
    [posted] = world.fake.responses[token]
    assert posted["response_type"] == "in_channel"
    text = visible_text(posted)
    assert "REQ-17 · Faster checkout <!channel> & co" in text
    assert "Shared by <@U0DAN>" in text and "Times in Europe/Berlin" in text
    assert not [b for b in posted["blocks"] if b["type"] == "actions"]  # no buttons for the channel
    assert "&lt;!channel&gt;" in posted["text"]


def test_sharing_a_card_that_is_gone_says_so(world: Rig) -> None:
    button = find_action(ask(world, "REQ-17"), "status_share")
    button["value"] = json.dumps({"initiative": "REQ-404"})
    world.slack.block_action(button, user="U0ALICE", channel="C0GENERAL")
    world.settle()
    [posted] = world.fake.responses[world.slack.last_response_url.rsplit("/", 1)[1]]
    assert posted["response_type"] == "ephemeral" and "REQ-404 no longer exists" in posted["text"]


def test_an_unknown_key_gets_usage(world: Rig) -> None:
    body = ask(world, "REQ-999")
    assert "no initiative *REQ-999*" in body["text"]
    assert USAGE_MARK in shown(body)


def test_a_declined_request_shows_why(rig: Rig) -> None:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        f.initiative(
            s,
            okr,
            now=START,
            number=3,
            state=InitiativeState.DECLINED,
            decided_by="U0LEAD",
            decline_reason="Not this quarter",
        )
    body = ask(rig, "REQ-3", user="U0DAN")
    assert ":no_entry_sign: *Declined* by <@U0LEAD>: Not this quarter" in shown(body)
    assert action_ids(body) == ["status_share", "status_history"]


# -- /initiative ---------------------------------------------------------------------------------


def test_my_work_lists_what_i_own_owe_and_am_waited_on_for(world: Rig) -> None:
    body = ask(world, "", user="U0ALICE")
    text = shown(body)
    assert "*Check-ins due from you*\n:memo: *REQ-17* Faster checkout &lt;!channel&gt; &amp; co" in text
    assert "asked Mon 02 Mar 2026 08:00" in text
    assert "*You own*\n:large_yellow_circle: *REQ-17*" in text
    assert "*Waiting on you*\n:large_green_circle: *REQ-9* Checkout analytics (<@U0CAROL>)" in text
    assert "(<@U0CAROL>) waits on your *REQ-17*: the new checkout" in text
    assert body["text"].startswith(
        "You own 1 open initiative(s); 1 check-in(s) due from you; 1 wait(s) on you"
    )


def test_my_work_for_a_requester_and_a_team_contact(world: Rig) -> None:
    dan = shown(ask(world, "", user="U0DAN"))
    assert "*You asked for*\n:large_yellow_circle: *REQ-17*" in dan
    lead = shown(ask(world, "", user="U0LEAD"))
    assert "waits on you: a queue" in lead


def test_a_team_without_a_named_contact_waits_on_its_lead(world: Rig) -> None:
    with world.db.session() as s:
        item = s.scalars(sa.select(Initiative).where(Initiative.key == "REQ-9")).one()
        f.dependency(s, item, provider_team="Data", now=START, what="a data export")
        f.dependency(
            s, item, provider_team="Data", provider_contact_id="U0CAROL", now=START, what="a dashboard"
        )
    dan = shown(ask(world, "", user="U0DAN"))  # Dan leads Data (THROUGHLINE_TEAMS)
    assert "*REQ-9* Checkout analytics (<@U0CAROL>) waits on you: a data export" in dan
    assert "a dashboard" not in dan  # that one names Carol


def test_my_work_points_to_the_home_tab_when_there_is_more(rig: Rig) -> None:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        f.bulk_initiatives(s, okr, 25, now=START, owner_id="U0BOB")
    body = ask(rig, "", user="U0BOB")
    text = shown(body)
    assert "*You own* (25)" in text and "…and 15 more on the Home tab" in text
    assert len(body["blocks"]) <= 50


def test_nothing_yet_says_so_with_usage(rig: Rig) -> None:
    body = ask(rig, "", user="U0MALLORY")
    assert "no initiatives yet" in body["text"] and USAGE_MARK in shown(body)


def test_help_lists_every_form(rig: Rig) -> None:
    text = shown(ask(rig, "help"))
    for form in (
        "`/initiative`",
        "/initiative REQ-17",
        "/initiative words",
        "/initiative okr O1",
        "/initiative queue",
        "/initiative stalled",
        "/initiative help",
    ):
        assert form in text


# -- search ----------------------------------------------------------------------------------------


def test_search_lists_best_matches_first(world: Rig) -> None:
    body = ask(world, "checkout")
    text = shown(body)
    assert "*Initiatives matching “checkout”* (2)" in text
    assert text.index("*REQ-9* Checkout analytics") < text.index("*REQ-17* Faster checkout")
    assert body["text"] == "2 initiative(s) match “checkout”."


def test_search_with_many_matches_says_refine(rig: Rig) -> None:
    with rig.db.session() as s:
        f.bulk_initiatives(s, f.okr(s, "O1", now=START), 40, now=START, title="Onboarding step {n}")
    text = shown(ask(rig, "onboarding step"))
    assert "(15 of 40)" in text and "More results: refine your words (25 more match)" in text


def test_search_that_finds_nothing_gets_usage(world: Rig) -> None:
    body = ask(world, "zebra <@U0BOB>")
    assert "No initiative matches “zebra &lt;@U0BOB&gt;”" in body["text"]
    assert USAGE_MARK in shown(body)


# -- /initiative okr ------------------------------------------------------------------------------


def test_okr_objective_rolls_up(world: Rig) -> None:
    body = ask(world, "okr o1")
    text = shown(body)
    assert body["blocks"][0]["text"]["text"] == "O1 · Grow revenue"
    assert (
        "*Objective* · owner <@U0CAROL> · 2026-Q1 · <https://okr.example.com/o1|open in the OKR tool>" in text
    )
    assert "*Health:* :red_circle: blocked (the worst of 3 active initiatives)" in text
    assert (
        ":large_green_circle: 1 on track · :large_yellow_circle: 1 at risk · :red_circle: 1 blocked" in text
    )
    assert (
        "*<https://okr.example.com/o1/kr1|O1-KR1>* Checkout conversion 2% → 4%: 2 → 3 → 4 % · *50%*" in text
    )
    assert text.index("*REQ-5*") < text.index("*REQ-17*") < text.index("*REQ-9*")  # worst first
    assert "worst of its active initiatives" in text


def test_okr_key_result_shows_its_objective(world: Rig) -> None:
    text = shown(ask(world, "okr O1-KR1"))
    assert "*Key result* of *<https://okr.example.com/o1|O1>* Grow revenue" in text
    assert "*Progress*" in text and "REQ-9" not in text  # REQ-9 hangs off the objective itself


def test_a_key_result_without_a_start_shows_its_value_but_no_percentage(world: Rig) -> None:
    with world.db.session() as s:
        s.scalars(sa.select(Okr).where(Okr.key == "O1-KR1")).one().metric_start = None

    text = shown(ask(world, "okr o1"))

    assert "Checkout conversion 2% → 4%: 3 of 4 %" in text
    assert "3 of 4 % · *" not in text  # no percentage: how far it came is unknown without a start


def test_key_results_are_listed_in_natural_order(world: Rig) -> None:
    with world.db.session() as s:
        o1 = s.scalars(sa.select(Okr).where(Okr.key == "O1")).one()
        for n in (10, 2):
            f.okr(s, f"O1-KR{n}", now=START, parent=o1, title=f"Result {n}")

    text = shown(ask(world, "okr o1"))

    assert text.index("O1-KR1>") < text.index("*O1-KR2*") < text.index("*O1-KR10*")


def test_unknown_okr_lists_some_that_exist(world: Rig) -> None:
    body = ask(world, "okr O7")
    assert "There is no OKR *O7*" in body["text"]
    text = shown(body)
    assert "• `O1` Grow revenue" in text and "• `O1-KR1`" in text and USAGE_MARK in text


def test_okr_without_a_key_asks_which(world: Rig) -> None:
    body = ask(world, "okr")
    assert "Which OKR?" in body["text"] and "• `O1` Grow revenue" in shown(body)


# -- a large workspace (its speed is the reads bench's: bench/reads.py) ---------------------------


def test_every_form_answers_over_two_thousand_initiatives(rig: Rig) -> None:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        ids = f.bulk_initiatives(s, okr, 2000, now=START, health=Health.ON_TRACK)
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
                for i in ids
            ],
        )
    answers = {
        text: shown(ask(rig, text)) for text in ("", "REQ-1000", "bulk initiative 1", "okr O1", "REQ-99999")
    }
    assert answers["REQ-1000"].startswith("REQ-1000 · Bulk initiative 1000")
    assert (
        "*REQ-1* Bulk initiative 1 · O1" in answers["bulk initiative 1"]
        and "more match" in answers["bulk initiative 1"]
    )
    assert "O1" in answers["okr O1"] and "REQ-99999" in answers["REQ-99999"]
    assert "REQ-" in answers[""]  # Alice's pending check-ins


def test_many_dependents_do_not_hide_what_it_waits_on(world: Rig) -> None:
    """45 initiatives need REQ-17 soon; it still shows the two things it waits on (needed later
    or undated), and counts the dependents it leaves out."""
    with world.db.session() as s:
        item = s.scalars(sa.select(Initiative).where(Initiative.number == 17)).one()
        kr = s.get_one(Okr, item.okr_id)
        for n in range(45):
            waiter = f.initiative(s, kr, now=START, number=100 + n, title=f"Dependent {n}")
            f.dependency(s, waiter, item, now=START, what="checkout", needed_by=date(2026, 3, 3))

    text = shown(ask(world, "REQ-17"))

    assert "Waits on" in text and "REQ-5" in text and "Platform" in text
    assert "…and 34 more dependents" in text  # 46 in all: REQ-9 and the 45, 12 listed


def test_many_open_escalations_are_counted_not_cut_silently(world: Rig) -> None:
    """20 more dependents of REQ-17 have stalled and escalated: the card lists the highest 12 and says
    how many more there are."""
    with world.db.session() as s:
        item = s.scalars(sa.select(Initiative).where(Initiative.number == 17)).one()
        kr = s.get_one(Okr, item.okr_id)
        for n in range(20):
            waiter = f.initiative(s, kr, now=START, number=200 + n, title=f"Stuck {n}")
            dep = f.dependency(s, waiter, item, now=START, what="checkout", needed_by=date(2026, 3, 3))
            f.escalation(s, dep, now=START, level=3 if n == 19 else 1, reason=f"stalled {n}")

    text = shown(ask(world, "REQ-17"))

    lines = [line for line in text.splitlines() if ":rotating_light:" in line]
    assert len(lines) == 12 and "*Level 3*" in lines[0] and "REQ-219" in lines[0]  # highest first
    assert "…and 9 more escalations" in text  # 21 in all: the one the world had, and these 20

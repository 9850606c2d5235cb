"""Whole journeys across features, as people live them in Slack: one request from intake to
check-ins, and a stalled dependency that governance hears about and then sees resolved the moment
the provider's owner answers their check-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.intake.models import AcceptBlock, IntakeBlock
from storage.models import Checkin, CheckinStatus, Escalation, Health, Initiative, InitiativeState
from tests import factories as f
from tests.checkin_support import local, seed
from tests.conftest import START, Rig
from tests.hostile import assert_nothing_live
from tests.ladder import build, day
from tests.slackhttp import find_action


def test_a_request_from_intake_to_its_first_answered_checkin(rig: Rig) -> None:
    with rig.db.session() as s:
        objective = f.okr(s, "O1", now=START, owner_id="U0CAROL", title="Grow revenue", priority=5)
        f.okr(s, "O1-KR1", now=START, parent=objective, owner_id="U0CAROL", title="Churn <3%")

    # Dan asks for something, tied to a key result
    rig.slack.command("/request", "Rate-limit the <!channel> API", user="U0DAN")
    rig.settle()
    (modal,) = rig.fake.views_opened()
    reply = rig.slack.suggest(modal, IntakeBlock.OKR, "churn", user="U0DAN")
    (option,) = reply.json()["options"]
    rig.slack.submit_view(
        modal,
        {
            IntakeBlock.TITLE: "Rate-limit the <!channel> API",
            IntakeBlock.DESCRIPTION: "Bots hammer us",
            IntakeBlock.OKR: option,
            IntakeBlock.IMPACT_LEVEL: "3",
            IntakeBlock.NEEDED_BY: "2026-04-30",
            IntakeBlock.TEAM: "Platform",
        },
        user="U0DAN",
    )
    rig.settle()
    (triage,) = rig.fake.posts("C0TRIAGE")
    assert "REQ-1" in triage.visible and "&lt;!channel&gt;" in triage.visible

    # the triage lead accepts it with Bob (Los Angeles) as owner, weekly on Monday at 09:00
    rig.slack.block_action(find_action(triage, "triage_accept"), user="U0LEAD", message=triage)
    rig.settle()
    accept = rig.fake.views_opened()[-1]
    rig.slack.submit_view(accept, {AcceptBlock.OWNER: "U0BOB"}, user="U0LEAD")
    rig.settle()
    with rig.db.session() as s:
        request = s.scalars(sa.select(Initiative)).one()
        assert request.state == InitiativeState.ACTIVE and request.owner_id == "U0BOB"
        # this Monday, 09:00 in Los Angeles (PST until 8 March) is 17:00 UTC
        assert request.next_checkin_at == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert "accepted" in rig.fake.posts("C0TRIAGE")[0].visible.lower()

    # the tick asks Bob at his 09:00, once
    rig.tick(datetime(2026, 3, 2, 16, 59, tzinfo=UTC))
    assert not [m for m in rig.fake.dms("U0BOB") if m.text.startswith("Check-in")]
    rig.tick(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    rig.tick(datetime(2026, 3, 2, 17, 1, tzinfo=UTC))
    nudges = [m for m in rig.fake.dms("U0BOB") if m.text.startswith("Check-in")]
    assert len(nudges) == 1

    # Bob answers "At risk" from the DM: recorded, the DM shows it, Dan (the requester) is told
    rig.slack.block_action(find_action(nudges[0], "checkin_at_risk"), user="U0BOB", message=nudges[0])
    rig.settle()
    with rig.db.session() as s:
        assert s.scalars(sa.select(Initiative)).one().health == Health.AT_RISK
        assert s.scalars(sa.select(Checkin)).one().status == CheckinStatus.ANSWERED
    assert "at risk" in rig.fake.dms("U0BOB")[-1].visible.lower() or any(
        "at risk" in m.visible.lower() for m in rig.fake.dms("U0BOB")
    )
    assert any("REQ-1" in m.text and "at risk" in m.visible.lower() for m in rig.fake.dms("U0DAN"))
    assert_nothing_live(rig.fake)


def test_governance_sees_a_stall_resolve_when_the_provider_answers_its_checkin(rig: Rig) -> None:
    world = build(rig.db, "blocked")  # Alice's A waits on Bob's B, blocked since 24 Feb
    for at in (day(2), day(4), day(9)):  # level 1, level 2, then the governance channel
        rig.tick(at)
    (post,) = [m for m in rig.fake.posts("C0GOVERN") if m.thread_ts is None]
    assert "Level 3" in post.visible

    # Bob's Monday check-in comes at 09:00 in Los Angeles (16:00 UTC); he answers "On track"
    rig.tick(day(9, hour=16))
    nudge = [m for m in rig.fake.dms("U0BOB") if m.text.startswith("Check-in")][-1]
    rig.slack.block_action(find_action(nudge, "checkin_on_track"), user="U0BOB", message=nudge)
    rig.settle()

    # no tick needed: the escalation resolved with the answer, the post says so in place
    with rig.db.session() as s:
        (episode,) = s.scalars(sa.select(Escalation).where(Escalation.dependency_id == world.dependency_id))
        assert episode.resolved_at is not None and episode.resolved_by is None
    (post,) = [m for m in rig.fake.posts("C0GOVERN") if m.thread_ts is None]
    assert "Resolved" in post.visible and post.history  # edited, not a new post
    assert any("resolved" in m.visible.lower() for m in rig.fake.dms("U0ALICE"))


def test_a_checkin_answered_from_the_home_tab_leaves_the_home_tab_up_to_date(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(local("Europe/Berlin", 2026, 3, 2))  # Alice's Monday 09:00
    rig.slack.open_home("U0ALICE")
    rig.settle()
    home = rig.fake.home["U0ALICE"]
    assert "Check-ins due from you" in json.dumps(home) and key in json.dumps(home)

    rig.slack.block_action(find_action(home, "checkin_update"), user="U0ALICE", view=home)
    rig.settle()
    modal = rig.fake.views_opened()[-1]
    reply = rig.slack.submit_view(
        modal, {"checkin_health": "on_track", "checkin_moved": "demo done"}, user="U0ALICE"
    )
    assert reply.json()["response_action"] == "update"
    rig.settle()

    refreshed = json.dumps(rig.fake.home["U0ALICE"])
    assert "Nothing due from you" in refreshed
    assert len(rig.fake.calls_to("views.publish")) == 2

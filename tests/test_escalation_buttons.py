"""Every button of the ladder, pressed by someone allowed (it works, the post and the people say
so) and by someone who is not (an ephemeral refusal, and nothing changes)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.dependencies.views import MET_REPLY
from storage.models import Dependency, DependencyState, Escalation, Event, Outbox
from tests.conftest import Rig
from tests.ladder import World, build, day, escalations, kinds, posted, posts_since, sent
from tests.slackfake import Message
from tests.slackhttp import find_action


def at_level(rig: Rig, level: int, cause: str = "blocked") -> World:
    world = build(rig.db, cause)
    for n, reached in ((2, 1), (4, 2), (9, 3)):
        if reached <= level:
            rig.tick(day(n))
    return world


def press(rig: Rig, message: Message, action_id: str, user: str) -> None:
    rig.slack.block_action(find_action(message, action_id), user=user, message=message)
    rig.settle()


def reply(rig: Rig) -> dict[str, Any]:
    """The last answer sent to the response_url of the last button pressed."""
    token = rig.slack.last_response_url.rsplit("/", 1)[1]
    (answer,) = rig.fake.responses[token]
    return answer


def governance_post(rig: Rig) -> Message:
    (post,) = [m for m in rig.fake.posts("C0GOVERN") if m.thread_ts is None]
    return post


def snapshot(rig: Rig, world: World) -> tuple[Any, ...]:
    with rig.db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        assert dependency is not None
        episode = s.scalars(
            sa.select(Escalation).where(Escalation.dependency_id == world.dependency_id)
        ).all()
        return (
            (dependency.state, dependency.needed_by, dependency.stalled_since),
            [(e.level, e.acknowledged_by, e.snoozed_until, e.resolved_at) for e in episode],
            s.scalar(sa.select(sa.func.count()).select_from(Event)),
            s.scalar(sa.select(sa.func.count()).select_from(Outbox)),
            len(rig.fake.views_opened()),
        )


# -- refusals: every button --------------------------------------------------------------------------

DEPENDENCY_BUTTONS = ["dependency_renegotiate", "dependency_mark_met"]
ESCALATION_BUTTONS = ["escalation_acknowledge", "escalation_resolve", "escalation_snooze"]


@pytest.mark.parametrize("action", DEPENDENCY_BUTTONS + ESCALATION_BUTTONS)
@pytest.mark.parametrize("user", ["U0MALLORY", "U0ADMIN"])
def test_a_stranger_pressing_a_ladder_button_is_refused_and_nothing_changes(
    rig: Rig, action: str, user: str
) -> None:
    world = at_level(rig, 3)
    message = rig.fake.dms("U0LEAD")[-1] if action in DEPENDENCY_BUTTONS else governance_post(rig)
    before = snapshot(rig, world)
    mark = sent(rig.fake)

    press(rig, message, action, user)

    answer = reply(rig)
    assert answer["response_type"] == "ephemeral" and answer.get("replace_original") is False
    assert answer["text"].startswith(":no_entry: Only ")
    assert answer["text"].endswith("Nothing was changed.")
    assert f"on {world.waiter_key} → {world.provider_key}" in answer["text"]
    assert snapshot(rig, world) == before and sent(rig.fake) == mark


@pytest.mark.parametrize("action", DEPENDENCY_BUTTONS)
def test_governance_may_handle_the_escalation_but_not_change_the_dependency(rig: Rig, action: str) -> None:
    world = at_level(rig, 3)
    before = snapshot(rig, world)
    press(rig, rig.fake.dms("U0LEAD")[-1], action, "U0GOV")
    assert reply(rig)["text"].startswith(
        ":no_entry: Only the OKR's owner, the people involved or a triage lead can renegotiate"
    )
    assert snapshot(rig, world) == before


# -- renegotiate date -----------------------------------------------------------------------------


def test_renegotiating_an_overdue_date_resolves_the_escalation(rig: Rig) -> None:
    world = at_level(rig, 3, "overdue")
    alice_dm = rig.fake.dms("U0ALICE")[0]
    press(rig, alice_dm, "dependency_renegotiate", "U0ALICE")
    (modal,) = rig.fake.views_opened()
    assert modal["callback_id"] == "dependency_renegotiate_modal"
    assert "(now Fri 20 Mar 2026)" not in str(modal)  # the date was 27 Feb
    assert "Fri 27 Feb 2026" in str(modal)

    bad = rig.slack.submit_view(
        modal, {"renegotiate_needed_by": "2026-03-09", "renegotiate_reason": " "}, user="U0ALICE"
    )
    assert bad.json() == {
        "response_action": "errors",
        "errors": {
            "renegotiate_needed_by": "Pick a date after today.",
            "renegotiate_reason": "Say why the date moves: both sides will read it.",
        },
    }
    posts_before = posted(rig.fake)
    ok = rig.slack.submit_view(
        modal,
        {"renegotiate_needed_by": "2026-03-20", "renegotiate_reason": "vendor <late> & sorry"},
        user="U0ALICE",
    )
    assert ok.status == 200 and ok.body == b""
    rig.settle()

    told = posts_since(rig.fake, posts_before)
    assert {c for c, _ in told} == {"D0ALICE", "D0BOB"}  # both sides, once each (no second "resolved" DM)
    assert all(
        "*Fri 20 Mar 2026* (was Fri 27 Feb 2026): vendor &lt;late&gt; &amp; sorry" in t for _, t in told
    )
    post = governance_post(rig)
    assert (
        "Resolved* by <@U0ALICE> on Mon 09 Mar 2026: the needed-by date moved to Fri 20 Mar 2026"
        in post.visible
    )
    assert "vendor &lt;late&gt; &amp; sorry" in post.visible
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_by == "U0ALICE"
    assert "dependency.renegotiated" in kinds(rig.db, world.dependency_id)
    mark = sent(rig.fake)
    rig.tick(day(10))
    assert sent(rig.fake) == mark


def test_renegotiating_while_the_provider_is_still_blocked_keeps_the_escalation(rig: Rig) -> None:
    world = at_level(rig, 2)
    press(rig, rig.fake.dms("U0BOB")[0], "dependency_renegotiate", "U0CAROL")  # the OKR owner may
    (modal,) = rig.fake.views_opened()
    rig.slack.submit_view(
        modal, {"renegotiate_needed_by": "2026-04-01", "renegotiate_reason": "scope cut"}, user="U0CAROL"
    )
    rig.settle()
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at is None and episode.level == 2


# -- mark met ---------------------------------------------------------------------------------------


def test_marking_met_resolves_and_edits_the_governance_post(rig: Rig) -> None:
    world = at_level(rig, 3)
    posts_before = posted(rig.fake)
    press(rig, rig.fake.dms("U0BOB")[0], "dependency_mark_met", "U0BOB")
    assert reply(rig)["text"] == MET_REPLY
    told = posts_since(rig.fake, posts_before)
    assert {c for c, _ in told} == {"D0ALICE", "D0BOB"}
    assert all(t.startswith(":white_check_mark: <@U0BOB> marked as met:") for _, t in told)
    assert "Resolved* by <@U0BOB> on Mon 09 Mar 2026: marked met" in governance_post(rig).visible
    with rig.db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        assert (
            dependency is not None and dependency.state == DependencyState.MET and dependency.met_at == day(9)
        )
    press(rig, rig.fake.dms("U0ALICE")[0], "dependency_mark_met", "U0ALICE")  # the other side, late
    assert reply(rig)["text"] == ":information_source: This dependency is already met. Nothing was changed."


# -- acknowledge ------------------------------------------------------------------------------------


def test_acknowledging_records_who_on_the_post_and_the_ladder_goes_on(rig: Rig) -> None:
    world = at_level(rig, 2)
    press(rig, rig.fake.dms("U0LEAD")[0], "escalation_acknowledge", "U0LEAD")
    assert reply(rig)["text"].startswith(":eyes: You're recorded as looking after")
    assert rig.fake.posts("C0GOVERN") == []  # nothing to edit yet

    rig.tick(day(9))  # acknowledged does not stop the climb
    post = governance_post(rig)
    assert "Acknowledged by <@U0LEAD> on Wed 04 Mar 2026" in post.visible

    press(rig, post, "escalation_acknowledge", "U0GOV")
    post = governance_post(rig)
    assert len(post.history) == 1 and "Acknowledged by <@U0GOV> on Mon 09 Mar 2026" in post.visible
    find_action(post, "escalation_resolve")  # still open: the buttons stay
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.acknowledged_by == "U0GOV" and episode.resolved_at is None
    assert kinds(rig.db, world.dependency_id).count("escalation.acknowledged") == 4


# -- resolve ----------------------------------------------------------------------------------------


def test_resolving_by_hand_records_how_and_does_not_reopen_while_still_stalled(rig: Rig) -> None:
    world = at_level(rig, 3)
    press(rig, governance_post(rig), "escalation_resolve", "U0GOV")
    (modal,) = rig.fake.views_opened()
    assert modal["callback_id"] == "escalation_resolve_modal"
    empty = rig.slack.submit_view(modal, {"resolve_how": "   "}, user="U0GOV")
    assert empty.json()["errors"] == {
        "resolve_how": "Say how it was resolved: the waiting side will read it."
    }

    posts_before = posted(rig.fake)
    rig.slack.submit_view(modal, {"resolve_how": "Descoped: <A> ships without quotas"}, user="U0GOV")
    rig.settle()
    post = governance_post(rig)
    assert (
        "Resolved* by <@U0GOV> on Mon 09 Mar 2026: Descoped: &lt;A&gt; ships without quotas" in post.visible
    )
    ((channel, text),) = posts_since(rig.fake, posts_before)
    assert channel == "D0ALICE" and "Resolved by <@U0GOV>: Descoped: &lt;A&gt;" in text
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_by == "U0GOV" and episode.resolution == "Descoped: <A> ships without quotas"

    mark = sent(rig.fake)
    for n in (10, 11, 16):
        rig.tick(day(n))
    assert sent(rig.fake) == mark and len(escalations(rig.db, world.dependency_id)) == 1
    stalled = rig.slack.command("/initiative", "stalled", user="U0MALLORY").json()
    assert "resolved by hand, still stalled" in str(stalled["blocks"])

    press(rig, rig.fake.dms("U0LEAD")[0], "escalation_snooze", "U0LEAD")  # a stale button
    assert (
        reply(rig)["text"] == ":information_source: This escalation is already resolved. Nothing was changed."
    )


# -- snooze -----------------------------------------------------------------------------------------


def test_snoozing_at_level_2_holds_the_climb_until_the_day(rig: Rig) -> None:
    world = at_level(rig, 2)
    press(rig, rig.fake.dms("U0LEAD")[0], "escalation_snooze", "U0LEAD")
    (modal,) = rig.fake.views_opened()
    bad = rig.slack.submit_view(modal, {"snooze_until": "2026-03-04", "snooze_reason": "x"}, user="U0LEAD")
    assert bad.json()["errors"] == {"snooze_until": "Pick a day after today."}
    far = rig.slack.submit_view(modal, {"snooze_until": "2026-09-04", "snooze_reason": "x"}, user="U0LEAD")
    assert far.json()["errors"] == {"snooze_until": "Snooze for at most 90 days."}
    rig.slack.submit_view(
        modal, {"snooze_until": "2026-03-12", "snooze_reason": "vendor signs Wed"}, user="U0LEAD"
    )
    rig.settle()

    rig.tick(day(9))
    rig.tick(day(11, hour=22))  # 23:00 in Berlin, still Wednesday
    assert rig.fake.posts("C0GOVERN") == []
    rig.tick(day(12))
    post = governance_post(rig)
    assert "Snoozed" not in post.visible
    assert kinds(rig.db, world.dependency_id)[-4:] == [
        "escalation.snooze_ended",
        "escalation.snooze_ended",
        "escalation.level3",
        "escalation.level3",
    ]


def test_snoozing_the_governance_post_shows_it_and_says_when_it_ends(rig: Rig) -> None:
    world = at_level(rig, 3)
    press(rig, governance_post(rig), "escalation_snooze", "U0CAROL")  # the OKR owner may
    (modal,) = rig.fake.views_opened()
    rig.slack.submit_view(
        modal, {"snooze_until": "2026-03-13", "snooze_reason": "board <decides> Thu"}, user="U0CAROL"
    )
    rig.settle()
    post = governance_post(rig)
    assert "Snoozed until Fri 13 Mar 2026: board &lt;decides&gt; Thu" in post.visible
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.snooze_reason == "board <decides> Thu"

    mark = sent(rig.fake)
    rig.tick(day(12))
    assert sent(rig.fake) == mark
    rig.tick(day(13))
    rig.tick(day(13, hour=12))
    replies = [m for m in rig.fake.posts("C0GOVERN") if m.thread_ts == post.ts]
    assert len(replies) == 1 and replies[0].text.startswith(":alarm_clock: The snooze is over")
    assert "Snoozed" not in governance_post(rig).visible


def test_the_escalation_buttons_in_the_level_2_dm_work_for_the_lead(rig: Rig) -> None:
    at_level(rig, 2)
    press(rig, rig.fake.dms("U0LEAD")[0], "escalation_resolve", "U0LEAD")
    (modal,) = rig.fake.views_opened()
    assert modal["callback_id"] == "escalation_resolve_modal"


# -- /initiative stalled ----------------------------------------------------------------------------


def test_initiative_stalled_lists_cause_age_level_and_who_acknowledged(rig: Rig) -> None:
    blocked = at_level(rig, 2)
    press(rig, rig.fake.dms("U0LEAD")[0], "escalation_acknowledge", "U0GOV")
    rig.clock.set(day(5))
    answer = rig.slack.command("/initiative", "stalled", user="U0MALLORY").json()
    assert answer["response_type"] == "ephemeral" and answer["text"] == "1 stalled dependency"
    text = str(answer["blocks"])
    assert f"*{blocked.waiter_key}* One-click checkout waits on *{blocked.provider_key}* Rate limits" in text
    assert f"{blocked.provider_key} has been blocked since Tue 24 Feb 2026" in text
    assert "stalled 3 business days (since Mon 02 Mar 2026) · level 2 · acknowledged by <@U0GOV>" in text

    mine = rig.slack.command("/initiative", "", user="U0ALICE").json()  # the catch-all still answers
    assert "Your initiatives" in str(mine["blocks"])


def test_initiative_stalled_when_nothing_is(rig: Rig) -> None:
    answer = rig.slack.command("/initiative", "  STALLED ", user="U0ALICE").json()
    assert answer["text"] == "Nothing is stalled right now."


def test_the_dates_in_a_modal_are_validated_in_the_workspace_zone(rig: Rig) -> None:
    """Late on Monday in Berlin (already Tuesday there): "tomorrow" in UTC is not after today."""
    at_level(rig, 1, "overdue")
    rig.clock.set(day(2, hour=23))  # Tue 03 Mar 00:00 in Berlin
    press(rig, rig.fake.dms("U0ALICE")[0], "dependency_renegotiate", "U0ALICE")
    (modal,) = rig.fake.views_opened()
    answer = rig.slack.submit_view(
        modal, {"renegotiate_needed_by": "2026-03-03", "renegotiate_reason": "x"}, user="U0ALICE"
    )
    assert answer.json()["errors"] == {"renegotiate_needed_by": "Pick a date after today."}
    assert day(2, hour=23).astimezone(ZoneInfo("Europe/Berlin")).date() == date(2026, 3, 3)

"""The ladder through time: each stall cause from level 1 to 3 and back to resolved, with the exact
people told at each level, what they read, and nothing sent twice however often the clock ticks."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from bot.app import tick
from bot.core.clock import FixedClock
from storage.models import (
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
)
from tests import factories as f
from tests.conftest import START, Rig, make_settings
from tests.ladder import (
    CAUSES,
    build,
    day,
    escalations,
    fix,
    kinds,
    ladder_dms,
    posted,
    posts_since,
    reason,
    sent,
)
from tests.slackhttp import find_action

WAITER = "U0ALICE"


def level1_people(cause: str) -> set[str]:
    return {"D0ALICE", "D0LEAD"} if cause == "team" else {"D0ALICE", "D0BOB"}


def level2_person(cause: str) -> str:
    # the team's lead; when the lead already had level 1 (a team dependency), the waiter's OKR owner
    return "D0CAROL" if cause == "team" else "D0LEAD"


@pytest.mark.parametrize("cause", CAUSES)
def test_a_stall_climbs_to_governance_and_resolves_by_itself(rig: Rig, cause: str) -> None:
    world = build(rig.db, cause)
    fake = rig.fake
    why = reason(world)
    a, b = world.waiter_key, world.provider_label

    # Monday: level 1, both sides, with the facts and the buttons
    rig.tick(day(2))
    first = posts_since(fake, 0)
    assert {c for c, _ in first} == level1_people(cause)
    assert all(text == f":warning: {a} waits on {b}, and it has stalled: {why}" for _, text in first)
    alice = fake.dms(WAITER)[-1]
    assert "A dependency has stalled" in alice.visible and "the rate-limit API" in alice.visible
    assert "needed by" in alice.visible
    assert find_action(alice, "dependency_renegotiate")["value"] == json.dumps(
        {"dependency": world.dependency_id}
    )
    assert find_action(alice, "dependency_mark_met")["value"] == json.dumps(
        {"dependency": world.dependency_id}
    )
    with pytest.raises(AssertionError):
        find_action(alice, "checkin_update")  # Update is the provider's owner's button
    if cause != "team":
        bob = fake.dms("U0BOB")[-1]
        assert find_action(bob, "checkin_update")["value"] == json.dumps({"initiative": world.provider_key})
        assert "Last check-ins on" in bob.visible
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.level == 1 and episode.opened_at == day(2) and episode.resolved_at is None

    # the same tick again, and Tuesday: nothing new
    mark = sent(fake)
    rig.tick(day(2))
    rig.tick(day(3))
    rig.tick(day(3, hour=20))
    assert sent(fake) == mark

    # Wednesday, two business days on: level 2, one DM to the lead (or the OKR owner)
    rig.tick(day(4))
    (second,) = posts_since(fake, mark)
    assert second[0] == level2_person(cause)
    assert second[1] == f":rotating_light: {a} has been held up by {b} for 2 business days: {why}"
    lead_dm = fake.dms(second[0].replace("D", "U", 1))[-1]
    assert "were told then" in lead_dm.visible and "<@U0ALICE>" in lead_dm.visible
    expected_as = "the owner of O1-KR1" if cause == "team" else "the lead of Platform"
    assert f"as {expected_as}" in lead_dm.visible
    assert "In 3 business days it goes to <#C0GOVERN>" in lead_dm.visible
    for action in (
        "escalation_acknowledge",
        "escalation_snooze",
        "escalation_resolve",
        "dependency_renegotiate",
    ):
        find_action(lead_dm, action)
    mark = sent(fake)
    rig.tick(day(4))
    rig.tick(day(6))  # Friday: four business days
    assert sent(fake) == mark

    # the next Monday, five business days on: the governance post
    rig.tick(day(9))
    (third,) = posts_since(fake, posted(fake) - 1)
    assert sent(fake) == mark + 1
    assert third == ("C0GOVERN", f":rotating_light: Stalled since Mon 02 Mar 2026: {a} waits on {b}")
    (post,) = fake.posts("C0GOVERN")
    assert f"Stalled: {a} waits on {b}" in post.visible
    assert why in post.visible and "(5 business days)" in post.visible
    assert f"*{a}* One-click checkout — O1-KR1 Conversion to 4%" in post.visible  # affected downstream
    assert "Level 3" in post.visible
    for action in ("escalation_acknowledge", "escalation_resolve", "escalation_snooze"):
        assert find_action(post, action)["value"] == json.dumps({"escalation": episode.id})
    if cause != "team":
        assert f"Last check-ins on {world.provider_key}" in post.visible
    mark = sent(fake)
    rig.tick(day(9))
    rig.tick(day(9, hour=15))
    assert sent(fake) == mark

    # Tuesday the cause goes away: the post is edited in place, the waiting side told
    fix(rig.db, world, day(10, hour=7))
    posts_before = posted(fake)
    rig.tick(day(10))
    (post,) = fake.posts("C0GOVERN")
    assert len(post.history) == 1 and f"Resolved: {a} waits on {b}" in post.visible
    assert "Resolved by itself* on Tue 10 Mar 2026: no longer stalled" in post.visible
    assert not any(b.get("type") == "actions" for b in post.blocks or [])
    (told,) = posts_since(fake, posts_before)
    assert told[0] == "D0ALICE" and "no longer holds up" in told[1] and "Resolved by itself" in told[1]
    mark = sent(fake)
    rig.tick(day(10))
    rig.tick(day(11))
    assert sent(fake) == mark

    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.level == 3 and episode.resolved_at == day(10) and episode.resolved_by is None
    with rig.db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        assert dependency is not None and dependency.stalled_since is None and dependency.stall_reason is None
    steps = [
        "dependency.stalled",
        "escalation.opened",
        "escalation.level2",
        "escalation.level3",
        "dependency.recovered",
        "escalation.resolved",
    ]
    sides = 1 if cause == "team" else 2
    assert kinds(rig.db, world.dependency_id) == [k for k in steps for _ in range(sides)]


def test_the_chain_is_walked_downstream_and_named_in_the_governance_post(rig: Rig) -> None:
    """A waits on B, B waits on C, C is blocked: the post for B → C names B and A (and D, which
    waits on C directly), each with its OKR; an unrelated initiative is not named."""
    with rig.db.session() as s:
        o1 = f.okr(s, "O1", now=START, title="Grow checkout")
        o2 = f.okr(s, "O2", now=START, title="Reliable platform")
        c = f.initiative(
            s,
            o2,
            now=START,
            owner_id="U0CAROL",
            title="Vendor contract",
            health=Health.BLOCKED,
            health_since=day(24, month=2),
            team_asked="Platform",
        )
        f.checkin_update(s, c, at=day(27, month=2), health=Health.BLOCKED, blockers="legal review")
        b = f.initiative(
            s, o2, now=START, owner_id="U0BOB", title="Rate limits", last_checkin_at=day(27, month=2)
        )
        a = f.initiative(
            s, o1, now=START, owner_id="U0ALICE", title="One-click checkout", last_checkin_at=day(27, month=2)
        )
        d = f.initiative(
            s, o1, now=START, owner_id="U0DAN", title="Partner API", last_checkin_at=day(27, month=2)
        )
        e = f.initiative(
            s, o1, now=START, owner_id="U0DAN", title="Unrelated", last_checkin_at=day(27, month=2)
        )
        b_on_c = f.dependency(s, b, c, now=START, what="a signed contract")
        f.dependency(s, a, b, now=START, what="quotas")
        f.dependency(s, d, c, now=START, what="the vendor sandbox")
        f.dependency(s, e, a, now=START, what="nothing stalled")  # E waits on A: A is held up, so E is too
        keys = {x: x.key for x in (a, b, c, d, e)}
        b_on_c_id = b_on_c.id
    for n in (2, 4, 9):
        rig.tick(day(n))

    posts = rig.fake.posts("C0GOVERN")
    by_dependency = {p.metadata["event_payload"]["key"]: p for p in posts}  # type: ignore[index]
    (episode,) = escalations(rig.db, b_on_c_id)
    post = by_dependency[f"escalation:{episode.id}:level3:governance"]
    affected = post.visible.split("Affected downstream")[1].split("Last check-ins")[0]
    named = re.findall(r"• \*(REQ-\d+)\*", affected)
    assert named == [keys[b], keys[d], keys[a], keys[e]]  # nearest first
    assert f"*{keys[b]}* Rate limits — O2 Reliable platform" in affected
    assert f"*{keys[a]}* One-click checkout — O1 Grow checkout" in affected
    assert keys[c] not in named


def ticks_at_once(rig: Rig, at: datetime, n: int = 2) -> None:
    """`n` ticks at the same instant on separate threads (as replicas would), then delivery."""
    rig.clock.set(at)
    barrier = threading.Barrier(n)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(5)
            report = tick.tick(rig.services, at)
            assert report.ok, report.failed
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    rig.settle()


def test_two_ticks_at_once_send_every_message_once(rig: Rig) -> None:
    world = build(rig.db, "blocked")
    for at in (day(2), day(4), day(9)):
        ticks_at_once(rig, at)

    fake = rig.fake
    assert [len(ladder_dms(fake, u)) for u in ("U0ALICE", "U0BOB", "U0LEAD")] == [1, 1, 1]
    assert len(fake.posts("C0GOVERN")) == 1
    assert len(escalations(rig.db, world.dependency_id)) == 1
    assert kinds(rig.db, world.dependency_id).count("escalation.level3") == 2  # one per side, once


def test_the_okrs_own_governance_channel_wins(rig: Rig) -> None:
    world = build(rig.db, "blocked", provider_okr_channel="C0GENERAL")  # set on O2, the KR's objective
    for n in (2, 4, 9):
        rig.tick(day(n))
    assert rig.fake.posts("C0GOVERN") == []
    (post,) = rig.fake.posts("C0GENERAL")
    assert f"Stalled: {world.waiter_key} waits on {world.provider_key}" in post.visible


def test_without_a_team_lead_level_2_goes_to_the_providers_okr_owner(rig: Rig) -> None:
    build(rig.db, "blocked", team_asked=None)
    with rig.db.session() as s:  # the key result's own owner comes before its objective's
        kr = s.scalars(sa.select(Okr).where(Okr.key == "O2-KR1")).one()
        kr.owner_id = "U0DAN"
    rig.tick(day(2))
    rig.tick(day(4))
    (dm,) = rig.fake.dms("U0DAN")
    assert "as the owner of O2-KR1" in dm.visible
    assert rig.fake.dms("U0LEAD") == []


def test_with_no_governance_channel_the_admins_are_told_once(
    fake, database_url: str, clock: FixedClock
) -> None:
    rig = Rig(make_settings(fake, database_url, governance_channel=None), fake, clock)
    try:
        world = build(rig.db, "overdue")
        for n in (2, 4, 9, 9, 10):
            rig.tick(day(n))
        (notice,) = fake.dms("U0ADMIN")
        assert "no governance channel is set" in notice.text
        assert "THROUGHLINE_GOVERNANCE_CHANNEL" in notice.visible
        assert f"{world.waiter_key} waits on {world.provider_key}" in notice.visible
        assert not any(b.get("type") == "actions" for b in notice.blocks or [])
        assert [c for c in fake.channels if fake.posts(c)] == []
    finally:
        rig.close()


def test_a_dependency_closed_elsewhere_resolves_its_escalation(rig: Rig) -> None:
    world = build(rig.db, "blocked")
    rig.tick(day(2))
    with rig.db.session() as s:  # e.g. the provider was marked done and its dependencies met
        dependency = s.get(Dependency, world.dependency_id)
        assert dependency is not None
        dependency.state = DependencyState.MET
    rig.tick(day(3))
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at == day(3) and episode.resolution == "the dependency was met"
    assert "no longer holds up" in rig.fake.dms("U0ALICE")[-1].text


def test_a_recovered_dependency_that_stalls_again_opens_a_new_episode(rig: Rig) -> None:
    world = build(rig.db, "blocked")
    rig.tick(day(2))
    fix(rig.db, world, day(3, hour=7))
    rig.tick(day(3))
    with rig.db.session() as s:
        provider = s.get(Initiative, world.provider_id)
        assert provider is not None
        provider.health, provider.health_since = Health.AT_RISK, day(3)
    rig.tick(day(6))  # Friday: at risk for 3 business days: not yet
    assert len(escalations(rig.db, world.dependency_id)) == 1
    rig.tick(day(9))  # Monday: 4
    first, second = escalations(rig.db, world.dependency_id)
    assert first.resolved_at == day(3) and second.resolved_at is None and second.opened_at == day(9)
    assert len(ladder_dms(rig.fake, "U0BOB")) == 2
    assert "has been at risk since Tue 03 Mar 2026" in rig.fake.dms("U0BOB")[-1].text


def test_the_tick_pass_reads_a_constant_number_of_statements(rig: Rig) -> None:
    """Steady state (nothing changes): a few statements per batch of dependencies, not per row."""
    from tests.sqlcount import count_statements

    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        for _ in range(30):
            a = f.initiative(s, okr, now=START, last_checkin_at=START)
            b = f.initiative(s, okr, now=START, owner_id="U0BOB", last_checkin_at=START)
            f.dependency(s, a, b, now=START, needed_by=date(2026, 4, 1))
    from bot.dependencies import jobs as dependency_passes

    with count_statements(rig.db.engine) as seen:
        counts = dependency_passes.escalations(rig.services, day(2))
    assert counts["evaluated"] == 30
    assert seen.count <= 7, seen.sql  # claim, providers, escalations, linked work, ...
    with rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Outbox)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 0


def test_a_check_in_can_resolve_at_once_without_waiting_for_the_tick(rig: Rig) -> None:
    """What the check-in feature calls after an answer: `escalation.reevaluate_provider`."""
    from bot.escalation import flows as escalation

    world = build(rig.db, "blocked")
    for n in (2, 4, 9):
        rig.tick(day(n))
    rig.clock.set(day(9, hour=10))
    fix(rig.db, world, day(9, hour=10))
    with rig.db.session() as s:
        provider = s.get(Initiative, world.provider_id)
        assert provider is not None
        changed = escalation.reevaluate_provider(s, provider, rig.services.defaults, day(9, hour=10))
    assert changed == {"recovered": 1, "resolved": 1}
    rig.settle()
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at == day(9, hour=10) and episode.resolved_by is None
    (post,) = rig.fake.posts("C0GOVERN")
    assert "Resolved by itself* on Mon 09 Mar 2026" in post.visible
    mark = sent(rig.fake)
    rig.tick(day(9, hour=11))
    assert sent(rig.fake) == mark


# -- closed initiatives: nobody waits on or for them ------------------------------------------------


def _answer(rig: Rig, key: str, owner: str, choice: str, at: datetime) -> None:
    """`owner` posts an Update on `key` at `at` (done, on track, at risk...)."""
    from bot.checkins import models as checkin_models
    from bot.checkins.flows import answers as checkin_answers

    rig.clock.set(at)
    with rig.db.session() as s:
        checkin_answers.submit_update(
            s,
            team_id="T0FAKE",
            actor_id=owner,
            initiative_key=key,
            checkin_id=None,
            values=checkin_models.UpdateInput(choice=choice, moved="some progress"),
            settings=rig.services.defaults,
            now=at,
        )
    rig.settle()


@pytest.mark.parametrize(("side", "state"), [("waiter", "cancelled"), ("provider", "met")])
def test_when_either_side_is_done_the_dependency_closes_and_stops_escalating(
    rig: Rig, side: str, state: str
) -> None:
    world = build(rig.db, "blocked")
    rig.tick(day(2))  # level 1: both owners told
    assert escalations(rig.db, world.dependency_id)[0].level == 1
    key, owner = (world.waiter_key, "U0ALICE") if side == "waiter" else (world.provider_key, "U0BOB")
    assert key is not None

    _answer(rig, key, owner, "done", day(3))

    with rig.db.session() as s:
        dependency = s.get_one(Dependency, world.dependency_id)
        assert dependency.state == DependencyState(state)
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at == day(3)
    assert f"because {key} is done" in ladder_dms(rig.fake, "U0ALICE")[-1].text
    mark = sent(rig.fake)
    for n in (4, 9, 12):  # level 2 and 3 would have come on these days
        rig.tick(day(n))
    assert sent(rig.fake) == mark and len(escalations(rig.db, world.dependency_id)) == 1


def test_a_declined_request_stops_waiting(rig: Rig) -> None:
    from bot.intake import flows as intake

    world = build(rig.db, "overdue")
    with rig.db.session() as s:
        waiter = s.get_one(Initiative, world.waiter_id)
        waiter.state = InitiativeState.PROPOSED
    rig.tick(day(2))
    rig.clock.set(day(3))
    with rig.db.session() as s:
        intake.decline(
            s,
            team_id="T0FAKE",
            initiative_id=world.waiter_id,
            actor_id="U0LEAD",
            reason="Not this quarter",
            settings=rig.services.defaults,
            now=day(3),
        )
    for n in (4, 9, 12):
        rig.tick(day(n))

    with rig.db.session() as s:
        assert s.get_one(Dependency, world.dependency_id).state == DependencyState.CANCELLED
    assert all(e.level < 3 and e.resolved_at == day(3) for e in escalations(rig.db, world.dependency_id))
    assert rig.fake.posts("C0GOVERN") == []


def test_a_dependency_left_open_on_a_closed_initiative_is_closed_by_the_tick(rig: Rig) -> None:
    """Data from before closing an initiative closed its dependencies (or any other path)."""
    world = build(rig.db, "blocked")
    rig.tick(day(2))
    with rig.db.session() as s:
        s.get_one(Initiative, world.waiter_id).state = InitiativeState.DONE

    rig.tick(day(3))

    with rig.db.session() as s:
        assert s.get_one(Dependency, world.dependency_id).state == DependencyState.CANCELLED
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at == day(3)
    mark = sent(rig.fake)
    rig.tick(day(12))
    assert sent(rig.fake) == mark


def test_handing_over_a_provider_whose_owner_missed_check_ins_ends_that_stall(rig: Rig) -> None:
    from bot.checkins.flows import lifecycle as checkins

    world = build(rig.db, "missed")
    rig.tick(day(2))  # "REQ-2's owner missed 2 check-ins in a row": level 1
    rig.clock.set(day(3))
    with rig.db.session() as s:
        provider = s.get_one(Initiative, world.provider_id)
        checkins.reassign(s, provider, "U0CAROL", "U0BOB", rig.services.defaults, day(3))
        assert provider.consecutive_misses == 0
    rig.settle()

    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at == day(3)
    rig.tick(day(4))  # level 2 would have reached the team lead today
    assert ladder_dms(rig.fake, "U0LEAD") == []
    assert len(escalations(rig.db, world.dependency_id)) == 1


def test_the_ladder_climbs_at_the_hour_the_stall_began_not_at_midnight(rig: Rig) -> None:
    world = build(rig.db, "blocked")  # blocked since Tue 24 Feb: stalled after Fri 27 Feb 09:00
    stalled_at = datetime(2026, 2, 27, 15, 29, tzinfo=UTC)  # Friday 16:29 in Berlin
    rig.tick(stalled_at)
    assert escalations(rig.db, world.dependency_id)[0].opened_at == stalled_at

    rig.tick(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # Tuesday 00:30 in Berlin: a date later, not a day
    assert escalations(rig.db, world.dependency_id)[0].level == 1
    rig.tick(datetime(2026, 3, 3, 15, 28, tzinfo=UTC))
    assert escalations(rig.db, world.dependency_id)[0].level == 1
    rig.tick(datetime(2026, 3, 3, 15, 29, tzinfo=UTC))  # two business days after the stall
    assert escalations(rig.db, world.dependency_id)[0].level == 2


def test_blocked_then_at_risk_is_still_the_same_trouble(rig: Rig) -> None:
    world = build(rig.db, "blocked")  # blocked since Tue 24 Feb
    assert world.provider_key is not None
    for n in (2, 4, 9):
        rig.tick(day(n))  # level 3 on Monday 9 March
    governance_before = rig.fake.posts("C0GOVERN")[0].visible

    _answer(rig, world.provider_key, "U0BOB", "at_risk", day(9, hour=10))
    rig.tick(day(10))

    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at is None and episode.level == 3
    with rig.db.session() as s:
        dependency = s.get_one(Dependency, world.dependency_id)
        assert dependency.stall_reason == (
            f"{world.provider_key} has been blocked or at risk since Tue 24 Feb 2026 (at risk now)"
        )
    assert "Resolved" not in rig.fake.posts("C0GOVERN")[0].visible and governance_before
    assert not [m for m in ladder_dms(rig.fake, "U0ALICE") if "no longer holds up" in m.text]

    _answer(rig, world.provider_key, "U0BOB", "on_track", day(10, hour=10))  # now it recovers
    (episode,) = escalations(rig.db, world.dependency_id)
    assert episode.resolved_at == day(10, hour=10)

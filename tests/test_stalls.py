"""The stall rules at their edges (business days, holidays, cadences, states), the downstream walk,
and an initiative's dependencies both ways."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.config import WorkspaceSettings
from bot.dependencies import service as dependencies
from bot.escalation.models import StallCause
from bot.escalation.service import stalls as stall_rules
from bot.escalation.service.stalls import stall_causes
from storage.db import Database
from storage.models import Dependency, DependencyState, Health, Initiative, InitiativeState
from tests import factories as f
from tests.conftest import START
from tests.sqlcount import count_statements

WS = WorkspaceSettings(timezone="Europe/Berlin", teams={"Platform": "U0LEAD"})
FEB_27 = datetime(2026, 2, 27, 9, tzinfo=UTC)


def provider(**kw: object) -> Initiative:
    values: dict[str, object] = {
        "key": "REQ-2",
        "state": InitiativeState.ACTIVE,
        "health": Health.ON_TRACK,
        "health_since": START - timedelta(days=30),
        "consecutive_misses": 0,
        "cadence": None,
        "last_checkin_at": FEB_27,
        "decided_at": START - timedelta(days=30),
        "created_at": START - timedelta(days=40),
    }
    values.update(kw)
    return Initiative(**values)


def dependency(**kw: object) -> Dependency:
    values: dict[str, object] = {"state": DependencyState.OPEN, "needed_by": None}
    values.update(kw)
    return Dependency(**values)


def causes(
    item: Initiative | None, at: datetime, settings: WorkspaceSettings = WS, **kw: object
) -> list[str]:
    return [s.cause.value for s in stall_causes(dependency(**kw), item, settings, at)]


@pytest.mark.parametrize("health", [Health.BLOCKED, Health.AT_RISK])
def test_blocked_or_at_risk_for_more_than_three_business_days(health: Health) -> None:
    since = datetime(2026, 3, 2, 16, tzinfo=UTC)  # Monday 17:00 in Berlin
    item = provider(health=health, health_since=since)
    # three business days later at the same time of day is not yet more than three; a minute on is
    assert causes(item, datetime(2026, 3, 5, 16, 0, tzinfo=UTC)) == []  # Thursday 17:00 Berlin
    assert causes(item, datetime(2026, 3, 5, 16, 1, tzinfo=UTC)) == ["blocked"]
    (stall,) = stall_causes(dependency(), item, WS, datetime(2026, 3, 6, 9, tzinfo=UTC))
    assert (
        stall.text
        == f"REQ-2 has been {'blocked' if health is Health.BLOCKED else 'at risk'} since Mon 02 Mar 2026"
    )


def test_weekends_and_holidays_are_not_business_days() -> None:
    wednesday = datetime(2026, 4, 1, 9, tzinfo=UTC)  # before Easter
    item = provider(health=Health.BLOCKED, health_since=wednesday, last_checkin_at=wednesday)
    tuesday = datetime(2026, 4, 7, 9, tzinfo=UTC)
    assert causes(item, tuesday) == ["blocked"]  # Thu, Fri, Mon, Tue
    berlin = WS.model_copy(update={"holidays": "DE-BE"})
    assert causes(item, tuesday, berlin) == []  # Good Friday and Easter Monday are closed: 2
    assert causes(item, datetime(2026, 4, 9, 9, tzinfo=UTC), berlin) == ["blocked"]


def test_missed_check_ins_in_a_row() -> None:
    assert causes(provider(consecutive_misses=1), START) == []
    assert causes(provider(consecutive_misses=2), START) == ["missed_checkins"]
    strict = WS.model_copy(update={"stall_missed_checkins": 1})
    assert causes(provider(consecutive_misses=1), START, strict) == ["missed_checkins"]


def test_the_needed_by_date_passes_at_midnight_in_the_workspace_zone() -> None:
    item = provider()
    assert causes(item, datetime(2026, 3, 2, 22, 59, tzinfo=UTC), needed_by=date(2026, 3, 2)) == []
    assert causes(item, datetime(2026, 3, 2, 23, 0, tzinfo=UTC), needed_by=date(2026, 3, 2)) == ["overdue"]
    assert causes(item, START, needed_by=date(2026, 3, 1), state=DependencyState.MET) == []


@pytest.mark.parametrize(
    ("cadence", "quiet_for", "stalled"),
    [
        ("weekly:mon@09:00", timedelta(days=14), False),
        ("weekly:mon@09:00", timedelta(days=14, minutes=1), True),
        ("workdays@09:00", timedelta(days=3), False),  # Friday's answer: the weekend is not silence
        ("workdays@09:00", timedelta(days=4), False),  # Thursday's: Friday and Monday, to the minute
        ("workdays@09:00", timedelta(days=4, minutes=1), True),
        ("biweekly:mon@09:00", timedelta(days=27), False),
        ("monthly:mon@09:00", timedelta(days=61), False),
        ("monthly:mon@09:00", timedelta(days=63), True),
        (None, timedelta(days=15), True),  # the workspace default: weekly
    ],
)
def test_no_check_in_for_two_cadence_periods(
    cadence: str | None, quiet_for: timedelta, stalled: bool
) -> None:
    item = provider(cadence=cadence, last_checkin_at=START - quiet_for)
    assert causes(item, START) == (["silent"] if stalled else [])


def test_never_checked_in_counts_from_when_it_became_active() -> None:
    fresh = provider(
        last_checkin_at=None, decided_at=START - timedelta(days=10), created_at=START - timedelta(days=90)
    )
    assert causes(fresh, START) == []
    old = provider(last_checkin_at=None, decided_at=None, created_at=START - timedelta(days=15))
    (stall,) = stall_causes(dependency(), old, WS, START)
    assert stall.text == "no check-in at all on REQ-2 since Sun 15 Feb 2026 (it became active then)"


def test_only_an_active_provider_stalls_by_its_own_state() -> None:
    gloomy = {"health": Health.BLOCKED, "consecutive_misses": 5, "last_checkin_at": None}
    for state in (InitiativeState.PROPOSED, InitiativeState.DONE, InitiativeState.CANCELLED):
        assert causes(provider(state=state, **gloomy), START) == []
        assert causes(provider(state=state, **gloomy), START, needed_by=date(2026, 2, 1)) == ["overdue"]


def test_a_team_stalls_only_by_its_date() -> None:
    assert causes(None, START, provider_team="Platform") == []
    assert causes(None, START, provider_team="Platform", needed_by=date(2026, 2, 27)) == ["overdue"]


def test_several_causes_make_one_reason() -> None:
    item = provider(health=Health.BLOCKED, health_since=START - timedelta(days=10), consecutive_misses=3)
    stalls = stall_causes(dependency(needed_by=date(2026, 2, 27)), item, WS, START)
    assert [s.cause for s in stalls] == [StallCause.BLOCKED, StallCause.MISSED, StallCause.OVERDUE]
    assert stall_rules.describe_stalls(stalls) == (
        "REQ-2 has been blocked since Fri 20 Feb 2026; REQ-2's owner missed 3 check-ins in a row; "
        "it was needed by Fri 27 Feb 2026 and is not met"
    )


# -- the downstream walk -----------------------------------------------------------------------------


def test_downstream_walks_the_chain_nearest_first_in_one_query_per_link(db: Database) -> None:
    with db.session() as s:
        okr = f.okr(s, "O1", now=START)
        c, b, a, d, e, x = (f.initiative(s, okr, now=START) for _ in range(6))
        f.dependency(s, b, c, now=START)
        f.dependency(s, a, b, now=START)
        f.dependency(s, d, b, now=START)  # a diamond: A and D wait on B, E on both
        f.dependency(s, e, a, now=START)
        f.dependency(s, e, d, now=START)
        f.dependency(s, x, c, now=START, state=DependencyState.MET)  # met: not held up
        with count_statements(db.engine) as seen:
            found = stall_rules.downstream(s, f.TEAM, [c.id])
        assert found == [b.id, a.id, d.id, e.id]
        assert seen.count == 4  # B; A, D; E; nothing more
        assert stall_rules.downstream(s, f.TEAM, [e.id]) == []
        assert stall_rules.downstream(s, "T0OTHER", [c.id]) == []


def test_downstream_is_bounded(db: Database) -> None:
    with db.session() as s:
        okr = f.okr(s, "O1", now=START)
        chain = [f.initiative(s, okr, now=START) for _ in range(8)]
        for provider_row, waiter in itertools.pairwise(chain):
            f.dependency(s, waiter, provider_row, now=START)
        assert len(stall_rules.downstream(s, f.TEAM, [chain[0].id])) == 7
        assert len(stall_rules.downstream(s, f.TEAM, [chain[0].id], max_depth=3)) == 3


# -- both ways ------------------------------------------------------------------------------------


def test_an_initiatives_dependencies_both_ways(db: Database) -> None:
    with db.session() as s:
        okr = f.okr(s, "O1", now=START)
        a = f.initiative(s, okr, now=START, owner_id="U0ALICE")
        b = f.initiative(s, okr, now=START, owner_id="U0BOB")
        c = f.initiative(s, okr, now=START, owner_id="U0CAROL")
        on_b = f.dependency(s, a, b, now=START, needed_by=date(2026, 3, 20), what="quotas")
        f.dependency(s, a, None, now=START, provider_team="Platform", provider_contact_id="U0DAN")
        f.dependency(s, c, a, now=START, what="checkout API")
        f.dependency(s, c, a, now=START, what="old", state=DependencyState.CANCELLED)
        on_b.stalled_since, on_b.stall_reason = START, "REQ-x is blocked"
        f.escalation(s, on_b, now=START, level=2)

        mine = dependencies.of_initiative(s, a)
        assert [(d.provider_key, d.provider_team) for d in mine.waits_on] == [
            (b.key, None),
            (None, "Platform"),
        ]
        assert mine.waits_on[0].escalation_level == 2 and mine.waits_on[0].stall_reason == "REQ-x is blocked"
        assert mine.waits_on[1].provider_contact_id == "U0DAN" and mine.waits_on[1].escalation_id is None
        assert [(d.waiter_key, d.what) for d in mine.waited_on_by] == [(c.key, "checkout API")]
        everything = dependencies.of_initiative(s, a, include_closed=True)
        assert len(everything.waited_on_by) == 2

"""`/initiative`'s domain: parsing what was typed, search ranking, an OKR's roll-up, the card."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.status import models as status
from bot.status.models import HealthCounts, OkrNotFound, OkrOverview, QueryKind, parse_query
from bot.status.service import card as cards
from bot.status.service import lists
from bot.status.service import okr as okr_service
from storage.db import Database
from storage.models import CheckinStatus, DependencyState, Health, InitiativeState
from tests import factories as f
from tests.conftest import START

WS = WorkspaceSettings(timezone="Europe/Berlin", triage_leads=["U0LEAD"], admins=["U0ADMIN"])


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session whose rows are rolled back at the end (each hypothesis example starts clean)."""
    with Session(db.engine) as s:
        yield s
        s.rollback()


# -- parse_query ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "arg"),
    [
        ("", QueryKind.MINE, ""),
        ("   ", QueryKind.MINE, ""),
        ("help", QueryKind.HELP, ""),
        ("HELP", QueryKind.HELP, ""),
        ("?", QueryKind.HELP, ""),
        ("req-17", QueryKind.KEY, "REQ-17"),
        (" REQ-17 ", QueryKind.KEY, "REQ-17"),
        ("okr O1", QueryKind.OKR, "O1"),
        ("OKR  o1-kr2 ", QueryKind.OKR, "o1-kr2"),
        ("okr", QueryKind.OKR, ""),
        ("queue", QueryKind.QUEUE, ""),
        ("stalled", QueryKind.STALLED, ""),
        ("queue  design", QueryKind.SEARCH, "queue design"),
        ("help me", QueryKind.SEARCH, "help me"),
        ("checkout  redesign", QueryKind.SEARCH, "checkout redesign"),
        ("REQ-17 REQ-18", QueryKind.SEARCH, "REQ-17 REQ-18"),
    ],
)
def test_parse_query_forms(text: str, kind: QueryKind, arg: str) -> None:
    assert parse_query(text) == status.Query(kind, arg)


@given(st.text(max_size=300))
def test_parse_query_takes_any_text(text: str) -> None:
    query = parse_query(text)
    words = text.split()
    if not words:
        assert query.kind is QueryKind.MINE
    elif query.kind is QueryKind.SEARCH:
        assert query.arg == " ".join(words)
    elif query.kind is QueryKind.KEY:
        assert query.arg == words[0].upper() and len(words) == 1
    elif query.kind is QueryKind.OKR:
        assert words[0].lower() == "okr" and query.arg == " ".join(words[1:])


@given(st.text(max_size=2000))
def test_search_words_are_bounded(text: str) -> None:
    words = lists.search_words(text)
    assert len(words) <= 8 and all(0 < len(w) <= 60 for w in words)
    assert len(set(words)) == len(words)


# -- search --------------------------------------------------------------------------------------


def _keys(result: status.SearchResult) -> list[str]:
    return [line.key for line in result.found.items]


def test_search_ranks_exact_then_prefix_then_word_then_substring(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    later = START + timedelta(hours=1)
    f.initiative(session, okr, now=later, number=1, title="Precheckout audit")  # substring
    f.initiative(session, okr, now=later, number=2, title="New checkout flow")  # word start
    f.initiative(session, okr, now=START, number=3, title="Checkout redesign")  # prefix
    f.initiative(session, okr, now=START, number=4, title="CHECKOUT")  # exact, case aside
    f.initiative(session, okr, now=later, number=5, title="Billing")  # no match
    assert _keys(lists.search(session, f.TEAM, "checkout")) == ["REQ-4", "REQ-3", "REQ-2", "REQ-1"]


def test_search_needs_every_word_and_prefers_the_phrase(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START + timedelta(hours=1), number=1, title="Flow of the checkout")
    f.initiative(session, okr, now=START, number=2, title="Checkout flow v2")
    f.initiative(session, okr, now=START, number=3, title="Checkout page")
    assert _keys(lists.search(session, f.TEAM, "checkout flow")) == ["REQ-2", "REQ-1"]


def test_search_then_open_before_closed_then_most_recent(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=1, title="Payments retry")
    f.initiative(session, okr, now=START + timedelta(days=2), number=2, title="Payments ledger")
    f.initiative(
        session, okr, now=START + timedelta(days=3), number=3, title="Payments UI", state=InitiativeState.DONE
    )
    assert _keys(lists.search(session, f.TEAM, "payments")) == ["REQ-2", "REQ-1", "REQ-3"]


def test_search_finds_a_key_by_its_number(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=170, title="Something else")
    f.initiative(session, okr, now=START, number=17, title="Checkout")
    f.initiative(session, okr, now=START, number=3, title="Fix 17 bugs")
    assert _keys(lists.search(session, f.TEAM, "17"))[0] == "REQ-17"


def test_search_treats_like_wildcards_as_text(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=1, title="100% uptime")
    f.initiative(session, okr, now=START, number=2, title="snake_case names")
    f.initiative(session, okr, now=START, number=3, title="Plain words")
    f.initiative(session, okr, now=START, number=4, title="back\\slash")
    assert _keys(lists.search(session, f.TEAM, "%")) == ["REQ-1"]
    assert _keys(lists.search(session, f.TEAM, "_")) == ["REQ-2"]
    assert _keys(lists.search(session, f.TEAM, "\\")) == ["REQ-4"]


def test_search_folds_case_beyond_ascii(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=1, title="ÜBERSICHT der Zölle")
    assert _keys(lists.search(session, f.TEAM, "übersicht")) == ["REQ-1"]
    assert _keys(lists.search(session, f.TEAM, "ZÖLLE")) == ["REQ-1"]


def test_search_is_limited_and_says_how_many_more(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.bulk_initiatives(session, okr, 40, now=START, title="Onboarding step {n}")
    result = lists.search(session, f.TEAM, "onboarding")
    assert len(result.found.items) == status.SEARCH_LIMIT
    assert result.found.total == 40 and result.found.more == 25


def test_search_stays_in_its_workspace(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=1, title="Shared words")
    assert _keys(lists.search(session, "T0OTHER", "shared")) == []


def test_empty_search_finds_nothing(session: Session) -> None:
    assert lists.search(session, f.TEAM, "   ").found.items == []


_TITLE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=150,
)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_TITLE, pick=st.integers(min_value=0, max_value=100), upper=st.booleans())
def test_any_title_is_found_by_any_of_its_words(session: Session, title: str, pick: int, upper: bool) -> None:
    words = lists.search_words(title)
    assume(words)
    word = words[pick % len(words)]
    if upper:
        # Unicode casing is not always a round trip (ß → SS); only swap case where it is
        assume(word.upper().lower() == word.lower())
        word = word.upper()
    try:
        okr = f.okr(session, "O1", now=START)
        f.initiative(session, okr, now=START, number=1, title=title)
        assert _keys(lists.search(session, f.TEAM, word)) == ["REQ-1"]
    finally:
        session.rollback()


# -- /initiative okr ------------------------------------------------------------------------------


def _okr_tree(session: Session) -> None:
    o1 = f.okr(session, "O1", now=START, title="Grow revenue", url="https://okr.example.com/o1")
    kr1 = f.okr(session, "O1-KR1", now=START, parent=o1, metric_start=2, metric_target=4, metric_current=3)
    kr2 = f.okr(session, "O1-KR2", now=START, parent=o1, metric_start=10, metric_target=5, metric_current=8)
    f.okr(session, "O1-KR3", now=START, parent=o1)  # no target yet
    o2 = f.okr(session, "O2", now=START, title="Keep customers")
    f.initiative(session, kr1, now=START, number=1, health=Health.ON_TRACK)
    f.initiative(session, kr1, now=START, number=2, health=Health.AT_RISK)
    f.initiative(session, kr2, now=START, number=3, health=Health.BLOCKED)
    f.initiative(session, kr2, now=START, number=4)  # active, no check-in yet
    f.initiative(session, kr2, now=START, number=5, state=InitiativeState.PROPOSED)
    f.initiative(session, o1, now=START, number=6, state=InitiativeState.DONE)
    f.initiative(session, o1, now=START, number=7, state=InitiativeState.DECLINED)
    f.initiative(session, o2, now=START, number=8, health=Health.BLOCKED)  # another objective


def test_objective_rolls_up_its_key_results_and_initiatives(session: Session) -> None:
    _okr_tree(session)
    view = okr_service.okr_overview(session, f.TEAM, "o1")
    assert isinstance(view, OkrOverview)
    assert [kr.key for kr in view.key_results] == ["O1-KR1", "O1-KR2", "O1-KR3"]
    assert view.counts == HealthCounts(
        on_track=1, at_risk=1, blocked=1, unreported=1, proposed=1, done=1, closed=1
    )
    assert view.counts.rollup is Health.BLOCKED
    assert view.progress == pytest.approx(45.0)  # mean of 50% and 40% (a falling target)
    assert [i.key for i in view.initiatives.items] == ["REQ-3", "REQ-2", "REQ-4", "REQ-1", "REQ-5"]


def test_a_key_result_shows_its_own_initiatives_and_objective(session: Session) -> None:
    _okr_tree(session)
    view = okr_service.okr_overview(session, f.TEAM, "O1-KR1")
    assert isinstance(view, OkrOverview)
    assert view.objective is not None and view.objective.key == "O1"
    assert view.counts.rollup is Health.AT_RISK and view.counts.active == 2
    assert view.progress == pytest.approx(50.0)


def test_rollup_rule() -> None:
    assert HealthCounts(on_track=9, at_risk=1).rollup is Health.AT_RISK
    assert HealthCounts(on_track=9).rollup is Health.ON_TRACK
    assert HealthCounts(unreported=3, proposed=2).rollup is None


def test_okr_initiatives_are_limited(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.bulk_initiatives(session, okr, 30, now=START)
    view = okr_service.okr_overview(session, f.TEAM, "O1", limit=15)
    assert isinstance(view, OkrOverview)
    assert len(view.initiatives.items) == 15 and view.initiatives.more == 15


def test_unknown_okr_suggests_close_ones_first(session: Session) -> None:
    _okr_tree(session)
    missing = okr_service.okr_overview(session, f.TEAM, "customers")
    assert isinstance(missing, OkrNotFound)
    assert missing.suggestions[0] == ("O2", "Keep customers")
    assert {key for key, _ in missing.suggestions} >= {"O1", "O2", "O1-KR1"}


def test_progress_without_numbers_is_unknown(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    assert status.kr_progress(okr) is None
    okr.metric_target, okr.metric_current = 3.0, 3.6  # "cut churn to 3%", no start given
    assert status.kr_progress(okr) is None  # not 120%: without a start, how far it came is unknown
    okr.metric_start = 5.0
    assert status.kr_progress(okr) == pytest.approx(70.0)  # falling: 5 -> 3.6 of 5 -> 3
    okr.metric_start, okr.metric_target, okr.metric_current = 2.0, 2.0, 2.0  # hold it at 2
    assert status.kr_progress(okr) == pytest.approx(100.0)
    okr.metric_current = 2.4
    assert status.kr_progress(okr) is None


# -- the card --------------------------------------------------------------------------------------


def test_card_gathers_both_sides_and_escalations(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    item = f.initiative(session, okr, now=START, number=17, owner_id="U0ALICE", health=Health.AT_RISK)
    provider = f.initiative(session, okr, now=START, number=5, owner_id="U0BOB", health=Health.BLOCKED)
    waiter = f.initiative(session, okr, now=START, number=9, owner_id="U0CAROL")
    stalled = f.dependency(session, item, provider, now=START, what="an API")
    f.dependency(session, waiter, item, now=START, what="the checkout")
    f.dependency(session, item, provider_team="Platform", now=START, what="a queue")
    f.dependency(session, item, waiter, now=START, state=DependencyState.MET)  # met: not shown
    f.escalation(session, stalled, now=START, level=2)
    f.checkin_update(session, item, at=START, moved="first", health=Health.ON_TRACK)
    f.checkin_update(session, item, at=START + timedelta(days=1), moved="second", health=Health.AT_RISK)
    f.checkin(session, item, slot_at=START, status=CheckinStatus.ANSWERED)
    f.checkin(session, item, slot_at=START + timedelta(days=7))
    f.triage_post(session, item, now=START, ts="1.000200")

    card = cards.card(session, f.TEAM, "req-17", WS, viewer_id="U0ALICE")
    assert card is not None
    assert card.latest_update is not None and card.latest_update.moved == "second"
    assert card.latest_checkin is not None and card.latest_checkin.status is CheckinStatus.PENDING
    assert [(d.other.key if d.other else d.team) for d in card.waits_on] == ["REQ-5", "Platform"]
    assert card.waits_on[0].other is not None and card.waits_on[0].other.health is Health.BLOCKED
    assert [d.other.key for d in card.waited_on_by if d.other] == ["REQ-9"]
    assert [(e.level, e.waiter_key, e.provider) for e in card.escalations] == [(2, "REQ-17", "REQ-5")]
    assert card.triage_post == status.MessageRef("C0TRIAGE", "1.000200")
    assert card.can_update and card.can_add_dependency


@pytest.mark.parametrize(
    ("viewer", "state", "update", "add"),
    [
        ("U0ALICE", InitiativeState.ACTIVE, True, True),  # the owner
        ("U0DAN", InitiativeState.ACTIVE, False, True),  # the requester
        ("U0LEAD", InitiativeState.ACTIVE, False, True),  # a triage lead
        ("U0MALLORY", InitiativeState.ACTIVE, False, False),
        ("U0ALICE", InitiativeState.DONE, False, False),  # closed: nothing to update
        ("U0DAN", InitiativeState.PROPOSED, False, True),  # a request can wait on something
    ],
)
def test_card_buttons_follow_the_authorisation_table(
    session: Session, viewer: str, state: InitiativeState, update: bool, add: bool
) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=17, owner_id="U0ALICE", requester_id="U0DAN", state=state)
    card = cards.card(session, f.TEAM, "REQ-17", WS, viewer_id=viewer)
    assert card is not None
    assert (card.can_update, card.can_add_dependency) == (update, add)


def test_a_shared_card_is_in_the_workspace_zone_without_buttons(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=17, owner_id="U0ALICE")
    card = cards.card(session, f.TEAM, "REQ-17", WS)
    assert card is not None
    assert card.zone.key == "Europe/Berlin" and not card.can_update and not card.can_add_dependency


def test_no_card_for_an_unknown_key_or_another_workspace(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.initiative(session, okr, now=START, number=17)
    assert cards.card(session, f.TEAM, "REQ-18", WS) is None
    assert cards.card(session, "T0OTHER", "REQ-17", WS) is None


def test_pages_count_the_whole_list(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    f.bulk_initiatives(session, okr, 23, now=START, owner_id="U0BOB")
    second = lists.owned(session, f.TEAM, "U0BOB", limit=10, offset=10)
    assert (len(second.items), second.total, second.has_previous, second.has_next) == (10, 23, True, True)
    past = lists.owned(session, f.TEAM, "U0BOB", limit=10, offset=30)
    assert past.items == [] and past.has_previous and not past.has_next


def test_checkins_due_are_mine_pending_and_oldest_first(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    a = f.initiative(session, okr, now=START, number=1, owner_id="U0ALICE")
    b = f.initiative(session, okr, now=START, number=2, owner_id="U0ALICE")
    c = f.initiative(session, okr, now=START, number=3, owner_id="U0BOB")
    f.checkin(session, b, slot_at=START + timedelta(days=1))
    f.checkin(session, a, slot_at=START)
    f.checkin(session, a, slot_at=START - timedelta(days=7), status=CheckinStatus.ANSWERED)
    f.checkin(session, c, slot_at=START)
    due = lists.checkins_due(session, f.TEAM, "U0ALICE", limit=5)
    assert [d.key for d in due.items] == ["REQ-1", "REQ-2"]
    assert due.items[0].slot_at == datetime(2026, 3, 2, 7, tzinfo=UTC)


def test_waiting_on_me_covers_my_initiatives_and_me_as_a_contact(session: Session) -> None:
    okr = f.okr(session, "O1", now=START)
    mine = f.initiative(session, okr, now=START, number=1, owner_id="U0ALICE")
    theirs = f.initiative(session, okr, now=START, number=2, owner_id="U0BOB")
    other = f.initiative(session, okr, now=START, number=3, owner_id="U0CAROL")
    f.dependency(session, theirs, mine, now=START, needed_by=date(2026, 3, 20))
    f.dependency(
        session,
        other,
        provider_team="Platform",
        provider_contact_id="U0ALICE",
        now=START,
        needed_by=date(2026, 3, 10),
    )
    waiting = lists.waiting_on(session, f.TEAM, "U0ALICE", limit=10)
    assert [(w.waiter.key, w.provider_key) for w in waiting.items] == [("REQ-3", None), ("REQ-2", "REQ-1")]

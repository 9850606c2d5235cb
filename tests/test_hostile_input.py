"""Random and hostile text at every command argument and modal field, over HTTP: the app answers
with an inline error or an ephemeral reply, never an HTTP 500, never invalid Block Kit, and nothing
it sends contains a live `<!channel>`, `<!here>`, `<@U…>` or `<http…|…>` that came from user text."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dependencies.views import DependencyBlock
from bot.escalation.views import EscalationBlock
from bot.home.models import settings_block
from bot.intake.models import AnswerBlock, AskBlock, DeclineBlock, IntakeBlock
from bot.okrs.views import OkrBlock
from tests import factories as f
from tests.checkin_support import seed as seed_checkin
from tests.conftest import START, Rig
from tests.hostile import INJECTIONS, assert_nothing_live, hostile_text
from tests.ladder import build, day
from tests.slackhttp import Reply, find_action

pytestmark = pytest.mark.slow
HOSTILE = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = hostile_text(max_size=300)
# always carries at least one injection, so every accepted example puts one in front of Slack
salted = st.tuples(st.sampled_from(INJECTIONS), hostile_text(max_size=60)).map("".join)


def answered(rig: Rig, reply: Reply) -> None:
    """Slack got a proper answer, and nothing the app sent carries live user text."""
    assert reply.status == 200, reply.text
    rig.settle()
    assert not rig.fake.invalid, rig.fake.invalid
    assert_nothing_live(rig.fake)


def modal_from(rig: Rig, open_it: Callable[[], Reply]) -> dict[str, Any]:
    before = len(rig.fake.views_opened())
    assert open_it().status == 200
    rig.settle()
    views = rig.fake.views_opened()
    assert len(views) == before + 1, "no modal opened"
    return views[-1]


def seed_okrs(rig: Rig) -> str:
    with rig.db.session() as s:
        objective = f.okr(s, "O1", now=START, owner_id="U0CAROL", url="https://okr.example.com/o/1")
        kr = f.okr(s, "O1-KR1", now=START, parent=objective, owner_id="U0CAROL")
        return str(kr.id)


@HOSTILE
@given(words=st.one_of(text, salted))
def test_every_slash_command_takes_any_text(rig: Rig, words: str) -> None:
    for command in ("/initiative", "/okr", "/checkin", "/request"):
        answered(rig, rig.slack.command(command, words, user="U0ALICE"))
        answered(rig, rig.slack.command(command, words, user="U0ADMIN"))


@HOSTILE
@given(message=st.one_of(text, salted))
def test_turning_any_message_into_a_request_opens_a_valid_modal(rig: Rig, message: str) -> None:
    answered(
        rig,
        rig.slack.message_shortcut("request_from_message", user="U0ALICE", channel="C0GENERAL", text=message),
    )


@pytest.fixture
def kr(rig: Rig) -> str:
    return seed_okrs(rig)


@HOSTILE
@given(title=salted, description=salted, impact=text, url=text)
def test_the_intake_modal_takes_any_text(
    rig: Rig, kr: str, title: str, description: str, impact: str, url: str
) -> None:
    # a fresh modal each time: a modal submitted twice is one request (and posts once)
    modal = modal_from(rig, lambda: rig.slack.command("/request", "", user="U0DAN"))
    values = {
        IntakeBlock.TITLE: title,
        IntakeBlock.DESCRIPTION: description,
        IntakeBlock.OKR: kr,
        IntakeBlock.IMPACT_LEVEL: "2",
        IntakeBlock.IMPACT: impact,
        IntakeBlock.NEEDED_BY: "2026-06-30",
        IntakeBlock.TEAM: "Platform",
    }
    answered(rig, rig.slack.submit_view(modal, values, user="U0DAN"))
    values.pop(IntakeBlock.OKR)
    modal = modal_from(rig, lambda: rig.slack.command("/request", "", user="U0DAN"))
    answered(rig, rig.slack.submit_view(modal, {**values, IntakeBlock.OKR_URL: url}, user="U0DAN"))


def triage_modals(rig: Rig, kr: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Decline and Ask-for-info modals of a new request."""
    modal = modal_from(rig, lambda: rig.slack.command("/request", "", user="U0DAN"))
    good = {
        IntakeBlock.TITLE: "A request",
        IntakeBlock.DESCRIPTION: "Why",
        IntakeBlock.OKR: kr,
        IntakeBlock.IMPACT_LEVEL: "2",
        IntakeBlock.NEEDED_BY: "2026-06-30",
        IntakeBlock.TEAM: "Platform",
    }
    answered(rig, rig.slack.submit_view(modal, good, user="U0DAN"))
    post = rig.fake.posts("C0TRIAGE")[-1]
    decline = modal_from(
        rig, lambda: rig.slack.block_action(find_action(post, "triage_decline"), user="U0LEAD", message=post)
    )
    ask = modal_from(
        rig, lambda: rig.slack.block_action(find_action(post, "triage_ask"), user="U0LEAD", message=post)
    )
    return decline, ask


@HOSTILE
@given(question=salted, answer=salted, reason=salted)
def test_triage_questions_answers_and_reasons_take_any_text(
    rig: Rig, kr: str, question: str, answer: str, reason: str
) -> None:
    decline, ask = triage_modals(rig, kr)
    answered(rig, rig.slack.submit_view(ask, {AskBlock.QUESTION: question}, user="U0LEAD"))
    dm = rig.fake.dms("U0DAN")[-1]
    if "has a question" in dm.text:  # the question was accepted: the requester answers it
        reply = modal_from(
            rig, lambda: rig.slack.block_action(find_action(dm, "request_answer"), user="U0DAN", message=dm)
        )
        answered(rig, rig.slack.submit_view(reply, {AnswerBlock.ANSWER: answer}, user="U0DAN"))
    answered(rig, rig.slack.submit_view(decline, {DeclineBlock.REASON: reason}, user="U0LEAD"))


@HOSTILE
@given(key=text, title=salted, period=text, url=text, unit=salted, number=text)
def test_the_okr_modal_takes_any_text(
    rig: Rig, key: str, title: str, period: str, url: str, unit: str, number: str
) -> None:
    modal = modal_from(rig, lambda: rig.slack.command("/okr", "add", user="U0ADMIN"))
    values = {
        OkrBlock.KEY: key,
        OkrBlock.TITLE: title,
        OkrBlock.PERIOD: period,
        OkrBlock.URL: url,
        OkrBlock.METRIC_UNIT: unit,
        OkrBlock.METRIC_START: number,
        OkrBlock.METRIC_TARGET: number,
    }
    blocks = {b.get("block_id") for b in modal["blocks"]}
    answered(
        rig, rig.slack.submit_view(modal, {k: v for k, v in values.items() if k in blocks}, user="U0ADMIN")
    )


@pytest.fixture
def owned(rig: Rig) -> str:
    return seed_checkin(rig.db, rig.services.defaults, owner="U0ALICE")


@HOSTILE
@given(moved=salted, blockers=salted, progress=text, what=salted)
def test_checkin_and_dependency_modals_take_any_text(
    rig: Rig, owned: str, moved: str, blockers: str, progress: str, what: str
) -> None:
    button = {"action_id": "checkin_update", "value": json.dumps({"initiative": owned}), "type": "button"}
    update = modal_from(rig, lambda: rig.slack.block_action(button, user="U0ALICE", channel="C0GENERAL"))
    blocks = {b.get("block_id") for b in update["blocks"]}
    values = {
        "checkin_health": "at_risk",
        "checkin_moved": moved,
        "checkin_blockers": blockers,
        "checkin_progress": progress,
        "checkin_metric": progress,
    }
    answered(
        rig, rig.slack.submit_view(update, {k: v for k, v in values.items() if k in blocks}, user="U0ALICE")
    )

    button = {"action_id": "dependency_add", "value": json.dumps({"initiative": owned}), "type": "button"}
    add = modal_from(rig, lambda: rig.slack.block_action(button, user="U0ALICE", channel="C0GENERAL"))
    values = {
        DependencyBlock.TEAM: "Platform",
        DependencyBlock.WHAT: what,
        DependencyBlock.NEEDED_BY: "2026-06-30",
    }
    answered(rig, rig.slack.submit_view(add, values, user="U0ALICE"))


@pytest.fixture
def ladder_modals(rig: Rig) -> dict[str, dict[str, Any]]:
    build(rig.db, "overdue")
    for at in (day(2), day(4), day(9)):
        rig.tick(at)
    (post,) = [m for m in rig.fake.posts("C0GOVERN") if m.thread_ts is None]
    alice = next(m for m in rig.fake.dms("U0ALICE") if "stalled" in m.text)
    return {
        "renegotiate": modal_from(
            rig,
            lambda: rig.slack.block_action(
                find_action(alice, "dependency_renegotiate"), user="U0ALICE", message=alice
            ),
        ),
        "resolve": modal_from(
            rig,
            lambda: rig.slack.block_action(
                find_action(post, "escalation_resolve"), user="U0GOV", message=post
            ),
        ),
        "snooze": modal_from(
            rig,
            lambda: rig.slack.block_action(
                find_action(post, "escalation_snooze"), user="U0GOV", message=post
            ),
        ),
    }


@HOSTILE
@given(reason=salted, how=salted, why=salted)
def test_escalation_modals_take_any_text(
    rig: Rig, ladder_modals: dict[str, dict[str, Any]], reason: str, how: str, why: str
) -> None:
    later = (day(9) + timedelta(days=10)).date().isoformat()
    answered(
        rig,
        rig.slack.submit_view(
            ladder_modals["snooze"],
            {EscalationBlock.UNTIL: later, EscalationBlock.SNOOZE_REASON: why},
            user="U0GOV",
        ),
    )
    answered(
        rig,
        rig.slack.submit_view(
            ladder_modals["renegotiate"],
            {EscalationBlock.NEEDED_BY: later, EscalationBlock.REASON: reason},
            user="U0ALICE",
        ),
    )
    answered(rig, rig.slack.submit_view(ladder_modals["resolve"], {EscalationBlock.HOW: how}, user="U0GOV"))


@HOSTILE
@given(cadence=text, holidays=text, hours=st.one_of(text, st.integers(-(10**6), 10**6).map(str)))
def test_the_settings_form_takes_any_text(rig: Rig, cadence: str, holidays: str, hours: str) -> None:
    rig.slack.open_home("U0ADMIN")
    rig.settle()
    home = rig.fake.home["U0ADMIN"]
    modal = modal_from(
        rig,
        lambda: rig.slack.block_action(find_action(home, "home_edit_settings"), user="U0ADMIN", view=home),
    )
    values = {
        settings_block("default_cadence"): cadence,
        settings_block("holidays"): holidays,
        settings_block("reminder_after_hours"): hours,
        settings_block("stall_blocked_days"): hours,
    }
    blocks = {b.get("block_id") for b in modal["blocks"]}
    answered(
        rig, rig.slack.submit_view(modal, {k: v for k, v in values.items() if k in blocks}, user="U0ADMIN")
    )

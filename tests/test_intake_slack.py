"""Intake over HTTP, as Slack drives it: the modal from every door, its errors on the right field,
one request per submit, triage by the right people only, the queue, and escaped user text."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core import workspaces
from bot.intake import flows as intake
from bot.intake.models import NO_OKR, AcceptBlock, AnswerBlock, AskBlock, DeclineBlock, IntakeBlock
from storage.models import (
    Dependency,
    Event,
    Initiative,
    InitiativeState,
    Okr,
    Outbox,
)
from tests import factories as f
from tests.conftest import START, Rig
from tests.hostile import assert_nothing_live
from tests.slackfake import broadcasts
from tests.slackhttp import find_action

REQUESTER = "U0DAN"


def seed(rig: Rig) -> dict[str, int]:
    """O1 (Carol's, priority 5) with O1-KR2 (Bob's), O2 (priority 2), and last year's archived O0."""
    with rig.db.session() as s:
        o1 = f.okr(
            s,
            "O1",
            now=START,
            owner_id="U0CAROL",
            title="Grow revenue in EMEA",
            priority=5,
            url="https://okr.example.com/o/1",
        )
        kr = f.okr(
            s,
            "O1-KR2",
            now=START,
            parent=o1,
            owner_id="U0BOB",
            title="Cut churn to 3%",
            priority=5,
            url="https://okr.example.com/o/1/kr/2",
        )
        o2 = f.okr(s, "O2", now=START, owner_id="U0CAROL", title="Tidy the back office", priority=2)
        o0 = f.okr(
            s,
            "O0",
            now=START,
            title="Last year's goal",
            period="2025-Q4",
            url="https://okr.example.com/o/0",
            archived_at=START - timedelta(days=40),
        )
        return {"O1": o1.id, "O1-KR2": kr.id, "O2": o2.id, "O0": o0.id}


def open_modal(rig: Rig, user: str = REQUESTER, text: str = "") -> dict[str, Any]:
    before = len(rig.fake.views_opened())
    reply = rig.slack.command("/request", text, user=user)
    assert reply.status == 200 and not reply.body.strip()  # acknowledged; the modal opens after
    rig.settle()
    views = rig.fake.views_opened()
    assert len(views) == before + 1, "the intake modal did not open"
    return views[-1]


def good(okrs: dict[str, int], **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        IntakeBlock.TITLE: "Rate-limit the public API",
        IntakeBlock.DESCRIPTION: "Scrapers take the API down weekly; customers churn.",
        IntakeBlock.OKR: str(okrs["O1-KR2"]),
        IntakeBlock.IMPACT_LEVEL: "3",
        IntakeBlock.IMPACT: "churn -0.5 points",
        IntakeBlock.NEEDED_BY: "2026-03-20",
        IntakeBlock.TEAM: "Platform",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def initiatives(rig: Rig) -> list[Initiative]:
    with rig.db.session() as s:
        return list(s.scalars(sa.select(Initiative).order_by(Initiative.id)))


def submit(rig: Rig, view: dict[str, Any], values: dict[str, Any], user: str = REQUESTER) -> Any:
    reply = rig.slack.submit_view(view, values, user=user)
    assert reply.status == 200
    rig.settle()
    return reply.json()


def submitted(rig: Rig, okrs: dict[str, int], **changes: Any) -> Initiative:
    body = submit(rig, open_modal(rig), good(okrs, **changes))
    assert body["response_action"] == "update", body
    return initiatives(rig)[-1]


# -- the modal opens from every door ----------------------------------------------------------------


def test_the_modal_opens_from_the_slash_command_with_the_title_prefilled(rig: Rig) -> None:
    view = open_modal(rig, text="Rate limits please")
    assert view["callback_id"] == "intake_submit"
    assert view["title"]["text"] == "New request"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[IntakeBlock.TITLE]["element"]["initial_value"] == "Rate limits please"
    okr = blocks[IntakeBlock.OKR]["element"]
    assert okr["type"] == "external_select" and okr["min_query_length"] == 0
    # teams are configured: "team asked" is a select of them
    team = blocks[IntakeBlock.TEAM]["element"]
    assert team["type"] == "static_select" and [o["value"] for o in team["options"]] == ["Data", "Platform"]
    assert "okr.example.com" in blocks[IntakeBlock.OKR_URL]["hint"]["text"]
    assert IntakeBlock.WORK not in blocks  # no tracker is set up: no linked-work field


def test_the_modal_opens_from_the_global_shortcut(rig: Rig) -> None:
    assert rig.slack.global_shortcut("new_request", user="U0ALICE").status == 200
    rig.settle()
    (view,) = rig.fake.views_opened()
    assert view["callback_id"] == "intake_submit"


def test_the_message_shortcut_prefills_from_the_message_and_links_back_to_it(rig: Rig) -> None:
    okrs = seed(rig)
    text = "Can someone add rate limits?\nThe API fell over <!here> twice this week"
    reply = rig.slack.message_shortcut(
        "request_from_message", user=REQUESTER, channel="C0GENERAL", text=text, ts="1772434800.000100"
    )
    assert reply.status == 200
    rig.settle()
    (view,) = rig.fake.views_opened()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[IntakeBlock.DESCRIPTION]["element"]["initial_value"] == text
    assert blocks[IntakeBlock.TITLE]["element"]["initial_value"] == "Can someone add rate limits?"

    body = submit(rig, view, good(okrs, **{IntakeBlock.DESCRIPTION: text}))
    assert body["response_action"] == "update"
    (item,) = initiatives(rig)
    link = "https://fake.slack.com/archives/C0GENERAL/p1772434800000100"
    assert (item.source_channel, item.source_ts, item.source_link) == ("C0GENERAL", "1772434800.000100", link)
    (post,) = rig.fake.posts("C0TRIAGE")
    assert link in post.visible
    assert "&lt;!here&gt;" in post.visible and broadcasts([post.visible, post.text]) == []


# -- validation -------------------------------------------------------------------------------------


CASES = {
    "no OKR": ({IntakeBlock.OKR: None}, IntakeBlock.OKR, NO_OKR),
    "unknown OKR": ({IntakeBlock.OKR: "987654"}, IntakeBlock.OKR, "unknown"),
    "archived OKR": ({IntakeBlock.OKR: "O0"}, IntakeBlock.OKR, "O0 is archived"),
    "link off the allowed hosts": (
        {IntakeBlock.OKR: None, IntakeBlock.OKR_URL: "https://okrs.evil.example/o/1"},
        IntakeBlock.OKR_URL,
        "not on an allowed OKR host (okr.example.com)",
    ),
    "allowed link, unknown OKR": (
        {IntakeBlock.OKR: None, IntakeBlock.OKR_URL: "https://okr.example.com/o/99"},
        IntakeBlock.OKR_URL,
        "ask an admin to import it",
    ),
    "link to an archived OKR": (
        {IntakeBlock.OKR: None, IntakeBlock.OKR_URL: "HTTPS://OKR.Example.com/o/0/"},
        IntakeBlock.OKR_URL,
        "O0 is archived",
    ),
    "select and link disagree": (
        {IntakeBlock.OKR_URL: "https://okr.example.com/o/1"},
        IntakeBlock.OKR_URL,
        "This link is O1, but you picked O1-KR2",
    ),
    "empty title": ({IntakeBlock.TITLE: "   "}, IntakeBlock.TITLE, "Give the request a title"),
    "over-long title": ({IntakeBlock.TITLE: "x" * 151}, IntakeBlock.TITLE, "under 150 characters"),
    "needed-by in the past": ({IntakeBlock.NEEDED_BY: "2026-03-01"}, IntakeBlock.NEEDED_BY, "in the past"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_lands_on_its_field_and_nothing_happens(rig: Rig, case: str) -> None:
    okrs = seed(rig)
    changes, field, words = CASES[case]
    changes = {k: (str(okrs[v]) if isinstance(v, str) and v in okrs else v) for k, v in changes.items()}
    view = open_modal(rig)
    calls_before = len(rig.fake.calls)

    body = submit(rig, view, good(okrs, **changes))

    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {field}, body
    assert words in body["errors"][field]
    assert initiatives(rig) == []
    assert rig.fake.calls[calls_before:] == []  # nothing posted, no DM: the modal stays open as typed


def test_all_errors_come_back_at_once(rig: Rig) -> None:
    seed(rig)
    body = submit(
        rig,
        open_modal(rig),
        {
            IntakeBlock.TITLE: " ",
            IntakeBlock.DESCRIPTION: "x",
            IntakeBlock.NEEDED_BY: "2025-12-31",
            IntakeBlock.TEAM: "Platform",
        },
    )
    assert set(body["errors"]) == {
        IntakeBlock.TITLE,
        IntakeBlock.OKR,
        IntakeBlock.IMPACT_LEVEL,
        IntakeBlock.NEEDED_BY,
    }


def test_a_link_to_a_registered_okr_counts_however_it_is_cased(rig: Rig) -> None:
    okrs = seed(rig)
    item = submitted(
        rig, okrs, **{IntakeBlock.OKR: None, IntakeBlock.OKR_URL: "HTTPS://OKR.EXAMPLE.COM/o/1/kr/2/"}
    )
    assert item.okr_id == okrs["O1-KR2"]


# -- a valid request ---------------------------------------------------------------------------------


def test_a_valid_request_makes_one_request_one_dm_one_triage_post(rig: Rig) -> None:
    okrs = seed(rig)
    item = submitted(rig, okrs)

    assert (item.key, item.state, item.okr_id, item.impact_level) == (
        "REQ-1",
        InitiativeState.PROPOSED,
        okrs["O1-KR2"],
        3,
    )
    assert (item.requester_id, item.team_asked, str(item.needed_by)) == (REQUESTER, "Platform", "2026-03-20")
    (dm,) = rig.fake.dms(REQUESTER)
    assert "REQ-1" in dm.text and "waiting for triage" in dm.text and "O1-KR2" in dm.text
    (post,) = rig.fake.posts("C0TRIAGE")
    assert "REQ-1" in post.visible and "Rate-limit the public API" in post.visible
    assert "weight 15" in post.visible and "<@U0DAN>" in post.visible
    for action in ("triage_accept", "triage_decline", "triage_ask"):
        assert find_action(post, action)["value"] == str(item.id)
    assert len(rig.fake.posts()) == 2  # nothing else anywhere
    with rig.db.session() as s:
        assert s.scalars(sa.select(Event.kind).where(Event.initiative_id == item.id)).all() == [
            "request.submitted"
        ]


def test_the_modal_says_where_the_request_went(rig: Rig) -> None:
    okrs = seed(rig)
    body = submit(rig, open_modal(rig), good(okrs))
    text = str(body["view"])
    assert "REQ-1" in text and "<#C0TRIAGE>" in text


def test_a_double_submit_makes_one_request(rig: Rig) -> None:
    okrs = seed(rig)
    view = open_modal(rig)
    first = submit(rig, view, good(okrs))
    again = submit(rig, view, good(okrs))

    assert "already submitted" in str(again["view"]) and "REQ-1" in str(again["view"])
    assert "already" not in str(first["view"])
    assert len(initiatives(rig)) == 1
    assert len(rig.fake.dms(REQUESTER)) == 1 and len(rig.fake.posts("C0TRIAGE")) == 1


def test_two_deliveries_of_one_submit_at_the_same_moment_make_one_request(rig: Rig) -> None:
    okrs = seed(rig)
    view = open_modal(rig)
    replies: list[Any] = []
    barrier = threading.Barrier(3)

    def send() -> None:
        barrier.wait()
        replies.append(rig.slack.submit_view(view, good(okrs), user=REQUESTER))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    rig.settle()

    assert [r.status for r in replies] == [200, 200, 200]
    assert all(r.json()["response_action"] == "update" for r in replies)
    (item,) = initiatives(rig)
    assert item.number == 1
    assert len(rig.fake.dms(REQUESTER)) == 1 and len(rig.fake.posts("C0TRIAGE")) == 1
    with rig.db.session() as s:  # the losers' request numbers were given back
        assert workspaces.allocate_request_number(s, "T0FAKE", START) == 2


def test_channel_broadcasts_in_user_text_are_posted_escaped(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(
        rig,
        okrs,
        **{
            IntakeBlock.TITLE: "<!channel> ship it <@UEVIL0001>",
            IntakeBlock.DESCRIPTION: "<https://evil.example/login|Reset> & <!here>",
        },
    )
    (post,) = rig.fake.posts("C0TRIAGE")
    assert "&lt;!channel&gt; ship it" in post.visible
    assert broadcasts([post.text, post.visible, *(m.text for m in rig.fake.dms(REQUESTER))]) == []
    assert_nothing_live(rig.fake)


def test_a_request_keeps_its_dependencies(rig: Rig) -> None:
    okrs = seed(rig)
    with rig.db.session() as s:
        provider = f.initiative(s, s.get(Okr, okrs["O2"]), now=START, owner_id="U0BOB", title="Gateway v2")
        provider_id, provider_key = provider.id, provider.key
    view = open_modal(rig)
    suggestions = rig.slack.suggest(view, IntakeBlock.DEPENDS_ON, "gateway", user=REQUESTER).json()["options"]
    assert [o["value"] for o in suggestions] == [str(provider_id)]

    body = submit(
        rig,
        view,
        good(okrs, **{IntakeBlock.DEPENDS_ON: [str(provider_id)], IntakeBlock.DEPENDS_ON_TEAM: "Data"}),
    )
    assert body["response_action"] == "update", body
    item = initiatives(rig)[-1]
    with rig.db.session() as s:
        deps = s.scalars(
            sa.select(Dependency).where(Dependency.waiter_id == item.id).order_by(Dependency.id)
        ).all()
    assert [(d.provider_id, d.provider_team) for d in deps] == [(provider_id, None), (None, "Data")]
    assert all(str(d.needed_by) == "2026-03-20" for d in deps)
    (post,) = rig.fake.posts("C0TRIAGE")
    assert f"{provider_key}, team Data" in post.visible
    assert any("now waits on" in m.text for m in rig.fake.dms("U0BOB"))


# -- the OKR select ----------------------------------------------------------------------------------


def test_the_okr_select_answers_matching_active_okrs(rig: Rig) -> None:
    okrs = seed(rig)
    view = open_modal(rig)
    options = rig.slack.suggest(view, IntakeBlock.OKR, "churn", user=REQUESTER).json()["options"]
    assert [(o["value"], o["text"]["text"]) for o in options] == [
        (str(okrs["O1-KR2"]), "O1-KR2 · Cut churn to 3%")
    ]
    # an objective's words find its key results too; archived O0 never shows
    everything = rig.slack.suggest(view, IntakeBlock.OKR, "", user=REQUESTER).json()["options"]
    assert [o["text"]["text"].split(" ·")[0] for o in everything] == ["O1", "O1-KR2", "O2"]
    emea = rig.slack.suggest(view, IntakeBlock.OKR, "emea", user=REQUESTER).json()["options"]
    assert [o["text"]["text"].split(" ·")[0] for o in emea] == ["O1", "O1-KR2"]


def test_the_okr_select_answers_at_most_100_short_options(rig: Rig) -> None:
    with rig.db.session() as s:
        for n in range(1, 131):
            f.okr(s, f"O{n}", now=START, title=f"Objective number {n} " + "with a very long title " * 5)
    view = open_modal(rig)
    options = rig.slack.suggest(view, IntakeBlock.OKR, "", user=REQUESTER).json()["options"]
    assert len(options) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in options)
    assert options[0]["text"]["text"].startswith("O1 ·") and options[1]["text"]["text"].startswith("O2 ·")
    assert len(rig.slack.suggest(view, IntakeBlock.OKR, "o113", user=REQUESTER).json()["options"]) == 1


# -- triage -------------------------------------------------------------------------------------------


def click(rig: Rig, action_id: str, user: str, message: Any = None) -> dict[str, Any] | None:
    """Click a triage button on the triage post; the modal it opened, if any."""
    post = message or rig.fake.posts("C0TRIAGE")[-1]
    before = len(rig.fake.views_opened())
    assert rig.slack.block_action(find_action(post, action_id), user=user, message=post).status == 200
    rig.settle()
    opened = rig.fake.views_opened()
    return opened[-1] if len(opened) > before else None


ACCEPT = {
    AcceptBlock.OWNER: "U0ALICE",
    AcceptBlock.CADENCE: "weekly",
    AcceptBlock.DAY: "mon",
    AcceptBlock.TIME: "09:00",
    AcceptBlock.DUE: "2026-04-30",
}


def test_accept_by_a_triage_lead_activates_it_and_schedules_the_first_checkin(rig: Rig) -> None:
    okrs = seed(rig)
    item = submitted(rig, okrs)
    modal = click(rig, "triage_accept", "U0LEAD")
    assert modal is not None and modal["callback_id"] == "triage_accept_submit"
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    assert blocks[AcceptBlock.OWNER]["element"]["initial_user"] == "U0LEAD"  # Platform's lead
    assert blocks[AcceptBlock.CADENCE]["element"]["initial_option"]["value"] == "weekly"

    body = submit(rig, modal, ACCEPT, user="U0LEAD")
    assert body["response_action"] == "update", body

    (after,) = initiatives(rig)
    assert (after.state, after.owner_id, after.cadence) == (
        InitiativeState.ACTIVE,
        "U0ALICE",
        "weekly:mon@09:00",
    )
    assert (after.decided_by, str(after.due_date)) == ("U0LEAD", "2026-04-30")
    # Alice is in Berlin: Monday 09:00 there is 08:00 UTC, an hour after the clock's 07:00
    assert after.next_checkin_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    (post,) = rig.fake.posts("C0TRIAGE")
    assert len(post.history) == 1  # edited in place
    assert "Accepted" in post.visible and "<@U0LEAD>" in post.visible and "<@U0ALICE>" in post.visible
    assert "weekly on Monday at 09:00" in post.visible
    with pytest.raises(AssertionError):
        find_action(post, "triage_accept")
    assert any(
        "was accepted by <@U0LEAD>" in m.text and "<@U0ALICE> owns it" in m.text
        for m in rig.fake.dms(REQUESTER)
    )
    (owner_dm,) = rig.fake.dms("U0ALICE")
    assert "You own *REQ-1*" in owner_dm.text and "Europe/Berlin" in owner_dm.text
    with rig.db.session() as s:
        kinds = s.scalars(
            sa.select(Event.kind).where(Event.initiative_id == item.id).order_by(Event.id)
        ).all()
    assert kinds == ["request.submitted", "request.accepted"]


def test_the_okrs_owner_may_accept_too(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    modal = click(rig, "triage_accept", "U0CAROL")  # owns O1, the KR's objective
    assert modal is not None
    submit(rig, modal, ACCEPT, user="U0CAROL")
    assert initiatives(rig)[0].state == InitiativeState.ACTIVE


@pytest.mark.parametrize("action_id", ["triage_accept", "triage_decline", "triage_ask"])
def test_anyone_else_is_told_no_and_nothing_changes(rig: Rig, action_id: str) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    with rig.db.session() as s:
        outbox_before = s.scalar(sa.select(sa.func.count()).select_from(Outbox))

    assert click(rig, action_id, "U0MALLORY") is None

    (reply,) = rig.fake.responses_all()
    assert "Only the OKR's owner or a triage lead" in reply["text"] and "REQ-1" in reply["text"]
    assert reply["response_type"] == "ephemeral"
    (item,) = initiatives(rig)
    assert item.state == InitiativeState.PROPOSED and item.owner_id is None
    (post,) = rig.fake.posts("C0TRIAGE")
    assert post.history == []
    with rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Outbox)) == outbox_before


def test_a_forged_accept_submission_changes_nothing(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    modal = click(rig, "triage_accept", "U0LEAD")
    assert modal is not None
    body = submit(rig, modal, ACCEPT, user="U0MALLORY")  # the lead's modal, sent as someone else
    assert body["response_action"] == "push" and "Only the OKR's owner" in str(body["view"])
    assert initiatives(rig)[0].state == InitiativeState.PROPOSED
    assert rig.fake.posts("C0TRIAGE")[0].history == []


def test_accepting_a_decided_request_is_a_conflict(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    modal = click(rig, "triage_accept", "U0LEAD")
    stale = rig.fake.posts("C0TRIAGE")[0]
    stale = type(stale)(
        **{**stale.__dict__, "blocks": stale.history[0]["blocks"] if stale.history else stale.blocks}
    )
    assert modal is not None
    submit(rig, modal, ACCEPT, user="U0LEAD")
    again = click(rig, "triage_decline", "U0CAROL", message=stale)  # a button from before the edit

    assert again is None
    assert "already accepted by <@U0LEAD>" in rig.fake.responses_all()[-1]["text"]
    second = submit(rig, modal, {**ACCEPT, AcceptBlock.OWNER: "U0BOB"}, user="U0LEAD")
    assert second["response_action"] == "push" and "already accepted" in str(second["view"])
    assert initiatives(rig)[0].owner_id == "U0ALICE"


def test_accept_needs_an_owner_and_a_due_date_not_in_the_past(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    modal = click(rig, "triage_accept", "U0LEAD")
    assert modal is not None
    body = submit(rig, modal, {AcceptBlock.DUE: "2026-02-01"}, user="U0LEAD")
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {AcceptBlock.OWNER, AcceptBlock.DUE}
    assert initiatives(rig)[0].state == InitiativeState.PROPOSED


def test_decline_tells_the_requester_and_updates_the_post(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    modal = click(rig, "triage_decline", "U0LEAD")
    assert modal is not None
    assert submit(rig, modal, {DeclineBlock.REASON: "  "}, user="U0LEAD")["errors"].keys() == {
        DeclineBlock.REASON
    }
    submit(rig, modal, {DeclineBlock.REASON: "Gateway v2 <!channel> does this already"}, user="U0LEAD")

    (item,) = initiatives(rig)
    assert item.state == InitiativeState.DECLINED and item.decided_by == "U0LEAD"
    told = rig.fake.dms(REQUESTER)[-1].text
    assert "declined by <@U0LEAD>" in told and "Gateway v2 &lt;!channel&gt; does this already" in told
    (post,) = rig.fake.posts("C0TRIAGE")
    assert "Declined" in post.visible and "<@U0LEAD>" in post.visible and len(post.history) == 1
    assert_nothing_live(rig.fake)


def test_ask_for_info_asks_the_requester_once_and_keeps_it_in_the_queue(rig: Rig) -> None:
    okrs = seed(rig)
    submitted(rig, okrs)
    modal = click(rig, "triage_ask", "U0BOB")  # owns the KR
    assert modal is not None and modal["callback_id"] == "triage_ask_submit"
    for _ in range(2):
        assert submit(rig, modal, {AskBlock.QUESTION: "Which endpoints?\nAll of them?"}, user="U0BOB") is None

    questions = [m for m in rig.fake.dms(REQUESTER) if "has a question" in m.text]
    assert len(questions) == 1 and ">Which endpoints?\n>All of them?" in questions[0].text
    post, reply = sorted(rig.fake.posts("C0TRIAGE"), key=lambda m: m.ts)
    assert reply.thread_ts == post.ts and "Which endpoints?" in reply.text
    assert initiatives(rig)[0].state == InitiativeState.PROPOSED
    find_action(rig.fake.posts("C0TRIAGE")[0], "triage_accept")  # still there


def asked(rig: Rig, okrs: dict[str, int], question: str = "Which endpoints?") -> Any:
    """REQ-1 submitted, and Bob (the KR's owner) asked about it; the requester's question DM."""
    submitted(rig, okrs)
    modal = click(rig, "triage_ask", "U0BOB")
    assert modal is not None
    assert submit(rig, modal, {AskBlock.QUESTION: question}, user="U0BOB") is None
    (dm,) = [m for m in rig.fake.dms(REQUESTER) if "has a question" in m.text]
    return dm


def test_the_requester_answers_from_the_dm_and_triage_hears_it_once(rig: Rig) -> None:
    okrs = seed(rig)
    dm = asked(rig, okrs, "Which endpoints? <!here>")
    modal = click(rig, "request_answer", REQUESTER, message=dm)
    assert modal is not None and modal["callback_id"] == "request_answer_submit"
    assert "Which endpoints? &lt;!here&gt;" in str(modal["blocks"])  # the question, escaped

    answer = "Only /v2/search <!channel> — see <https://evil.example|the docs>"
    for _ in range(2):  # a double-clicked Send
        body = submit(rig, modal, {AnswerBlock.ANSWER: answer})
        assert body["response_action"] == "update" and "was sent" in str(body["view"])

    (to_bob,) = [m for m in rig.fake.dms("U0BOB") if "answered your question" in m.text]
    assert "Only /v2/search &lt;!channel&gt;" in to_bob.text and "REQ-1" in to_bob.text
    post, question, reply = sorted(rig.fake.posts("C0TRIAGE"), key=lambda m: m.ts)
    assert question.thread_ts == reply.thread_ts == post.ts
    assert f"<@{REQUESTER}> answered" in reply.text and "Only /v2/search" in reply.text
    with rig.db.session() as s:
        (event,) = s.scalars(sa.select(Event).where(Event.kind == "request.info_given"))
        assert (event.actor_id, event.data["asked_by"], event.data["answer"]) == (REQUESTER, "U0BOB", answer)
    assert initiatives(rig)[0].state == InitiativeState.PROPOSED
    assert_nothing_live(rig.fake)


@pytest.mark.parametrize(
    ("case", "words"),
    [("empty", "Write your answer"), ("too long", "under 1000 characters")],
)
def test_a_bad_answer_is_an_inline_error_and_sends_nothing(rig: Rig, case: str, words: str) -> None:
    okrs = seed(rig)
    modal = click(rig, "request_answer", REQUESTER, message=asked(rig, okrs))
    assert modal is not None
    sent_before = len(rig.fake.posts())

    body = submit(rig, modal, {AnswerBlock.ANSWER: "  " if case == "empty" else "x" * 1001})

    assert body["response_action"] == "errors" and words in body["errors"][AnswerBlock.ANSWER]
    assert len(rig.fake.posts()) == sent_before


def test_only_the_requester_may_answer(rig: Rig) -> None:
    okrs = seed(rig)
    dm = asked(rig, okrs)

    assert click(rig, "request_answer", "U0MALLORY", message=dm) is None

    (reply,) = rig.fake.responses_all()
    assert reply["response_type"] == "ephemeral" and "Only the requester can answer" in reply["text"]
    with rig.db.session() as s:
        assert s.scalars(sa.select(Event).where(Event.kind == "request.info_given")).all() == []


def test_an_answer_after_the_decision_is_refused(rig: Rig) -> None:
    okrs = seed(rig)
    dm = asked(rig, okrs)
    modal = click(rig, "request_answer", REQUESTER, message=dm)
    accept = click(rig, "triage_accept", "U0LEAD", message=rig.fake.posts("C0TRIAGE")[0])
    assert modal is not None and accept is not None
    submit(rig, accept, ACCEPT, user="U0LEAD")
    posts_before = len(rig.fake.posts("C0TRIAGE"))

    body = submit(rig, modal, {AnswerBlock.ANSWER: "Only search"})

    assert "already accepted by <@U0LEAD>" in str(body)
    assert len(rig.fake.posts("C0TRIAGE")) == posts_before
    assert click(rig, "request_answer", REQUESTER, message=dm) is None
    assert "already accepted" in rig.fake.responses_all()[-1]["text"]


def test_without_a_triage_channel_the_request_is_kept_and_admins_are_told_once(rig: Rig) -> None:
    okrs = seed(rig)
    with rig.db.session() as s:
        workspaces.save_overrides(s, "T0FAKE", rig.services.defaults, {"triage_channel": None}, START)
    submitted(rig, okrs)
    body = submit(rig, open_modal(rig), good(okrs, **{IntakeBlock.TITLE: "Second"}))

    assert "Triage isn't set up" in str(body["view"])
    assert [i.key for i in initiatives(rig)] == ["REQ-1", "REQ-2"]
    assert rig.fake.posts("C0TRIAGE") == []
    assert all("triage isn't set up" in m.text for m in rig.fake.dms(REQUESTER))
    (notice,) = rig.fake.dms("U0ADMIN")
    assert "no triage channel is set" in notice.text


# -- the queue ------------------------------------------------------------------------------------


def test_the_queue_ranks_by_strategic_weight_then_age(rig: Rig) -> None:
    okrs = seed(rig)
    with rig.db.session() as s:
        kr, o2 = s.get(Okr, okrs["O1-KR2"]), s.get(Okr, okrs["O2"])
        assert kr is not None and o2 is not None
        proposed = InitiativeState.PROPOSED
        f.initiative(
            s,
            o2,
            now=START,
            state=proposed,
            title="Low weight, oldest",
            impact_level=3,
            created_at=START - timedelta(days=9),
        )  # 2 x 3 = 6
        f.initiative(
            s,
            kr,
            now=START,
            state=proposed,
            title="Heavy, newer",
            impact_level=3,
            created_at=START - timedelta(hours=5),
        )  # 5 x 3 = 15
        f.initiative(
            s,
            kr,
            now=START,
            state=proposed,
            title="Heavy, older",
            impact_level=3,
            created_at=START - timedelta(days=2),
        )  # 15, older
        f.initiative(
            s,
            kr,
            now=START,
            state=proposed,
            title="Medium",
            impact_level=1,
            created_at=START - timedelta(days=30),
        )  # 5
        f.initiative(s, kr, now=START, title="Already active", impact_level=3)

    body = rig.slack.command("/initiative", "queue", user="U0LEAD").json()
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"][1:]
    titles = [s.split("\n")[0].split("* ", 2)[-1] for s in sections]
    assert titles == ["Heavy, older", "Heavy, newer", "Low weight, oldest", "Medium"]
    assert "weight 15 (priority 5 × high impact) · 2d old" in sections[0]
    assert sum(1 for b in body["blocks"] if b["type"] == "actions") == 4  # a lead may triage each

    stranger = rig.slack.command("/initiative", "queue", user="U0MALLORY").json()
    assert not any(b["type"] == "actions" for b in stranger["blocks"])
    # the rest of /initiative is still answered by its own module
    assert "no initiatives yet" in rig.slack.command("/initiative", "", user="U0MALLORY").json()["text"]


def test_accept_from_the_queue_updates_the_triage_post(rig: Rig) -> None:
    okrs = seed(rig)
    item = submitted(rig, okrs)
    body = rig.slack.command("/initiative", "queue", user="U0LEAD").json()
    button = find_action(body, "triage_accept", str(item.id))
    assert rig.slack.block_action(button, user="U0LEAD", channel="C0GENERAL").status == 200
    rig.settle()
    modal = rig.fake.views_opened()[-1]
    submit(rig, modal, ACCEPT, user="U0LEAD")
    assert "Accepted" in rig.fake.posts("C0TRIAGE")[0].visible
    assert (
        "No requests are waiting" in rig.slack.command("/initiative", "queue", user="U0LEAD").json()["text"]
    )
    # the queue reply the button was in shows the queue as it is now
    (shown,) = rig.fake.responses_all()
    assert shown["replace_original"] is True and "No requests are waiting" in shown["text"]


def test_declining_from_the_queue_shows_the_rest_of_it(rig: Rig) -> None:
    okrs = seed(rig)
    first = submitted(rig, okrs)
    submitted(rig, okrs, **{IntakeBlock.TITLE: "Second request"})
    body = rig.slack.command("/initiative", "queue", user="U0LEAD").json()
    button = find_action(body, "triage_decline", str(first.id))
    assert rig.slack.block_action(button, user="U0LEAD", channel="C0GENERAL").status == 200
    rig.settle()

    submit(rig, rig.fake.views_opened()[-1], {DeclineBlock.REASON: "Out of scope"}, user="U0LEAD")

    (shown,) = rig.fake.responses_all()
    assert shown["replace_original"] is True and "1 waiting" in str(shown["blocks"])
    assert "Second request" in str(shown["blocks"]) and first.key not in str(shown["blocks"])
    find_action(shown, "triage_accept")  # the rest can still be triaged from there


def test_a_triage_post_that_could_not_be_delivered_is_not_edited_later(rig: Rig) -> None:
    okrs = seed(rig)
    rig.fake.add_channel("C0TRIAGE", "triage", member=False)  # nobody invited the bot
    item = submitted(rig, okrs)
    assert rig.fake.posts("C0TRIAGE") == []
    (parked_notice,) = rig.fake.dms("U0ADMIN")
    assert "not_in_channel" in parked_notice.text
    with rig.db.session() as s:
        intake.accept(
            s,
            team_id="T0FAKE",
            initiative_id=item.id,
            actor_id="U0LEAD",
            owner_id="U0ALICE",
            cadence=None,
            due_date=None,
            settings=rig.services.defaults,
            now=START,
        )
    rig.settle()
    assert rig.fake.calls_to("chat.update") == []
    assert len(rig.fake.dms("U0ADMIN")) == 1  # no second notice about an edit of a post that never was
    assert any("You own *REQ-1*" in m.text for m in rig.fake.dms("U0ALICE"))

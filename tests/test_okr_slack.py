"""`/okr` over HTTP: listing and search, help, the add modal for the right people, archiving."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.okrs.views import OkrBlock
from storage.models import Okr
from tests import factories as f
from tests.conftest import START, Rig
from tests.hostile import INJECTIONS, assert_nothing_live, live_injections


def seed(rig: Rig) -> None:
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
        f.okr(
            s,
            "O1-KR1",
            now=START,
            parent=o1,
            owner_id="U0ALICE",
            title="Close 20 deals",
            metric_unit="deals",
            metric_start=0,
            metric_target=20,
            metric_current=6,
        )
        f.okr(
            s,
            "O1-KR2",
            now=START,
            parent=o1,
            owner_id=None,
            title="Cut churn to 3%",
            metric_unit="%",
            metric_start=4,
            metric_target=3,
            metric_current=3.6,
        )
        f.okr(s, "O2", now=START, owner_id="U0DAN", title="Boringly reliable platform", priority=4)
        f.okr(
            s,
            "O0",
            now=START,
            title="Partner portal",
            period="2025-Q4",
            archived_at=START - timedelta(days=9),
        )


def okr(rig: Rig, text: str, user: str = "U0MALLORY") -> dict[str, Any]:
    reply = rig.slack.command("/okr", text, user=user)
    assert reply.status == 200
    rig.settle()
    return reply.json() if reply.body.strip() else {}


def shown(body: dict[str, Any]) -> str:
    return json.dumps(body.get("blocks") or body.get("text"), ensure_ascii=False)


def test_okr_lists_active_okrs_by_objective_with_owner_period_and_progress(rig: Rig) -> None:
    seed(rig)
    body = okr(rig, "")
    assert body["response_type"] == "ephemeral"
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert len(sections) == 2  # O1 and O2; archived O0 is not listed
    o1 = sections[0].splitlines()
    assert (
        o1[0]
        == "*O1* Grow revenue in EMEA · <@U0CAROL> · 2026-Q1 · priority 5 · <https://okr.example.com/o/1|open>"
    )
    assert o1[1] == "• *O1-KR1* Close 20 deals · 6 of 20 deals (30%) · <@U0ALICE>"
    assert o1[2] == "• *O1-KR2* Cut churn to 3% · 3.6 of 3 % (40%)"
    assert "no key results yet" in sections[1] and "O0" not in shown(body)


def test_okr_words_search_and_unknown_words_are_a_search(rig: Rig) -> None:
    seed(rig)
    body = okr(rig, "churn")
    assert "O1-KR2" in shown(body) and "O1-KR1" not in shown(body) and "O2" not in shown(body)
    nothing = okr(rig, "frobnicate")
    assert "No active OKR matches “frobnicate”" in nothing["text"]


def test_okr_help_lists_every_form_including_the_digest(rig: Rig) -> None:
    text = shown(okr(rig, "help"))
    for form in ("/okr words", "/okr add", "/okr archive O1", "/okr digest` – preview the leadership digest"):
        assert form in text


def test_no_okrs_yet_says_how_to_get_them(rig: Rig) -> None:
    assert "throughline okr import" in shown(okr(rig, ""))


def test_user_text_in_okrs_is_escaped(rig: Rig) -> None:
    with rig.db.session() as s:
        o1 = f.okr(s, "O1", now=START, title=" ".join(INJECTIONS[:8]), metric_unit="<!here>")
        f.okr(
            s,
            "O1-KR1",
            now=START,
            parent=o1,
            title="<@UEVIL0001> & <#CEVIL0001>",
            metric_unit="<!channel>",
            metric_target=3,
            metric_current=1,
        )
    body = okr(rig, "")
    assert "&lt;!channel&gt;" in shown(body)
    archive = okr(rig, "archive <@UEVIL0001>", user="U0ADMIN")
    assert "There is no OKR &lt;@UEVIL0001&gt;" in archive["text"]
    assert_nothing_live(rig.fake)
    # replies in the HTTP response are not Web API calls: check them too
    assert live_injections(body) == [] and live_injections(archive) == []


# -- adding -----------------------------------------------------------------------------------------


def test_add_is_refused_to_people_who_manage_no_okrs(rig: Rig) -> None:
    seed(rig)
    body = okr(rig, "add", user="U0MALLORY")
    assert "Only the OKR's owner or a Throughline admin can add, import or archive OKRs" in body["text"]
    assert rig.fake.views_opened() == []


def test_an_admin_adds_an_okr_from_the_modal(rig: Rig) -> None:
    seed(rig)
    okr(rig, "add O3", user="U0ADMIN")
    (view,) = rig.fake.views_opened()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert "initial_value" not in blocks[OkrBlock.PERIOD]["element"]
    assert "an objective gets this quarter (2026-Q1)" in blocks[OkrBlock.PERIOD]["hint"]["text"]
    assert blocks[OkrBlock.KEY]["element"]["initial_value"] == "O3"

    bad = rig.slack.submit_view(
        view,
        {
            OkrBlock.KEY: "O3",
            OkrBlock.PRIORITY: "5",
            OkrBlock.METRIC_START: "x",
            OkrBlock.PERIOD: "2026-Q1",
            OkrBlock.URL: "okr.example.com",
        },
        user="U0ADMIN",
    ).json()
    assert bad["response_action"] == "errors"
    assert set(bad["errors"]) == {OkrBlock.TITLE, OkrBlock.OWNER, OkrBlock.METRIC_START, OkrBlock.URL}

    good = rig.slack.submit_view(
        view,
        {
            OkrBlock.KEY: "O3",
            OkrBlock.TITLE: "Enter Japan",
            OkrBlock.OWNER: "U0BOB",
            OkrBlock.PRIORITY: "5",
            OkrBlock.PERIOD: "2026-Q2",
            OkrBlock.URL: "https://okr.example.com/o/3/",
            OkrBlock.GOVERNANCE_CHANNEL: "C0GOVERN",
        },
        user="U0ADMIN",
    ).json()
    assert good["response_action"] == "update" and "O3" in json.dumps(good["view"])
    with rig.db.session() as s:
        o3 = s.scalars(sa.select(Okr).where(Okr.key == "O3")).one()
    assert (o3.owner_id, o3.priority, o3.period, o3.url, o3.governance_channel) == (
        "U0BOB",
        5,
        "2026-Q2",
        "https://okr.example.com/o/3",
        "C0GOVERN",
    )


def test_an_objective_owner_adds_key_results_to_it_but_not_objectives(rig: Rig) -> None:
    seed(rig)
    okr(rig, "add", user="U0CAROL")
    (view,) = rig.fake.views_opened()
    kr = rig.slack.submit_view(
        view, {OkrBlock.KEY: "O1-KR3", OkrBlock.TITLE: "Two new markets"}, user="U0CAROL"
    ).json()
    assert kr["response_action"] == "update"
    with rig.db.session() as s:
        added = s.scalars(sa.select(Okr).where(Okr.key == "O1-KR3")).one()
    assert added.priority == 5  # its objective's
    objective = rig.slack.submit_view(
        view, {OkrBlock.KEY: "O9", OkrBlock.TITLE: "Mine", OkrBlock.OWNER: "U0CAROL"}, user="U0CAROL"
    ).json()
    assert objective[
        "response_action"
    ] == "push" and "Only the OKR's owner or a Throughline admin" in json.dumps(objective["view"])


# -- archiving ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        ("U0ADMIN", "archive O1", "O1's period 2026-Q1 runs until 31 Mar 2026"),
        ("U0MALLORY", "archive O1", "Only the OKR's owner or a Throughline admin"),
        ("U0ADMIN", "archive O404", "There is no OKR O404"),
        ("U0ADMIN", "archive O0", "O0 is already archived"),
    ],
)
def test_archive_refusals(rig: Rig, user: str, text: str, expected: str) -> None:
    seed(rig)
    assert expected in okr(rig, text, user=user)["text"]
    with rig.db.session() as s:
        assert s.scalar(sa.select(Okr.archived_at).where(Okr.key == "O1")) is None


def test_archive_after_the_period(rig: Rig) -> None:
    seed(rig)
    rig.clock.set(START + timedelta(days=31))  # 2 April
    body = okr(rig, "archive O1", user="U0CAROL")
    assert "Archived *O1* Grow revenue in EMEA and its key results O1-KR1, O1-KR2" in body["text"]
    assert "O1" not in shown(okr(rig, ""))


def test_a_period_left_empty_is_this_quarter_for_an_objective_and_the_objectives_for_a_key_result(
    rig: Rig,
) -> None:
    seed(rig)
    okr(rig, "add", user="U0ADMIN")
    (view,) = rig.fake.views_opened()
    values = {OkrBlock.TITLE: "Enter Japan", OkrBlock.OWNER: "U0BOB"}
    assert rig.slack.submit_view(view, {**values, OkrBlock.KEY: "O4"}, user="U0ADMIN").json()
    with rig.db.session() as s:
        objective = s.scalars(sa.select(Okr).where(Okr.key == "O4")).one()
        assert objective.period == "2026-Q1"
        objective.period = "2026"  # a yearly objective

    kr = {OkrBlock.KEY: "O4-KR1", OkrBlock.TITLE: "Ten resellers", OkrBlock.METRIC_TARGET: "10"}
    assert rig.slack.submit_view(view, kr, user="U0ADMIN").json()["response_action"] == "update"

    with rig.db.session() as s:
        assert s.scalars(sa.select(Okr.period).where(Okr.key == "O4-KR1")).one() == "2026"

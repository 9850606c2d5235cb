"""The app's HTTP door: signed requests get answers from the database; anything else is refused."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bot.intake.models import IntakeBlock
from storage.models import Event, Initiative, Outbox
from tests import factories as f
from tests.conftest import SIGNING_SECRET, START, Rig
from tests.slackhttp import sign


def test_initiative_command_answers_from_the_database(rig: Rig) -> None:
    reply = rig.slack.command("/initiative", "", user="U0ALICE")

    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "no initiatives yet" in body["text"]
    shown = json.dumps(body["blocks"])
    assert "/initiative REQ-17" in shown and "/request" in shown
    rig.settle()
    # auth.test when the app started, and nothing posted on the user's behalf
    assert [c.method for c in rig.fake.calls] == ["auth.test"]


def test_help_lists_every_form(rig: Rig) -> None:
    body = rig.slack.command("/initiative", "help", user="U0ALICE").json()
    text = json.dumps(body["blocks"])
    for form in ("/initiative REQ-17", "/initiative okr O1", "/initiative queue", "/initiative stalled"):
        assert form in text


def test_unsigned_request_is_refused(rig: Rig) -> None:
    reply = rig.slack.post_form(
        {"command": "/initiative", "text": "", "user_id": "U0ALICE", "team_id": "T0FAKE"}, sign_request=False
    )
    assert reply.status == 401


def test_forged_signature_is_refused(rig: Rig) -> None:
    body = b"command=%2Finitiative&text=&user_id=U0ALICE&team_id=T0FAKE"
    ts = str(int(time.time()))
    forged = sign("not-the-secret", ts, body)
    assert rig.slack.post(body, "application/x-www-form-urlencoded", signature=forged).status == 401


def test_replayed_request_older_than_five_minutes_is_refused(rig: Rig) -> None:
    old = int(time.time()) - 6 * 60
    reply = rig.slack.post_form(
        {"command": "/initiative", "text": "", "user_id": "U0ALICE", "team_id": "T0FAKE"}, timestamp=old
    )
    assert reply.status == 401


def test_healthz_checks_the_database(rig: Rig) -> None:
    with urllib.request.urlopen(rig.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True, "database": "ok"}


# -- forged and replayed requests change nothing -----------------------------------------------------

SECRET = SIGNING_SECRET
Forgery = Callable[[bytes, int], dict[str, Any]]  # (signed body, now) -> how it is sent


def _tampered(body: bytes, now: int) -> dict[str, Any]:
    # signed as Dan's submit, sent as the triage lead's
    return {"body": body.replace(b"U0DAN", b"U0LEAD"), "signature": sign(SECRET, str(now), body)}


FORGERIES: dict[str, Forgery] = {
    "unsigned": lambda body, now: {"sign_request": False},
    "signed with another secret": lambda body, now: {"signature": sign("not-the-secret", str(now), body)},
    "body changed after signing": _tampered,
    "signed for another timestamp": lambda body, now: {"signature": sign(SECRET, str(now - 1), body)},
    "signature without its v0= prefix": lambda body, now: {"signature": sign(SECRET, str(now), body)[3:]},
    "replayed six minutes later": lambda body, now: {"timestamp": now - 6 * 60},
    "timestamped six minutes ahead": lambda body, now: {"timestamp": now + 6 * 60},
}


def _counts(rig: Rig) -> tuple[int, ...]:
    with rig.db.session() as s:
        tables = (Initiative, Event, Outbox)
        return tuple(s.scalar(sa.select(sa.func.count()).select_from(t)) or 0 for t in tables)


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_or_replayed_submit_is_refused_and_changes_nothing(rig: Rig, forgery: str) -> None:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        okr_id = str(okr.id)
    assert rig.slack.command("/request", "", user="U0DAN").status == 200
    rig.settle()
    (modal,) = rig.fake.views_opened()
    values = {
        IntakeBlock.TITLE: "Rate-limit the public API",
        IntakeBlock.DESCRIPTION: "Scrapers take it down weekly",
        IntakeBlock.OKR: okr_id,
        IntakeBlock.IMPACT_LEVEL: "2",
        IntakeBlock.NEEDED_BY: "2026-06-30",
        IntakeBlock.TEAM: "Platform",
    }
    body = urlencode({"payload": json.dumps(rig.slack.view_submission(modal, values, user="U0DAN"))}).encode()
    before, calls_before = _counts(rig), len(rig.fake.calls)

    sent = FORGERIES[forgery](body, int(time.time()))
    reply = rig.slack.post(sent.pop("body", body), "application/x-www-form-urlencoded", **sent)
    rig.settle()

    assert reply.status == 401
    assert _counts(rig) == before and len(rig.fake.calls) == calls_before
    # the same submit, signed as Slack signs it, goes through: the refusal was the signature's doing
    assert rig.slack.post(body, "application/x-www-form-urlencoded").status == 200
    rig.settle()
    assert [i.title for i in _initiatives(rig)] == ["Rate-limit the public API"]


def _initiatives(rig: Rig) -> list[Initiative]:
    with rig.db.session() as s:
        return list(s.scalars(sa.select(Initiative)))

"""The app's HTTP door: signed requests get answers from the database; anything else is refused."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.conftest import Rig
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

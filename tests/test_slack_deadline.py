"""Slack's three seconds with Slack's API hanging: every interaction is answered in time, and the
user hears why nothing happened where that is possible.

Slack shows "operation_timeout" (or redelivers an event) when an app's answer takes over 3 s
(https://api.slack.com/interactivity/handling#acknowledgment_response). The local Slack hangs a
method for 10 s, longer than any of slack_sdk's timeouts or retries could hide."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.errors import SLACK_SLOW
from storage.models import Health
from tests.checkin_support import initiative, seed
from tests.conftest import Rig
from tests.slackfake import FakeSlack
from tests.slackhttp import find_action
from tests.test_checkin_answers import nudge

HANG = 10.0


def hang(fake: FakeSlack, method: str, times: int = 3) -> None:
    fake.fail(method, times=times, sleep=HANG)


def told_slack_is_slow(fake: FakeSlack) -> list[dict[str, Any]]:
    return fake.wait_for(
        lambda: [r for r in fake.responses_all() if r.get("text") == SLACK_SLOW],
        what="the 'Slack is slow' reply",
    )


def test_request_answers_in_time_with_views_open_hanging_and_says_why_no_form_opened(
    rig: Rig, fake: FakeSlack
) -> None:
    hang(fake, "views.open")
    reply = rig.slack.command("/request", "Rate limits", user="U0ALICE")
    assert reply.status == 200 and reply.in_time, reply.elapsed
    # the answer itself is the reply only the user sees
    assert reply.json() == {"response_type": "ephemeral", "text": SLACK_SLOW}
    assert fake.views_opened() == []


def test_a_slow_view_leaves_the_rest_of_the_budget_to_the_profile_refresh(rig: Rig, fake: FakeSlack) -> None:
    # views.open answers after 1.5 s; users.info (the requester's zone) then hangs: the form is
    # open, the answer is in time, and no error is shown for a refresh the form can do without
    fake.fail("views.open", after_store=True, sleep=1.5)
    hang(fake, "users.info")
    reply = rig.slack.command("/request", user="U0ALICE")
    assert reply.status == 200 and reply.in_time, reply.elapsed
    assert len(fake.views_opened("U0ALICE")) == 1
    assert [r for r in fake.responses_all() if r.get("text") == SLACK_SLOW] == []


def test_the_new_request_shortcut_answers_in_time(rig: Rig, fake: FakeSlack) -> None:
    hang(fake, "views.open")
    reply = rig.slack.global_shortcut("new_request", user="U0ALICE")
    assert reply.status == 200 and reply.in_time, reply.elapsed


def test_app_home_opened_answers_in_time_with_views_publish_hanging(rig: Rig, fake: FakeSlack) -> None:
    hang(fake, "views.publish", times=1)
    first, *retries = rig.slack.deliver_event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    # in time, and refused so that Slack delivers the event again; its retry publishes the Home
    assert first.status == 500 and first.in_time, first.elapsed
    assert [r.status for r in retries] == [200]
    assert "U0ALICE" in fake.home


def test_a_check_in_button_answers_in_time_and_the_owner_is_told(rig: Rig, fake: FakeSlack) -> None:
    _key, message = nudge(rig)
    hang(fake, "views.open")
    reply = rig.slack.block_action(find_action(message, "checkin_update"), user="U0ALICE", message=message)
    assert reply.status == 200 and reply.in_time, reply.elapsed
    assert len(told_slack_is_slow(fake)) == 1


def test_a_quick_check_in_answer_is_recorded_in_time_with_slack_hanging(rig: Rig, fake: FakeSlack) -> None:
    key, message = nudge(rig)
    for method in ("users.info", "chat.update", "chat.postMessage", "views.publish"):
        hang(fake, method)
    reply = rig.slack.block_action(find_action(message, "checkin_on_track"), user="U0ALICE", message=message)
    assert reply.status == 200 and reply.in_time, reply.elapsed
    assert initiative(rig.db, key).health is Health.ON_TRACK


@pytest.mark.parametrize("text", ["", "owner {key} <@U0BOB>"])
def test_checkin_commands_answer_in_time_with_users_info_hanging(
    rig: Rig, fake: FakeSlack, text: str
) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    hang(fake, "users.info")
    reply = rig.slack.command("/checkin", text.format(key=key), user="U0ALICE")
    assert reply.status == 200 and reply.in_time, reply.elapsed
    assert reply.json()["response_type"] == "ephemeral"

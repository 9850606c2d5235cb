"""An event whose processing failed is delivered again and processed then, once.

Slack retries an event whose answer is not 2xx within 3 s, up to three times, with
`X-Slack-Retry-Num` (https://api.slack.com/apis/events-api#retries). An event recorded as seen and
answered 200 although it failed is lost: nobody delivers it again."""

from __future__ import annotations

import sqlalchemy as sa

from storage.models import SeenRequest
from tests.conftest import Rig
from tests.slackfake import FakeSlack

HOME = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}


def seen(rig: Rig) -> list[str]:
    with rig.db.session() as s:
        return list(s.scalars(sa.select(SeenRequest.key).order_by(SeenRequest.key)))


def test_an_event_that_fails_is_refused_and_its_retry_processed(rig: Rig, fake: FakeSlack) -> None:
    fake.fail("views.publish", error="internal_error")  # the Home could not be published
    replies = rig.slack.deliver_event(HOME, event_id="Ev0FAIL1")
    assert [r.status for r in replies] == [500, 200]
    assert "U0ALICE" in fake.home
    assert len([c for c in fake.calls if c.method == "views.publish"]) == 2  # failed once, then once
    assert seen(rig) == ["event:Ev0FAIL1"]


def test_a_retry_of_an_event_that_was_processed_is_not_processed_again(rig: Rig, fake: FakeSlack) -> None:
    assert [r.status for r in rig.slack.deliver_event(HOME, event_id="Ev0OK1")] == [200]
    again = rig.slack.event(HOME, event_id="Ev0OK1", retry_num=1)
    assert again.status == 200
    assert len([c for c in fake.calls if c.method == "views.publish"]) == 1


def test_an_event_failing_every_time_is_retried_as_often_as_slack_retries_then_given_up(
    rig: Rig, fake: FakeSlack
) -> None:
    fake.fail("views.publish", times=10, error="internal_error")
    replies = rig.slack.deliver_event(HOME, event_id="Ev0BAD1")
    assert [r.status for r in replies] == [500, 500, 500, 500]  # the first delivery and 3 retries
    assert seen(rig) == []  # a later delivery of it would still be processed

"""Linked work kept current: the trackers' webhooks (signed, deduplicated, never moving a link back)
and the reconcile in the tick that repairs a missed one, within the trackers' rate limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core.clock import FixedClock
from bot.core.config import Settings
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from bot.localtrackers.webhooks import Delivery, signature
from bot.trackers.service.remote import GITHUB_RESERVE
from storage.integrations import TrackerLink
from storage.models import Event
from tests import factories as f
from tests.conftest import START, Rig, make_settings
from tests.slackfake import FakeSlack, visible_text
from tests.trackers_rig import GITHUB_SECRET, JIRA_SECRET, linked_settings

GH = "https://github.com"
LATER = START + timedelta(minutes=31)  # past THROUGHLINE_TRACKER_RECONCILE_MINUTES (30)


@pytest.fixture
def settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    return linked_settings(fake, database_url, jira, github)


@pytest.fixture
def key(rig: Rig, jira: LocalJira, github: LocalGitHub) -> str:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        key = f.initiative(s, okr, now=START, owner_id="U0ALICE", number=17, title="One-click checkout").key
    jira.subscribe(rig.url + "/webhooks/jira", JIRA_SECRET)
    github.subscribe(rig.url + "/webhooks/github", GITHUB_SECRET)
    return key


def link(rig: Rig, key: str, url: str) -> None:
    reply = rig.slack.command("/initiative", f"link {key} {url}", user="U0ALICE").json()
    assert reply["text"].startswith(":link: Linked"), reply["text"]


def card(rig: Rig, key: str) -> str:
    body = rig.slack.command("/initiative", key, user="U0ALICE").json()
    text = visible_text({"blocks": body["blocks"]})
    return text[text.index("*Linked work*") :].split("\nTimes in")[0]


def moves(rig: Rig) -> list[dict[str, Any]]:
    with rig.db.session() as s:
        return [e.data["moved"] for e in s.scalars(sa.select(Event).where(Event.kind == "tracker.moved"))]


# -- webhooks ----------------------------------------------------------------------------------------


def test_a_jira_webhook_moving_an_issue_updates_the_card(rig: Rig, key: str, jira: LocalJira) -> None:
    jira.add_issue("PAY-7", "Fraud rules", status="To Do")
    link(rig, key, f"{jira.url}/browse/PAY-7")
    assert "*To Do*" in card(rig, key)
    jira.move("PAY-7", "In Progress", assignee="Bo")
    assert jira.answers == [(200, "1 linked item(s) updated")]
    assert "Fraud rules — *In Progress* · Bo" in card(rig, key)
    assert moves(rig) == [{"status": ["To Do", "In Progress"], "assignee": [None, "Bo"]}]


def test_a_github_webhook_merging_a_pull_request_updates_it_and_its_milestone(
    rig: Rig, key: str, github: LocalGitHub
) -> None:
    milestone = github.add_milestone("acme/web", "v2")
    github.add_issue("acme/web", "Speed up", pull=True, milestone=milestone.number)
    github.add_issue("acme/web", "Docs", milestone=milestone.number)
    link(rig, key, f"{GH}/acme/web/pull/1")
    link(rig, key, f"{GH}/acme/web/milestone/1")
    github.change("acme/web", 1, merged=True)
    assert github.answers == [(200, "2 linked item(s) updated")]
    shown = card(rig, key)
    assert "v2 — *open* · 1 of 2 done" in shown and "Speed up — *merged*" in shown


def test_a_forged_webhook_is_refused_and_changes_nothing(
    rig: Rig, key: str, jira: LocalJira, github: LocalGitHub
) -> None:
    jira.add_issue("PAY-7", status="To Do")
    link(rig, key, f"{jira.url}/browse/PAY-7")
    jira.move("PAY-7", "In Progress", notify=False)
    genuine = jira.webhook(
        rig.url + "/webhooks/jira",
        JIRA_SECRET,
        "jira:issue_updated",
        jira.issue_json(jira.issues["PAY-7"]),
        [],
    )
    tampered = replace(genuine, body=genuine.body.replace(b"In Progress", b"Done"))
    wrong_key = replace(
        genuine, headers={**genuine.headers, "X-Hub-Signature": signature("guess", genuine.body)}
    )
    unsigned = replace(genuine, headers={k: v for k, v in genuine.headers.items() if k != "X-Hub-Signature"})
    for forged in (tampered, wrong_key, unsigned):
        assert forged.send() == (401, "signature does not match")
    # a GitHub delivery signed with the Jira secret is no better
    github_forged = Delivery(
        rig.url + "/webhooks/github",
        genuine.body,
        {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "x",
            "X-Hub-Signature-256": signature(JIRA_SECRET, genuine.body),
        },
    )
    assert github_forged.send()[0] == 401
    assert "*To Do*" in card(rig, key) and moves(rig) == []
    assert genuine.send() == (200, "1 linked item(s) updated")


def test_a_replayed_delivery_is_refused_and_an_old_one_moves_nothing_back(
    rig: Rig, key: str, github: LocalGitHub
) -> None:
    github.add_issue("acme/web", "Bug")
    link(rig, key, f"{GH}/acme/web/issues/1")
    github.change("acme/web", 1, assignee="octo")
    first = github.sent[-1]
    github.change("acme/web", 1, state="closed")
    assert [a[0] for a in github.answers] == [200, 200]
    assert first.send() == (200, "already processed")  # the same delivery id again
    # the old body under a new delivery id (the id is not signed): older than what the link holds
    fresh_id = replace(first, headers={**first.headers, "X-GitHub-Delivery": "5d2f3a9e-replayed"})
    assert fresh_id.send() == (200, "0 linked item(s) updated")
    assert "Bug — *closed* · octo" in card(rig, key)
    assert len(moves(rig)) == 2


def test_webhooks_about_unlinked_items_or_other_events_change_nothing(
    rig: Rig, key: str, github: LocalGitHub
) -> None:
    github.add_issue("acme/web", "Bug")
    github.change("acme/web", 1, state="closed")
    github.notify("ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert github.answers == [(200, "0 linked item(s) updated"), (200, "0 linked item(s) updated")]
    not_json = Delivery(
        rig.url + "/webhooks/github",
        b"[1]",
        {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "d",
            "X-Hub-Signature-256": signature(GITHUB_SECRET, b"[1]"),
        },
    )
    assert not_json.send() == (400, "not a github webhook payload")


def test_a_child_moving_in_jira_recounts_its_epic_at_the_next_tick(
    rig: Rig, key: str, jira: LocalJira
) -> None:
    jira.add_issue("PAY-1", "Checkout", issuetype="Epic", status="In Progress")
    jira.add_issue("PAY-2", parent="PAY-1")
    jira.add_issue("PAY-3", parent="PAY-1")
    link(rig, key, f"{jira.url}/browse/PAY-1")
    assert "0 of 2 done" in card(rig, key)
    jira.move("PAY-2", "Done")  # the child is not linked: its epic is read again soon
    rig.tick(START + timedelta(minutes=1))
    assert "1 of 2 done" in card(rig, key)


# -- the reconcile -----------------------------------------------------------------------------------


def test_a_missed_webhook_is_repaired_by_the_reconcile(
    rig: Rig, key: str, jira: LocalJira, github: LocalGitHub
) -> None:
    jira.add_issue("PAY-7", "Fraud rules", status="To Do")
    github.add_issue("acme/web", "Bug")
    link(rig, key, f"{jira.url}/browse/PAY-7")
    link(rig, key, f"{GH}/acme/web/issues/1")
    jira.move("PAY-7", "Done", notify=False)
    github.change("acme/web", 1, state="closed", notify=False)
    jira.reset_calls()
    rig.tick(START + timedelta(minutes=10))  # not due yet: nobody is asked
    assert jira.calls == [] and "*To Do*" in card(rig, key)
    report = rig.tick(LATER)
    assert report.counts["trackers"] == {"read": 2, "changed": 2, "gone": 0, "deferred": 0, "unreachable": 0}
    shown = card(rig, key)
    assert "Fraud rules — *Done*" in shown and "Bug — *closed*" in shown


def test_an_item_deleted_while_the_webhook_was_missed_shows_as_gone(
    rig: Rig, key: str, jira: LocalJira
) -> None:
    jira.add_issue("PAY-7", "Fraud rules")
    link(rig, key, f"{jira.url}/browse/PAY-7")
    jira.delete("PAY-7", notify=False)
    rig.tick(LATER)
    assert "Fraud rules — _no longer found_" in card(rig, key)


def test_the_reconcile_waits_as_long_as_a_429_asks(
    rig: Rig, key: str, jira: LocalJira, github: LocalGitHub
) -> None:
    for n in range(3):
        github.add_issue("acme/web", f"Bug {n}")
        link(rig, key, f"{GH}/acme/web/issues/{n + 1}")
    jira.add_issue("PAY-7")
    link(rig, key, f"{jira.url}/browse/PAY-7")
    github.reset_calls()
    github.fail_next(429, {"message": "You have exceeded a secondary rate limit."}, Retry_After="600")
    report = rig.tick(LATER)
    assert len(github.calls) == 1  # the rest of GitHub's links wait; Jira's is read
    assert report.counts["trackers"]["deferred"] == 3 and report.counts["trackers"]["read"] == 1
    rig.tick(LATER + timedelta(minutes=5))
    assert len(github.calls) == 1
    rig.tick(LATER + timedelta(seconds=601))
    assert len(github.calls) == 4


def test_the_reconcile_leaves_githubs_reserve_untouched_until_the_reset(
    rig: Rig, key: str, github: LocalGitHub
) -> None:
    for n in range(3):
        github.add_issue("acme/web", f"Bug {n}")
        link(rig, key, f"{GH}/acme/web/issues/{n + 1}")
    github.clock = lambda: rig.clock.now().timestamp()
    github.reset_calls()
    github.remaining = GITHUB_RESERVE + 1  # one request left before the reserve
    github.reset_at = LATER.timestamp() + 1200
    report = rig.tick(LATER)
    assert len(github.calls) == 1 and report.counts["trackers"]["deferred"] == 2
    rig.tick(LATER + timedelta(seconds=1100))
    assert len(github.calls) == 1
    rig.tick(LATER + timedelta(seconds=1201))  # a new hour of requests
    assert len(github.calls) == 3


def test_an_unreachable_tracker_does_not_stop_the_tick(rig: Rig, key: str, jira: LocalJira) -> None:
    jira.add_issue("PAY-7")
    link(rig, key, f"{jira.url}/browse/PAY-7")
    jira.fail_next(503, {"errorMessages": ["Service unavailable"]})
    report = rig.tick(LATER)
    assert report.ok and report.counts["trackers"]["unreachable"] == 1
    with rig.db.session() as s:
        row = s.scalars(sa.select(TrackerLink)).one()
        assert row.next_check_at == LATER + timedelta(minutes=30)  # tried again at the next interval


def test_without_trackers_nothing_is_offered_and_webhooks_are_not_found(
    fake: FakeSlack, database_url: str, clock: FixedClock
) -> None:
    rig = Rig(make_settings(fake, database_url), fake, clock)
    try:
        with rig.db.session() as s:
            key = f.initiative(s, f.okr(s, "O1", now=START), now=START, owner_id="U0ALICE").key
        shown = rig.slack.command("/initiative", key, user="U0ALICE").json()
        assert "tracker_link_open" not in json.dumps(shown["blocks"])
        reply = rig.slack.command(
            "/initiative", f"link {key} https://acme.atlassian.net/browse/PAY-1", user="U0ALICE"
        )
        assert reply.json()["text"].startswith(":warning: No tracker is set up here")
        hook = Delivery(rig.url + "/webhooks/github", b"{}", {"X-Hub-Signature-256": signature("x", b"{}")})
        assert hook.send() == (404, "github webhooks are not set up here (THROUGHLINE_GITHUB_WEBHOOK_SECRET)")
        assert "trackers" in rig.tick().counts and rig.tick().counts["trackers"] == {}
    finally:
        rig.close()


def test_github_set_to_send_form_encoded_payloads_works_too(rig: Rig, key: str, github: LocalGitHub) -> None:
    from urllib.parse import urlencode

    github.add_issue("acme/web", "Bug")
    link(rig, key, f"{GH}/acme/web/issues/1")
    github.change("acme/web", 1, state="closed", notify=False)
    payload = {
        "action": "closed",
        "issue": github.issue_json(github.repo("acme/web"), github.repos["acme/web"].issues[1]),
    }
    payload["repository"] = {"full_name": "acme/web"}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "form-1",
        "X-Hub-Signature-256": signature(GITHUB_SECRET, body),
    }
    assert Delivery(rig.url + "/webhooks/github", body, headers).send() == (200, "1 linked item(s) updated")

"""Linking work to an initiative, through the HTTP door: `/initiative link` and the card's "Link
work" modal, checked against the settings and the tracker, and shown on the status card."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core.config import Settings
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from storage.integrations import TrackerLink
from storage.models import Event
from tests import factories as f
from tests.conftest import START, Rig
from tests.slackfake import FakeSlack, visible_text
from tests.slackhttp import find_action
from tests.trackers_rig import CLOSED_SITE, linked_settings

GH = "https://github.com"


def ask(rig: Rig, text: str, user: str = "U0ALICE") -> dict[str, Any]:
    reply = rig.slack.command("/initiative", text, user=user)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    return body


def shown(body: dict[str, Any]) -> str:
    return visible_text({"blocks": body.get("blocks"), "text": body.get("text")})


@pytest.fixture
def settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    return linked_settings(fake, database_url, jira, github)


@pytest.fixture
def key(rig: Rig) -> str:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        return f.initiative(s, okr, now=START, owner_id="U0ALICE", number=17, title="One-click checkout").key


@pytest.fixture
def epic(jira: LocalJira) -> str:
    jira.add_issue("PAY-1", "Checkout <epic>", issuetype="Epic", status="In Progress", assignee="Ana")
    jira.add_issue("PAY-2", "Card form", parent="PAY-1", status="Done")
    jira.add_issue("PAY-3", "Wallets", parent="PAY-1", status="In Progress")
    jira.add_issue("PAY-4", "Receipts", parent="PAY-1")
    return f"{jira.url}/browse/PAY-1"


def test_linking_a_jira_epic_shows_its_status_assignee_and_children_done(
    rig: Rig, key: str, epic: str, jira: LocalJira
) -> None:
    jira.page_size = 2  # the children are counted over two pages
    body = ask(rig, f"link {key} {epic}")
    assert "Linked" in body["text"] and "*In Progress* · 1 of 3 done" in body["text"]
    card = shown(ask(rig, key))
    assert "Linked work" in card
    assert f":jigsaw: Epic <{epic}|PAY-1> Checkout &lt;epic&gt; — *In Progress* · Ana · 1 of 3 done" in card
    searches = [c for c in jira.calls if c.path == "/rest/api/3/search/jql"]
    assert len(searches) == 2 and searches[0].query["jql"] == ["parent = PAY-1"]
    with rig.db.session() as s:
        assert s.scalars(sa.select(Event.kind).where(Event.kind.like("tracker.%"))).all() == [
            "tracker.linked"
        ]


def test_github_issue_pull_request_and_milestone(rig: Rig, key: str, github: LocalGitHub) -> None:
    milestone = github.add_milestone("acme/web", "v2 launch")
    github.add_issue("acme/web", "Bug", milestone=milestone.number, assignee="octo", state="closed")
    github.add_issue(
        "acme/web", "Speed up", pull=True, milestone=milestone.number, merged=True, state="closed"
    )
    github.add_issue("acme/web", "Refactor", milestone=milestone.number)
    for path in ("issues/1", "pull/2", "milestone/1"):
        ask(rig, f"link {key} {GH}/acme/web/{path}")
    card = shown(ask(rig, key))
    lines = card[card.index("*Linked work*") :].splitlines()[1:4]
    assert lines == [  # open ones first
        f":octopus: Milestone <{GH}/acme/web/milestone/1|acme/web#1> v2 launch — *open* · 2 of 3 done",
        f":white_check_mark: Issue <{GH}/acme/web/issues/1|acme/web#1> Bug — *closed* · octo",
        f":white_check_mark: PR <{GH}/acme/web/pull/2|acme/web#2> Speed up — *merged*",
    ]


def test_the_card_button_opens_the_modal_and_a_submission_links(rig: Rig, key: str, jira: LocalJira) -> None:
    jira.add_issue("PAY-7", "Fraud rules", status="In Review", assignee="Bo")
    card = ask(rig, key)
    rig.slack.block_action(find_action(card, "tracker_link_open"), user="U0ALICE", channel="C0GENERAL")
    (view,) = rig.fake.views_opened()
    assert view["callback_id"] == "tracker_link_modal" and "REQ-17" in visible_text(view)
    reply = rig.slack.submit_view(view, {"tracker_link_url": f"{jira.url}/browse/PAY-7"}, user="U0ALICE")
    answer = reply.json()
    assert answer["response_action"] == "update" and "Linked" in visible_text(answer["view"])
    assert "*In Review* · Bo" in shown(ask(rig, key))


def test_only_people_around_the_initiative_see_and_use_link_work(rig: Rig, key: str, jira: LocalJira) -> None:
    jira.add_issue("PAY-7")
    assert "tracker_link_open" not in str(ask(rig, key, user="U0MALLORY")["blocks"])
    body = ask(rig, f"link {key} {jira.url}/browse/PAY-7", user="U0MALLORY")
    assert body["text"].startswith(":no_entry: Only") and "Nothing was changed" in body["text"]
    with rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TrackerLink)) == 0


@pytest.mark.parametrize(
    ("link", "says"),
    [
        (
            "https://evil.example.net/browse/PAY-1",
            "evil.example.net is not a tracker Throughline is set up for",
        ),
        ("not a link", "That isn't a link"),
        (f"{GH}/someone/else/issues/1", "someone/else is not a repository Throughline is set up for"),
        ("{jira}/browse/PAY-404", "Jira has no PAY-404 that Throughline can see"),
        (f"{GH}/acme/web/issues/99", "GitHub has no acme/web#99 that Throughline can see"),
        (f"{CLOSED_SITE}/browse/PAY-1", "Jira at 127.0.0.1:9 did not answer"),
        ("{jira}/projects/PAY", "That Jira link names no issue"),
    ],
)
def test_bad_links_are_refused_with_a_clear_reply_and_nothing_written(
    rig: Rig, key: str, jira: LocalJira, link: str, says: str
) -> None:
    body = ask(rig, f"link {key} {link.format(jira=jira.url)}")
    assert says in body["text"], body["text"]
    assert "Traceback" not in body["text"]
    with rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TrackerLink)) == 0


def test_bad_links_in_the_modal_are_shown_on_its_field(rig: Rig, key: str, jira: LocalJira) -> None:
    rig.slack.block_action(
        find_action(ask(rig, key), "tracker_link_open"), user="U0ALICE", channel="C0GENERAL"
    )
    (view,) = rig.fake.views_opened()
    for link, says in [
        ("https://evil.example.net/browse/PAY-1", "is not a tracker"),
        (f"{CLOSED_SITE}/browse/PAY-1", "did not answer"),
        (f"{jira.url}/browse/PAY-404", "Jira has no PAY-404"),
    ]:
        answer = rig.slack.submit_view(view, {"tracker_link_url": link}, user="U0ALICE").json()
        assert answer["response_action"] == "errors"
        assert says in answer["errors"]["tracker_link_url"]


def test_linking_twice_refreshes_the_one_link(rig: Rig, key: str, jira: LocalJira) -> None:
    jira.add_issue("PAY-7", status="To Do")
    ask(rig, f"link {key} {jira.url}/browse/PAY-7")
    jira.move("PAY-7", "In Progress", notify=False)
    body = ask(rig, f"link {key} {jira.url}/browse/pay-7")
    assert "already linked" in body["text"] and "In Progress" in body["text"]
    with rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TrackerLink)) == 1


def test_link_usage_without_a_url(rig: Rig, key: str) -> None:
    assert "/initiative link REQ-17 https://" in ask(rig, f"link {key}")["text"]


def test_an_epic_too_large_to_count_in_time_is_linked_and_counted_at_the_next_tick(
    rig: Rig, key: str, jira: LocalJira
) -> None:
    jira.add_issue("PAY-1", "Platform", issuetype="Epic", status="In Progress")
    for n in range(2, 6):
        jira.add_issue(f"PAY-{n}", parent="PAY-1", status="Done" if n == 2 else "To Do")
    jira.page_size = 1
    jira.latency = 0.7  # a slow site: the issue and one page of children fit in the link check
    body = ask(rig, f"link {key} {jira.url}/browse/PAY-1")
    jira.latency = 0
    assert body["text"].startswith(":link: Linked") and "done" not in body["text"]
    assert "Platform — *In Progress*\n" in shown(ask(rig, key)) + "\n"
    rig.tick(START + timedelta(minutes=1))
    assert "Platform — *In Progress* · 1 of 4 done" in shown(ask(rig, key))

"""Back-links: when an initiative is accepted or changes health, each of its linked Jira issues and
GitHub issues or pull requests gets a comment saying so, once, through a durable queue — for a
workspace that opted in (`THROUGHLINE_TRACKER_BACKLINKS`). A comment whose answer was unclear is
looked for before it is posted again: a crash or a 5xx never makes a second one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.core.config import Settings
from bot.core.workspaces import ensure_workspace
from bot.intake.models import IntakeBlock
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from bot.trackers import flows as tracker_flows
from bot.trackers.service import backlinks, comments
from storage.integrations import TrackerComment
from storage.models import Initiative, Workspace
from tests.checkin_support import local, nudges, seed
from tests.conftest import Rig, make_settings
from tests.slackfake import FakeSlack
from tests.slackhttp import find_action
from tests.test_home import blocks_text, modal_values, open_settings
from tests.test_intake_slack import ACCEPT, click, good, open_modal, submit
from tests.test_intake_slack import seed as seed_okrs
from tests.trackers_rig import tracker_settings

GH = "https://github.com"
MONDAY = local("Europe/Berlin", 2026, 3, 2, 9)


@pytest.fixture(params=[True], ids=["opted-in"])
def settings(
    request: pytest.FixtureRequest, fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub
) -> Settings:
    return make_settings(
        fake, database_url, **tracker_settings(jira, github), tracker_backlinks=request.param
    )


def rows(rig: Rig) -> list[tuple[str, str, int]]:
    with rig.db.session() as s:
        return [
            (r.ref, r.state, r.attempts)
            for r in s.scalars(sa.select(TrackerComment).order_by(TrackerComment.id))
        ]


def linked(rig: Rig, jira: LocalJira, github: LocalGitHub) -> str:
    """An active initiative of Alice's with a Jira issue, a GitHub issue and a milestone linked."""
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    jira.add_issue("PAY-7", "Fraud rules")
    github.add_issue("acme/web", "Throttle")
    github.add_milestone("acme/web", "v2")
    for url in (f"{jira.url}/browse/PAY-7", f"{GH}/acme/web/issues/1", f"{GH}/acme/web/milestone/1"):
        assert "Linked" in rig.slack.command("/initiative", f"link {key} {url}", user="U0ALICE").text
    return key


def queue_a_health_change(rig: Rig, jira: LocalJira, github: LocalGitHub, choice: str) -> str:
    """`linked`, Monday's check-in, and Alice's answer: back-links queued, none sent yet."""
    key = linked(rig, jira, github)
    rig.tick(MONDAY)
    answer(rig, choice)
    return key


def answer(rig: Rig, choice: str) -> None:
    message = nudges(rig.fake, "U0ALICE")[-1]
    rig.slack.block_action(find_action(message, f"checkin_{choice}"), user="U0ALICE", message=message)
    rig.settle()


def test_accepting_a_request_comments_once_on_its_linked_work(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    okrs = seed_okrs(rig)
    jira.add_issue("PAY-12", "Rate limiter")
    github.add_issue("acme/web", "Throttle", pull=True)
    work = f"{jira.url}/browse/PAY-12\n{GH}/acme/web/pull/1"
    submit(rig, open_modal(rig), good(okrs, **{IntakeBlock.WORK: work}))
    modal = click(rig, "triage_accept", "U0LEAD")
    assert modal is not None
    submit(rig, modal, ACCEPT, user="U0LEAD")
    assert jira.comments_on("PAY-12") == []  # queued with the decision, sent by the tick

    rig.tick()
    rig.tick()
    (jira_comment,) = jira.comments_on("PAY-12")
    (github_comment,) = github.comments_on("acme/web", 1)
    assert jira_comment.startswith("Throughline: REQ-1 \u201cRate-limit the public API\u201d was accepted")
    assert "it moves the OKR O1-KR2" in jira_comment and "/initiative REQ-1 in Slack" in jira_comment
    assert github_comment.startswith("Throughline: REQ-1") and "<!-- throughline:" in github_comment


def test_a_health_change_comments_on_each_linked_issue_but_not_milestones(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    key = queue_a_health_change(rig, jira, github, "at_risk")
    rig.tick(MONDAY)
    (comment,) = jira.comments_on("PAY-7")
    with rig.db.session() as s:
        title = (
            "\u201c"
            + s.scalars(sa.select(Initiative.title).where(Initiative.number == int(key[4:]))).one()
            + "\u201d"
        )
    where = f"Where it stands: /initiative {key} in Slack."
    assert comment.splitlines()[:2] == [f"Throughline: {key} {title} is now at risk.", where]
    assert comment.splitlines()[2].startswith("Throughline ref: T0FAKE:backlink:")  # how it is found
    assert len(github.comments_on("acme/web", 1)) == 1
    assert [(ref, state) for ref, state, _ in rows(rig)] == [("PAY-7", "sent"), ("1", "sent")]  # no milestone


def test_a_comment_stored_before_a_5xx_is_found_not_posted_again(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "blocked")
    jira.fail_next(500, {"errorMessages": ["Internal server error"]}, after_store=True, only="comment")
    github.fail_next(502, {"message": "Bad gateway"}, after_store=True, only="comment")
    rig.tick(MONDAY)
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1
    assert [state for _, state, _ in rows(rig)] == ["pending", "pending"]  # unclear: looked for next time

    rig.clock.set(MONDAY.replace(hour=12))
    rig.tick()
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1
    assert [(state, attempts) for _, state, attempts in rows(rig)] == [("sent", 2), ("sent", 2)]


def test_a_lookup_that_fails_posts_nothing_until_it_can_tell(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "blocked")
    jira.fail_next(500, after_store=True, only="comment")  # the post: stored, answered 500
    github.fail_next(500, after_store=True, only="comment")
    rig.tick(MONDAY)
    jira.fail_next(503, only="comment")  # the lookup: no answer worth trusting
    github.fail_next(503, only="comment")
    rig.clock.set(MONDAY.replace(hour=12))
    rig.tick()
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1
    assert [state for _, state, _ in rows(rig)] == ["pending", "pending"]
    rig.clock.set(MONDAY.replace(hour=18))
    rig.tick()
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]


def test_an_item_gone_from_its_tracker_parks_its_comment(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    jira.delete("PAY-7", notify=False)
    rig.tick(MONDAY)
    assert [(ref, state) for ref, state, _ in rows(rig)] == [("PAY-7", "parked"), ("1", "sent")]


@pytest.mark.parametrize("settings", [False], ids=["not-opted-in"], indirect=True)
def test_without_opting_in_nothing_is_queued(rig: Rig, jira: LocalJira, github: LocalGitHub) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    rig.tick(MONDAY)
    assert rows(rig) == [] and jira.comments_on("PAY-7") == []


@pytest.mark.parametrize("settings", [False], ids=["turned-on-from-the-home"], indirect=True)
def test_an_admin_turns_back_links_on_for_the_workspace_from_the_home(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    modal = open_settings(rig)
    field = next(b for b in modal["blocks"] if b.get("block_id") == "settings_tracker_backlinks")
    assert field["element"]["initial_option"]["value"] == "false"
    rig.slack.submit_view(modal, modal_values(modal, tracker_backlinks="true"), user="U0ADMIN")
    rig.settle()
    assert "*Comment on linked Jira and GitHub work*\non" in blocks_text(rig.fake.home["U0ADMIN"])
    queue_a_health_change(rig, jira, github, "at_risk")
    rig.tick(MONDAY)
    assert len(jira.comments_on("PAY-7")) == 1


def test_a_replica_that_posted_and_died_before_recording_it_leaves_one_comment(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "blocked")
    # a replica claims the rows, posts them, and dies before it records what it sent
    with rig.db.session() as s:
        claimed = backlinks.claim(s, MONDAY)
    for row in claimed:
        assert (
            comments.post(
                rig.services.settings, row.ref, row.body, comments.marker(row.team_id, row.key)
            ).kind
            == "sent"
        )
    rig.tick(MONDAY + backlinks.LEASE / 2)  # its lease still holds: nobody touches them
    assert [state for _, state, _ in rows(rig)] == ["sending", "sending"]
    rig.tick(MONDAY + backlinks.LEASE * 2)  # the lease ran out: looked for, found, recorded
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1


def test_sent_comments_are_pruned_after_the_retention_period(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    rig.tick(MONDAY)
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]
    days = rig.services.settings.outbox_retention_days
    rig.tick(MONDAY + timedelta(days=days - 1))
    assert len(rows(rig)) == 2
    report = rig.tick(MONDAY + timedelta(days=days, minutes=1))
    assert rows(rig) == [] and report.counts["housekeeping"]["backlinks_deleted"] == 2


def test_a_rate_limit_waits_its_retry_after_however_often_it_comes(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    at = MONDAY
    for _ in range(backlinks.MAX_ATTEMPTS + 2):  # more rate limits than unclear answers may come
        jira.fail_next(429, {"errorMessages": ["Rate limit exceeded"]}, only="comment", Retry_After="30")
        github.fail_next(429, {"message": "secondary rate limit"}, only="comment", Retry_After="30")
        rig.tick(at)
        assert [state for _, state, _ in rows(rig)] == ["pending", "pending"]
        at += timedelta(seconds=31)
    rig.tick(at)
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1


def test_a_sender_whose_claim_ran_out_and_was_taken_over_does_not_post(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    with rig.db.session() as s:  # a slow replica claims the rows ...
        slow = backlinks.claim(s, MONDAY)
    rig.tick(MONDAY + backlinks.LEASE * 2)  # ... its lease runs out: another one sends them
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]
    for row in slow:  # the slow one gets to its rows at last: they are not its any more
        assert tracker_flows._send_backlink(rig.services, rig.services.settings, row) == backlinks.SENDING
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]


def test_rate_limits_then_one_unclear_answer_do_not_park(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    at = MONDAY
    for _ in range(backlinks.MAX_ATTEMPTS):
        jira.fail_next(429, only="comment", Retry_After="30")
        github.fail_next(
            403, {"message": "You have exceeded a secondary rate limit."}, only="comment", Retry_After="30"
        )
        rig.tick(at)
        at += timedelta(seconds=31)
    jira.fail_next(500, only="comment")
    github.fail_next(502, only="comment")
    rig.tick(at)
    assert [state for _, state, _ in rows(rig)] == ["pending", "pending"]
    rig.tick(at + timedelta(hours=1))
    assert [state for _, state, _ in rows(rig)] == ["sent", "sent"]
    assert len(jira.comments_on("PAY-7")) == 1 and len(github.comments_on("acme/web", 1)) == 1


def test_people_s_text_mentions_nobody_on_github(rig: Rig, github: LocalGitHub) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    with rig.db.session() as s:
        s.scalars(
            sa.select(Initiative).where(Initiative.number == int(key[4:]))
        ).one().title = "Ping @acme/everyone about #1 <!-- throughline:x -->"
    github.add_issue("acme/web", "Throttle")
    assert (
        "Linked"
        in rig.slack.command("/initiative", f"link {key} {GH}/acme/web/issues/1", user="U0ALICE").text
    )
    rig.tick(MONDAY)
    answer(rig, "at_risk")
    rig.tick(MONDAY)
    (comment,) = github.comments_on("acme/web", 1)
    assert "@acme" not in comment and "#1 " not in comment and "<!-- throughline:x" not in comment
    assert "@\u200bacme/everyone" in comment and "&lt;!-- throughline:x" in comment


def test_comments_of_a_workspace_that_uninstalled_wait(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    queue_a_health_change(rig, jira, github, "at_risk")
    with rig.db.session() as s:
        ensure_workspace(s, "T0FAKE", MONDAY)
        s.scalars(sa.select(Workspace).where(Workspace.team_id == "T0FAKE")).one().uninstalled_at = MONDAY
    rig.tick(MONDAY)
    assert [state for _, state, _ in rows(rig)] == ["pending", "pending"]
    assert jira.comments_on("PAY-7") == []

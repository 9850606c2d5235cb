"""The digest counts linked work beside milestones, per objective: "1 of 3 milestones met · linked
work: 4 of 6 done". Linked through the HTTP door, posted by the tick, read in the digest channel."""

from __future__ import annotations

import pytest

from bot.core.config import Settings
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from tests.conftest import Rig
from tests.slackfake import FakeSlack
from tests.test_digest_slack import FRIDAY, setup_workspace
from tests.trackers_rig import linked_settings

GH = "https://github.com"


@pytest.fixture
def settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    return linked_settings(fake, database_url, jira, github)


def link(rig: Rig, key: str, url: str) -> None:
    reply = rig.slack.command("/initiative", f"link {key} {url}", user="U0LEAD")
    assert reply.status == 200 and "Linked" in reply.text, reply.text


def objective_lines(rig: Rig) -> list[str]:
    (digest,) = rig.fake.posts("C0DIGEST")
    return [
        line
        for line in digest.visible.splitlines()
        if line.startswith((":dart: Milestones", ":dart: Linked"))
    ]


def test_each_objective_counts_its_linked_work_once_per_item(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    setup_workspace(rig)
    milestone = github.add_milestone("acme/web", "v2 launch")
    for state in ("closed", "closed", "closed", "open", "open"):
        github.add_issue("acme/web", "Part", milestone=milestone.number, state=state)
    github.add_issue("acme/api", "Export endpoint", pull=True)  # an open pull request
    github.add_issue("acme/api", "Draft idea", pull=True)
    jira.add_issue("PAY-9", "Tax rules", status="Done")

    link(rig, "REQ-2", f"{GH}/acme/web/milestone/1")  # O1: 3 of 5
    link(rig, "REQ-4", f"{jira.url}/browse/PAY-9")  # O1: 1 of 1 ...
    link(rig, "REQ-5", f"{jira.url}/browse/PAY-9")  # ... linked twice, counted once
    link(rig, "REQ-8", f"{GH}/acme/api/pull/2")  # O1, but only proposed: not counted
    link(rig, "REQ-10", f"{GH}/acme/api/pull/1")  # O2: 0 of 1

    rig.tick(FRIDAY)
    o1, o2 = objective_lines(rig)
    assert o1 == ":dart: Milestones: *1 of 2 met* · 1 missed · 1 ahead of plan · linked work: *4 of 6 done*"
    assert o2 == ":dart: Milestones: *0 of 1 met* · 1 missed · linked work: *0 of 1 done*"


def test_without_linked_work_the_digest_says_nothing_of_it(rig: Rig) -> None:
    setup_workspace(rig)
    rig.tick(FRIDAY)
    (digest,) = rig.fake.posts("C0DIGEST")
    assert "linked work" not in digest.visible.lower()

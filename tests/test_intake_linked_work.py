"""Linked work from the intake form: a request can carry its Jira and GitHub links from the start,
each checked against the settings and read once when the form is submitted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.core.config import Settings
from bot.intake.models import IntakeBlock
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from storage.integrations import TrackerLink
from tests.conftest import Rig
from tests.slackfake import FakeSlack
from tests.test_intake_slack import good, initiatives, open_modal, seed, submit
from tests.trackers_rig import linked_settings

GH = "https://github.com"


@pytest.fixture
def settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    return linked_settings(fake, database_url, jira, github)


def links(rig: Rig) -> list[tuple[str, str, str]]:
    with rig.db.session() as s:
        return [
            (r.ref, r.status, r.linked_by)
            for r in s.scalars(sa.select(TrackerLink).order_by(TrackerLink.ref))
        ]


def test_the_form_asks_for_linked_work_and_the_request_carries_it(
    rig: Rig, jira: LocalJira, github: LocalGitHub
) -> None:
    okrs = seed(rig)
    jira.add_issue("PAY-12", "Rate limiter", status="In Progress")
    github.add_issue("acme/web", "Throttle", pull=True)
    view = open_modal(rig)
    field = next(b for b in view["blocks"] if b.get("block_id") == IntakeBlock.WORK)
    assert field["optional"] is True and "Jira or GitHub links" in field["hint"]["text"]

    work = f"{jira.url}/browse/PAY-12\n\n  {GH}/acme/web/pull/1  \n{jira.url}/browse/PAY-12"
    body = submit(rig, view, good(okrs, **{IntakeBlock.WORK: work}))
    assert body["response_action"] == "update", body
    (request,) = initiatives(rig)
    assert links(rig) == [("1", "open", "U0DAN"), ("PAY-12", "In Progress", "U0DAN")]
    card = rig.slack.command("/initiative", request.key, user="U0DAN").json()
    assert "PAY-12" in str(card["blocks"]) and "acme/web#1" in str(card["blocks"])


@pytest.mark.parametrize(
    ("work", "words"),
    [
        (
            "https://gitlab.example/acme/web/-/issues/1",
            "gitlab.example is not a tracker Throughline is set up for",
        ),
        (f"{GH}/acme/web/pull/99", "has no acme/web#99 that Throughline can see"),
        ("not a link", "That isn't a link"),
        ("\n".join(f"{GH}/acme/web/issues/{n}" for n in range(1, 8)), "At most 5 links"),
    ],
)
def test_a_bad_link_is_shown_on_its_field_and_nothing_is_created(
    rig: Rig, github: LocalGitHub, work: str, words: str
) -> None:
    okrs = seed(rig)
    view = open_modal(rig)
    calls = len(rig.fake.calls)
    body = submit(rig, view, good(okrs, **{IntakeBlock.WORK: work}))
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [IntakeBlock.WORK]
    assert words in body["errors"][IntakeBlock.WORK]
    assert initiatives(rig) == [] and links(rig) == []
    assert rig.fake.calls[calls:] == []  # nothing posted: the modal stays open as typed


def test_a_double_submit_links_once(rig: Rig, jira: LocalJira) -> None:
    okrs = seed(rig)
    jira.add_issue("PAY-12", "Rate limiter")
    view = open_modal(rig)
    values = good(okrs, **{IntakeBlock.WORK: f"{jira.url}/browse/PAY-12"})
    submit(rig, view, values)
    submit(rig, view, values)
    assert len(initiatives(rig)) == 1 and len(links(rig)) == 1

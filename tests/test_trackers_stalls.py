"""Linked work as a stall cause: an item that sits in a blocked status, or an epic whose items stop
moving, stalls what waits on its initiative, and the ladder climbs as for any other cause; when the
work moves again, the escalation resolves by itself. Linked, read and ticked through the HTTP door
against the local Jira."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.config import Settings
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from storage.models import Initiative
from tests import factories as f
from tests.conftest import Rig
from tests.ladder import build, day, escalations, ladder_dms, posts_since
from tests.slackfake import FakeSlack
from tests.trackers_rig import linked_settings


@pytest.fixture
def settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    return linked_settings(fake, database_url, jira, github)


def link(rig: Rig, key: str, url: str) -> None:
    reply = rig.slack.command("/initiative", f"link {key} {url}", user="U0BOB")
    assert reply.status == 200 and "Linked" in reply.text, reply.text


def keep_checking_in(rig: Rig, provider_id: int, *days: int) -> None:
    """The provider's owner answers every week: no other cause than the linked work."""
    with rig.db.session() as s:
        provider = s.get(Initiative, provider_id)
        assert provider is not None
        for n in days:
            f.checkin_update(s, provider, at=day(n), moved="a bit")


def test_a_linked_item_blocked_for_three_business_days_stalls_what_waits(rig: Rig, jira: LocalJira) -> None:
    world = build(rig.db, "fresh")
    assert world.provider_key is not None
    jira.add_issue("PAY-7", "Fraud rules", status="Blocked")
    rig.clock.set(day(2))  # Mon 02 Mar, 08:00 UTC
    link(rig, world.provider_key, f"{jira.url}/browse/PAY-7")

    rig.tick(day(5))  # Thu 05 Mar 08:00: three business days, not more
    assert escalations(rig.db, world.dependency_id) == []
    rig.tick(day(5, hour=9))
    (escalation,) = escalations(rig.db, world.dependency_id)
    assert escalation.level == 1
    why = f"PAY-7 ({world.provider_key}'s) has been Blocked since Mon 02 Mar 2026"
    assert {text for _, text in posts_since(rig.fake, 0)} == {
        f":warning: {world.waiter_key} waits on {world.provider_key}, and it has stalled: {why}"
    }

    jira.move("PAY-7", "In Progress")  # unblocked: the tick's reconcile (its last step) reads it,
    rig.tick(day(6, hour=9))  # and the next tick's ladder sees it
    rig.tick(day(6, hour=9) + timedelta(minutes=1))
    (escalation,) = escalations(rig.db, world.dependency_id)
    assert escalation.resolved_at is not None
    assert "no longer stalled" in ladder_dms(rig.fake, "U0ALICE")[-1].visible


def test_an_epic_whose_items_stop_moving_stalls_and_moving_again_resolves_it(
    rig: Rig, jira: LocalJira
) -> None:
    world = build(rig.db, "fresh")
    assert world.provider_key is not None and world.provider_id is not None
    jira.add_issue("PAY-1", "Checkout", issuetype="Epic", status="In Progress")
    jira.add_issue("PAY-2", "Card form", parent="PAY-1", status="Done")
    jira.add_issue("PAY-3", "Wallets", parent="PAY-1", status="In Progress")
    rig.clock.set(day(2))
    link(rig, world.provider_key, f"{jira.url}/browse/PAY-1")
    keep_checking_in(rig, world.provider_id, 6, 13)

    rig.tick(day(16, hour=7))  # two weekly periods after the link: not yet more
    assert escalations(rig.db, world.dependency_id) == []
    rig.tick(day(16, hour=9))
    (escalation,) = escalations(rig.db, world.dependency_id)
    assert escalation.level == 1
    assert f"Nothing moved in {world.provider_key}'s epic PAY-1 since Mon 02 Mar 2026" in (
        ladder_dms(rig.fake, "U0ALICE")[-1].visible
    )

    jira.move("PAY-3", "Done")  # a child moves: the epic's count is read again
    rig.tick(day(17, hour=9))
    rig.tick(day(17, hour=9) + timedelta(minutes=1))
    (escalation,) = escalations(rig.db, world.dependency_id)
    assert escalation.resolved_at is not None

"""Uninstall: `app_uninstalled` and `tokens_revoked` (either order) stop all sending to that
workspace at once, the other workspace unaffected; its data is kept for the retention window, a
reinstall within it resumes, and after it the tick deletes every row of it from every table."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import cli
from bot.outbox.enqueue import enqueue
from storage.models import Base, Checkin, Escalation, Outbox, OutboxState
from tests.conftest import START, Rig
from tests.oauth_rig import add_workspace, calls_of, install, seed_work, workspace_row
from tests.slackfake import FakeSlack

NORTH, SOUTH = "T0NORTH", "T0SOUTH"
EVENT_ORDERS = {
    "uninstalled_then_revoked": ("app_uninstalled", "tokens_revoked"),
    "revoked_then_uninstalled": ("tokens_revoked", "app_uninstalled"),
}


def rows_of(rig: Rig, team: str) -> dict[str, int]:
    """Rows naming `team`, per table (every table with a team_id column)."""
    found = {}
    with rig.db.session() as s:
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c:
                n = s.scalar(sa.select(sa.func.count()).select_from(table).where(table.c.team_id == team))
                if n:
                    found[table.name] = n
    return found


def uninstall(rig: Rig, fake: FakeSlack, team: str, order: tuple[str, ...]) -> None:
    """The workspace's admin removes the app: Slack revokes its tokens and sends both events."""
    fake.uninstall(team)
    as_team = rig.slack.as_team(team)
    for kind in order:
        event = {"type": kind}
        if kind == "tokens_revoked":
            event["tokens"] = {"oauth": [], "bot": [fake.workspaces[team].bot_user_id]}
        assert as_team.event(event).status == 200
    rig.settle()


@pytest.fixture
def two(oauth_rig: Rig, fake: FakeSlack) -> tuple[dict[str, str], dict[str, str]]:
    north, south = add_workspace(fake, NORTH, "1"), add_workspace(fake, SOUTH, "2")
    install(oauth_rig, NORTH)
    install(oauth_rig, SOUTH)
    seed_work(oauth_rig, NORTH, north, "North")
    seed_work(oauth_rig, SOUTH, south, "South")
    return north, south


@pytest.mark.parametrize("order", EVENT_ORDERS.values(), ids=EVENT_ORDERS.keys())
def test_after_uninstall_nothing_is_sent_to_it_and_the_other_workspace_is_unaffected(
    oauth_rig: Rig, fake: FakeSlack, two, order: tuple[str, ...]
) -> None:
    north, south = two
    with oauth_rig.db.session() as s:  # a message waiting to be sent when the app goes
        enqueue(s, team_id=NORTH, key="late:north", channel=north["owner"], text="late", now=START)
        oauth_rig.runtime.worker.stop()  # not sent before the uninstall: the worker is not running
    uninstall(oauth_rig, fake, NORTH, order)
    with oauth_rig.db.session() as s:
        late = s.scalar(sa.select(Outbox).where(Outbox.key == "late:north"))
        assert late.state == OutboxState.PARKED and late.last_error == "uninstalled"
    assert workspace_row(oauth_rig, NORTH).uninstalled_at == START

    oauth_rig.tick(START + timedelta(hours=1))  # check-ins and the stall's ladder, in both
    oauth_rig.tick(START + timedelta(days=4, hours=8))  # Friday's digest

    assert calls_of(fake, NORTH) == []  # 0 messages to the uninstalled workspace
    assert not [m for m in fake.posts() if "North" in m.visible]
    assert any("South active work" in m.visible for m in fake.dms(south["owner"]))
    assert fake.posts(south["digest"])
    assert fake.crossed == [] and not fake.calls_to("chat.postMessage", ok=False)


def test_after_the_retention_window_no_row_of_it_is_left_in_any_table(
    oauth_rig: Rig, fake: FakeSlack, two
) -> None:
    oauth_rig.tick(START + timedelta(hours=1))  # both have history, messages, people, escalations
    assert {"workspace", "initiative", "outbox", "person", "slack_bots"} <= set(rows_of(oauth_rig, NORTH))
    uninstall(oauth_rig, fake, NORTH, EVENT_ORDERS["uninstalled_then_revoked"])

    oauth_rig.tick(START + timedelta(days=29))
    assert "initiative" in rows_of(oauth_rig, NORTH)  # kept within the window
    report = oauth_rig.tick(START + timedelta(days=30, hours=1))

    assert rows_of(oauth_rig, NORTH) == {}
    assert report.counts["uninstalled"]["workspaces_purged"] == 1
    assert {"workspace", "initiative", "outbox", "slack_bots"} <= set(rows_of(oauth_rig, SOUTH))


def test_a_reinstall_within_the_window_picks_up_where_it_left_off(
    oauth_rig: Rig, fake: FakeSlack, two
) -> None:
    north, _ = two
    with oauth_rig.db.session() as s:
        enqueue(s, team_id=NORTH, key="late:north", channel=north["owner"], text="late news", now=START)
        oauth_rig.runtime.worker.stop()
    uninstall(oauth_rig, fake, NORTH, EVENT_ORDERS["revoked_then_uninstalled"])
    oauth_rig.tick(START + timedelta(hours=1))
    assert calls_of(fake, NORTH) == []

    with oauth_rig.db.session() as s:  # while it was away, nothing was asked nor counted missed
        assert s.scalar(sa.select(sa.func.count()).select_from(Checkin).where(Checkin.team_id == NORTH)) == 0
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(Escalation).where(Escalation.team_id == NORTH))
            == 0
        )

    oauth_rig.clock.set(START + timedelta(days=10))
    page = install(oauth_rig, NORTH)  # ten days later, inside the window
    oauth_rig.settle()
    assert "Throughline is installed" in page.html
    assert workspace_row(oauth_rig, NORTH).uninstalled_at is None
    assert [m.visible for m in fake.dms(north["owner"])] == ["late news"]  # what waited is sent

    oauth_rig.tick(START + timedelta(days=10, hours=1))  # and its work is picked up where it was
    got = [m.visible for m in fake.dms(north["owner"])]
    assert any("North active work" in t for t in got)
    assert any("A dependency has stalled" in t for t in got)
    assert all(c.ok for c in calls_of(fake, NORTH))
    oauth_rig.tick(START + timedelta(days=31))
    assert "initiative" in rows_of(oauth_rig, NORTH)  # not purged: it came back


def test_workspace_list_and_purge_for_operators(oauth_rig: Rig, fake: FakeSlack, two, monkeypatch) -> None:
    uninstall(oauth_rig, fake, NORTH, EVENT_ORDERS["uninstalled_then_revoked"])
    settings = oauth_rig.runtime.settings
    env = {
        "DATABASE_URL": settings.database_url,
        "SLACK_CLIENT_ID": settings.slack_client_id,
        "SLACK_CLIENT_SECRET": settings.slack_client_secret.get_secret_value(),
    }
    listed = CliRunner().invoke(cli, ["workspace", "list"], env=env, obj={})
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines()[1:]}
    assert "uninstalled" in lines[NORTH] and "2026-04-01 07:00" in lines[NORTH]
    assert " installed " in lines[SOUTH]

    purged = CliRunner().invoke(cli, ["workspace", "purge", NORTH, "--yes"], env=env, obj={})
    assert purged.exit_code == 0 and purged.output.startswith(f"workspace {NORTH} purged: "), purged.output
    assert rows_of(oauth_rig, NORTH) == {} and rows_of(oauth_rig, SOUTH)
    again = CliRunner().invoke(cli, ["workspace", "purge", NORTH, "--yes"], env=env, obj={})
    assert again.exit_code == 1 and "nothing to delete" in again.output


def test_an_org_admin_taking_the_app_away_from_one_workspace_stops_only_that_one(
    oauth_rig: Rig, fake: FakeSlack
) -> None:
    east = add_workspace(fake, "T0EAST", "3", enterprise="E0ORG")
    west = add_workspace(fake, "T0WEST", "4", enterprise="E0ORG")
    install(oauth_rig, enterprise="E0ORG")
    org = oauth_rig.slack.as_team("T0EAST", "E0ORG")
    org.event({"type": "team_access_granted", "team_ids": ["T0EAST", "T0WEST"]})
    seed_work(oauth_rig, "T0EAST", east, "East")
    seed_work(oauth_rig, "T0WEST", west, "West")

    fake.revoke_team_access("E0ORG", "T0WEST")
    assert org.event({"type": "team_access_revoked", "team_ids": ["T0WEST"]}).status == 200
    oauth_rig.tick(START + timedelta(hours=1))

    assert any("East active work" in m.visible for m in fake.dms(east["owner"]))
    assert fake.dms(west["owner"]) == [] and fake.posts(west["digest"]) == []
    assert workspace_row(oauth_rig, "T0WEST").uninstalled_at == START
    assert fake.crossed == [] and not fake.calls_to("chat.postMessage", ok=False)
    # granted again: it picks up where it was
    fake.grant_team_access("E0ORG", "T0WEST")
    org.event({"type": "team_access_granted", "team_ids": ["T0WEST"]})
    oauth_rig.tick(START + timedelta(hours=2))
    assert any("West active work" in m.visible for m in fake.dms(west["owner"]))


def test_with_one_bot_token_an_uninstall_is_answered_and_logged(rig: Rig, caplog) -> None:
    with caplog.at_level("WARNING", logger="bot.slack.installs"):
        reply = rig.slack.event({"type": "app_uninstalled"})
    assert reply.status == 200
    assert "T0FAKE: app_uninstalled; SLACK_BOT_TOKEN no longer works there" in caplog.text

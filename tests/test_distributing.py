"""Distributed to several workspaces through the OAuth install: each workspace gets its own
nudges, escalations and digest, every call made with its own token (the local Slack refuses and
records any call whose token belongs to another workspace); an org-wide Enterprise Grid install
serves two workspaces of one org; a rotated token is refreshed before it expires."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.outbox.enqueue import enqueue
from storage.integrations import SLACK_BOTS
from storage.models import Outbox, OutboxState
from tests.conftest import START, Rig
from tests.oauth_rig import add_workspace, calls_of, install, seed_work, start
from tests.slackfake import FakeSlack

NORTH, SOUTH = "T0NORTH", "T0SOUTH"
FRIDAY_DIGEST = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 16:00 in Berlin


def texts(fake: FakeSlack, conversation: str) -> list[str]:
    return [m.visible for m in fake.posts(conversation)]


def test_two_workspaces_installed_through_oauth_each_get_their_own_messages_with_their_own_token(
    oauth_rig: Rig, fake: FakeSlack
) -> None:
    north, south = add_workspace(fake, NORTH, "1"), add_workspace(fake, SOUTH, "2")
    assert "Throughline is installed" in install(oauth_rig, NORTH).html
    assert "Throughline is installed" in install(oauth_rig, SOUTH).html
    seed_work(oauth_rig, NORTH, north, "North")
    seed_work(oauth_rig, SOUTH, south, "South")

    oauth_rig.tick(START + timedelta(hours=1))  # 09:00 in Berlin: check-ins, and the stall's ladder
    oauth_rig.tick(FRIDAY_DIGEST)

    for team, cast, word, other in ((NORTH, north, "North", "South"), (SOUTH, south, "South", "North")):
        nudges = texts(fake, cast["owner"])
        assert any(f"{word} active work" in t for t in nudges), nudges
        assert not any(other in t for t in nudges)
        for side in (cast["waiter"], cast["owner"]):  # the stall, to both sides
            stalled = [t for t in texts(fake, side) if "A dependency has stalled" in t]
            assert stalled and f"{word} waiting work" in stalled[0] and other not in stalled[0]
        digest = texts(fake, cast["digest"])
        assert digest and f"{word} objective" in " ".join(digest) and other not in " ".join(digest)
        posts = calls_of(fake, team)
        assert posts and all(c.ok for c in posts)
    assert fake.crossed == []  # no call ever named another workspace's people with a token
    assert not fake.calls_to("chat.postMessage", ok=False)
    assert len(calls_of(fake, NORTH)) + len(calls_of(fake, SOUTH)) == len(fake.calls_to("chat.postMessage"))


def test_a_message_of_a_workspace_with_no_installation_is_parked_never_sent_with_another_token(
    oauth_rig: Rig, fake: FakeSlack, clock
) -> None:
    add_workspace(fake, NORTH, "1")
    add_workspace(fake, SOUTH, "2")
    install(oauth_rig, NORTH)
    with oauth_rig.db.session() as s:
        enqueue(s, team_id=NORTH, key="hello:north", channel="U1ALICE", text="Hello North", now=clock.now())
        enqueue(s, team_id=SOUTH, key="hello:south", channel="U2ALICE", text="Hello South", now=clock.now())
    oauth_rig.settle()
    assert texts(fake, "U1ALICE") == ["Hello North"] and texts(fake, "U2ALICE") == []
    with oauth_rig.db.session() as s:
        south = s.scalar(sa.select(Outbox).where(Outbox.key == "hello:south"))
        assert south.state == OutboxState.PARKED and south.last_error == "not installed"
    assert fake.crossed == []

    install(oauth_rig, SOUTH)  # installed later: what waited for it is sent
    oauth_rig.settle()
    assert texts(fake, "U2ALICE") == ["Hello South"]
    assert [c.token in fake.tokens_of(SOUTH) for c in fake.calls_to("chat.postMessage")][-1:] == [True]


def test_an_org_wide_install_serves_two_workspaces_of_the_org(oauth_rig: Rig, fake: FakeSlack) -> None:
    east = add_workspace(fake, "T0EAST", "3", enterprise="E0ORG")
    west = add_workspace(fake, "T0WEST", "4", enterprise="E0ORG")
    page = install(oauth_rig, enterprise="E0ORG")
    assert "Throughline is installed" in page.html and "org" in page.html
    with oauth_rig.db.session() as s:
        (bot,) = s.execute(sa.select(SLACK_BOTS)).all()
    assert bot.is_enterprise_install and bot.team_id is None and bot.enterprise_id == "E0ORG"
    # the org admin adds the app to both workspaces
    oauth_rig.slack.as_team("T0EAST", "E0ORG").event(
        {"type": "team_access_granted", "team_ids": ["T0EAST", "T0WEST"]}
    )
    seed_work(oauth_rig, "T0EAST", east, "East")
    seed_work(oauth_rig, "T0WEST", west, "West")

    oauth_rig.tick(START + timedelta(hours=1))
    # a person of each workspace asks for their work over the Slack edge
    for team, cast in (("T0EAST", east), ("T0WEST", west)):
        reply = oauth_rig.slack.as_team(team, "E0ORG").command("/initiative", "REQ-1", user=cast["owner"])
        assert reply.status == 200

    assert any("East active work" in t for t in texts(fake, east["owner"]))
    assert any("West active work" in t for t in texts(fake, west["owner"]))
    assert not any("West" in t for t in texts(fake, east["owner"]))
    assert fake.crossed == [] and not fake.calls_to("chat.postMessage", ok=False)


def test_a_rotated_token_is_refreshed_before_it_expires_and_no_call_fails(
    fake: FakeSlack, database_url: str, clock, monkeypatch
) -> None:
    offset = [0.0]
    # Slack's wall clock runs ahead; the local Slack is shared by the tests: put it back after
    monkeypatch.setattr(fake, "clock", lambda: time.time() + offset[0])
    fake.oauth.rotation = True  # tokens last 12 hours
    rig = start(fake, database_url, clock)
    try:
        rig.runtime.installs.wall = fake.clock  # type: ignore[attr-defined]
        cast = add_workspace(fake, NORTH, "1")
        install(rig, NORTH)
        (first,) = fake.tokens_of(NORTH)
        with rig.db.session() as s:
            enqueue(s, team_id=NORTH, key="m:1", channel=cast["owner"], text="one", now=clock.now())
        rig.settle()
        assert fake.calls_to("oauth.v2.access", ok=True)[-1].args.get("grant_type") is None  # no refresh yet

        offset[0] = 10.5 * 3600  # 90 minutes before it expires: within THROUGHLINE_TOKEN_REFRESH_MINUTES
        with rig.db.session() as s:
            enqueue(s, team_id=NORTH, key="m:2", channel=cast["owner"], text="two", now=clock.now())
        rig.settle()
        refreshes = [
            c for c in fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
        ]
        assert len(refreshes) == 1 and refreshes[0].ok
        second = fake.calls_to("chat.postMessage")[-1].token
        assert second != first and second in fake.tokens_of(NORTH)

        offset[0] = 13 * 3600  # the first token has expired: nothing uses it any more
        with rig.db.session() as s:
            enqueue(s, team_id=NORTH, key="m:3", channel=cast["owner"], text="three", now=clock.now())
        rig.settle()
        assert texts(fake, cast["owner"]) == ["one", "two", "three"]

        offset[0] = 21.5 * 3600  # the second token is near its end: a request refreshes it too
        assert rig.slack.as_team(NORTH).open_home(cast["owner"]).status == 200
        rig.settle()
        (published,) = fake.calls_to("views.publish")
        assert published.ok and published.token not in (first, second)
        oauth_calls = fake.calls_to("oauth.v2.access")
        assert len([c for c in oauth_calls if c.args.get("grant_type") == "refresh_token"]) == 2
        assert not [c for c in fake.calls if not c.ok]  # no call failed for an expired token
    finally:
        rig.close()


def test_a_single_token_sends_only_its_own_workspaces_messages(rig: Rig, fake: FakeSlack, clock) -> None:
    """Two single-token deployments sharing a database: each sends its own workspace's rows, and
    leaves the other's for the other (before, one token sent every workspace's rows)."""
    fake.add_workspace("T0ELSE", "Elsewhere", token="xoxb-elsewhere")
    fake.add_user("U9ZOE", "zoe", team="T0ELSE")
    with rig.db.session() as s:
        enqueue(s, team_id="T0FAKE", key="ours", channel="U0ALICE", text="ours", now=clock.now())
        enqueue(s, team_id="T0ELSE", key="theirs", channel="U9ZOE", text="theirs", now=clock.now())
    rig.settle()
    assert texts(fake, "U0ALICE") == ["ours"] and texts(fake, "U9ZOE") == []
    with rig.db.session() as s:
        theirs = s.scalar(sa.select(Outbox).where(Outbox.key == "theirs"))
        assert theirs.state == OutboxState.PENDING and theirs.attempts == 0  # never claimed here
    assert fake.crossed == []

"""What a token per workspace costs: the authorize lookup with 1 and with 2,000 installations in
the store, and the delivery of one message to each of 200 workspaces (a token each) against 200
messages of one workspace, through the local Slack."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.harness import Table, fresh_database, settings_for, start_fake
from bot.core.clock import FixedClock
from bot.core.installs import OAuthInstalls
from bot.core.services import make_client
from bot.localslack.workspaces import CLIENT_ID, CLIENT_SECRET
from bot.outbox.deliverer import Deliverer
from bot.outbox.enqueue import enqueue
from storage.db import Database
from storage.integrations import SLACK_BOTS

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _install(db: Database, teams: list[str], tokens: dict[str, str]) -> None:
    with db.session() as session:
        session.execute(
            sa.insert(SLACK_BOTS),
            [
                {
                    "client_id": CLIENT_ID,
                    "app_id": "A0FAKE",
                    "team_id": team,
                    "bot_token": tokens.get(team, f"xoxb-bench-{team}"),
                    "bot_id": "B0BOT",
                    "bot_user_id": "U0BOT",
                    "is_enterprise_install": False,
                    "installed_at": datetime(2026, 1, 1),
                }
                for team in teams
            ],
        )


def _lookup_ms(installs: OAuthInstalls, team: str, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        installs.authorize(team)
    return (time.perf_counter() - started) / calls * 1000


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    calls = 200 if quick else 1000
    spread = 50 if quick else 200
    fake = start_fake()
    try:
        with fresh_database(kind) as url:
            settings = settings_for(fake, url, slack_bot_token=None)
            db = Database(url)
            client = make_client(settings, retry_rate_limits=False)
            installs = OAuthInstalls(
                db, client, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_minutes=120
            )
            teams = [f"T{n:06d}" for n in range(spread)]
            tokens = {}
            for team in teams:
                fake.add_workspace(team)
                fake.add_user(f"U{team[1:]}", team=team)
                tokens[team] = f"xoxb-bench-{team}"
                fake.grants[tokens[team]] = type(fake.grants[fake.bot_token])(tokens[team], team, None)
            _install(db, ["T0FAKE"], {"T0FAKE": fake.bot_token})
            one = _lookup_ms(installs, "T0FAKE", calls)
            _install(db, teams + [f"T9{n:05d}" for n in range(2000 - spread)], tokens)
            many = _lookup_ms(installs, "T0FAKE", calls)
            table.add(
                "tokens",
                kind,
                "authorize: 1 vs 2,000 installations",
                f"{one:.2f} vs {many:.2f} ms a lookup = {many / one:.2f}×",
                "≤ 1.5×",
                many / one <= 1.5,
            )
            clock = FixedClock(START)
            deliverer = Deliverer(db, client, clock, settings.workspace_defaults(), installs=installs)
            with db.session() as session:
                for n in range(spread):
                    enqueue(session, team_id="T0FAKE", key=f"one:{n}", channel="U0ALICE", text="x", now=START)
            started = time.perf_counter()
            assert deliverer.drain().sent == spread
            alone = time.perf_counter() - started
            clock.set(START + timedelta(minutes=1))
            with db.session() as session:
                for team in teams:
                    enqueue(
                        session, team_id=team, key="each", channel=f"U{team[1:]}", text="x", now=clock.now()
                    )
            started = time.perf_counter()
            assert deliverer.drain().sent == spread
            each = time.perf_counter() - started
            assert fake.crossed == []
            table.add(
                "tokens",
                kind,
                f"{spread} messages: 1 workspace vs {spread}, a token each",
                f"{alone * 1000:.0f} vs {each * 1000:.0f} ms = {each / alone:.2f}×",
                "≤ 2×",
                each / alone <= 2,
            )
            db.dispose()
    finally:
        fake.stop()

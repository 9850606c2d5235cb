"""Interaction latency: signed `/initiative REQ-x` and intake-modal submits over HTTP, at
concurrency 1 and 8, against a bare bolt app that only acknowledges the same payloads, behind the
same server in the same run. Target: p99 at most 1.5 times the bare app's."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bench.harness import (
    SIGNING_SECRET,
    Server,
    Table,
    fresh_database,
    percentile,
    seed_organisation,
    settings_for,
)
from bench.harness import start_fake as start_fake_slack
from bot.runtime import Runtime
from bot.server import EVENTS_PATH, ThroughlineWSGI
from bot.views.intake import IntakeBlock, IntakeCallback, IntakeMeta, intake_modal
from storage.db import Database
from tests.slackfake import BOT_TOKEN, FakeSlack
from tests.slackhttp import SlackHTTP

TARGET = 1.5


def bare_app(fake: FakeSlack) -> SlackRequestHandler:
    """Bolt at its cheapest: acknowledge and do nothing else."""
    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token=BOT_TOKEN, base_url=fake.url))

    @app.command("/initiative")
    def just_ack_command(ack: Ack) -> None:
        ack()

    @app.view(IntakeCallback.SUBMIT.value)
    def just_ack_view(ack: Ack) -> None:
        ack()

    return SlackRequestHandler(app, path=EVENTS_PATH)


def intake_view() -> dict[str, Any]:
    view = intake_modal(meta=IntakeMeta.new(), teams=["Platform"], okr_hosts=[]).to_dict()
    view.update({"id": "V0BENCH", "hash": "1.bench", "team_id": "T0FAKE", "app_id": "A0FAKE"})
    return view


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    requests = 100 if quick else 400
    fake = start_fake_slack()
    with fresh_database(kind) as url:
        now = datetime.now(UTC)
        organisation = seed_organisation(Database(url), now, 200, weeks_of_history=2)
        runtime = Runtime(settings_for(fake, url))
        runtime.start_background(scheduler=False)  # the delivery worker runs, as in production
        ours = Server(ThroughlineWSGI(runtime.app, runtime.db))
        bare = Server(bare_app(fake))
        view = intake_view()
        needed_by = (now + timedelta(days=60)).date().isoformat()

        def command(slack: SlackHTTP) -> int:
            return slack.command("/initiative", random.choice(organisation.keys), user="U0ALICE").status

        def submit(slack: SlackHTTP) -> int:
            fresh = {**view, "private_metadata": IntakeMeta.new().dump()}  # a new request each time
            values = {
                IntakeBlock.TITLE: "Benchmark request",
                IntakeBlock.DESCRIPTION: "Measured, not wanted",
                IntakeBlock.OKR: str(random.choice(organisation.okr_ids)),
                IntakeBlock.IMPACT_LEVEL: "2",
                IntakeBlock.NEEDED_BY: needed_by,
                IntakeBlock.TEAM: "Platform",
            }
            return slack.submit_view(fresh, values, user="U0DAN").status

        try:
            for name, send in (("/initiative REQ-x", command), ("intake submit", submit)):
                for concurrency in (1, 8):
                    measured = {}
                    for label, server in (("bare", bare), ("ours", ours)):
                        slack = SlackHTTP(server.url + EVENTS_PATH, SIGNING_SECRET, fake)
                        measured[label] = _latencies(
                            lambda slack=slack, send=send: send(slack), requests, concurrency
                        )
                    p50, p99 = (percentile(measured["ours"], p) for p in (50, 99))
                    b50, b99 = (percentile(measured["bare"], p) for p in (50, 99))
                    table.add(
                        "latency",
                        kind,
                        f"{name}, concurrency {concurrency}",
                        f"p50 {p50:.1f} ms (bare {b50:.1f}), "
                        f"p99 {p99:.1f} ms (bare {b99:.1f}) = {p99 / b99:.2f}x",
                        f"p99 <= {TARGET}x",
                        p99 <= TARGET * b99,
                    )
        finally:
            ours.close()
            bare.close()
            runtime.stop()
            fake.stop()


def _latencies(send: Any, count: int, concurrency: int) -> list[float]:
    """Milliseconds per request, after a warm-up; every answer must be 200."""
    for _ in range(20):
        assert send() == 200

    def timed(_: int) -> float:
        started = time.perf_counter()
        status = send()
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 200, status
        return elapsed

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(timed, range(count)))

"""Linked work: what a tracker webhook costs to apply (signed POST over HTTP to the real app, with
the item linked by many initiatives), and how fast the tick's reconcile reads due links from the
local GitHub (bot/localtrackers). Absolute figures, printed for the record; no targets."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.harness import Table, fresh_database, percentile, settings_for, start_fake
from bot.core.clock import FixedClock
from bot.localtrackers import github as gh
from bot.localtrackers.github import LocalGitHub
from bot.trackers.models import Item, Kind, Ref, Tracker
from bot.trackers.service import links
from storage.integrations import TrackerLink
from tests import factories as f
from tests.conftest import Rig

SECRET = "bench-github-webhook-secret"
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    initiatives = 20 if quick else 200
    items = 50 if quick else 500
    deliveries = 30 if quick else 200
    fake = start_fake()
    github = LocalGitHub().start()
    try:
        with fresh_database(kind) as url:
            settings = settings_for(
                fake,
                url,
                github_repos=["acme/web"],
                github_token=gh.TOKEN,
                github_api_url=github.url,
                github_webhook_secret=SECRET,
                tracker_reconcile_batch=items,
            )
            rig = Rig(settings, fake, FixedClock(START))
            try:
                _seed(rig, github, initiatives, items)
                github.subscribe(rig.url + "/webhooks/github", SECRET)
                times = []
                for n in range(deliveries):
                    started = time.perf_counter()
                    github.change("acme/web", 1, assignee=f"dev{n}")
                    times.append(time.perf_counter() - started)
                    assert github.answers[-1][0] == 200, github.answers[-1]
                table.add(
                    "trackers",
                    kind,
                    f"webhook, item linked by {initiatives} initiatives",
                    f"median {statistics.median(times) * 1000:.1f} ms, "
                    f"p95 {percentile(times, 95) * 1000:.1f} ms",
                )
                started = time.perf_counter()
                report = rig.runtime.tick(START + timedelta(minutes=31))
                took = time.perf_counter() - started
                read = report.counts["trackers"]["read"]
                table.add(
                    "trackers",
                    kind,
                    f"reconcile, {items} links due ({read} items) in a tick",
                    f"{took:.2f} s, {read / took:.0f} items/s ({len(github.calls)} requests)",
                )
            finally:
                rig.close()
    finally:
        github.stop()
        fake.stop()


def _seed(rig: Rig, github: LocalGitHub, initiatives: int, items: int) -> None:
    """Item #1 linked by every initiative; items 2.. linked by one each (as `/initiative link` does)."""
    for n in range(items):
        github.add_issue("acme/web", f"Issue {n + 1}")
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START)
        rows = [f.initiative(s, okr, now=START, number=1000 + n) for n in range(initiatives)]
        every = timedelta(minutes=30)
        for n in range(items):
            ref = Ref(Tracker.GITHUB, Kind.ISSUE, "acme/web", str(n + 1))
            item = Item(
                ref,
                f"https://github.com/acme/web/issues/{n + 1}",
                f"Issue {n + 1}",
                "open",
                False,
                None,
                None,
            )
            for initiative in rows if n == 0 else [rows[n % len(rows)]]:
                links.store(s, initiative, item, "U0ALICE", START, every)
        assert (s.scalar(sa.select(sa.func.count()).select_from(TrackerLink)) or 0) >= items

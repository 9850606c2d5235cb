"""The delivery soak: several replicas deliver thousands of messages through faults, and every one
ends up in Slack exactly once.

3 replicas (threads, each with its own engine, client and deliverer) deliver posts, thread replies
and edits in two workspaces, enqueued in waves, while 10 % of posts end ambiguously (Slack stores
the post, then answers 5xx, times out or drops the connection), lookups (conversations.history /
.replies) fail at random (5xx or 429), one replica's clock runs 150 s ahead, and one channel
answers an error nobody knows (`service_degraded`) to every post. Printed: lost and doubled
messages (both must be 0), the delay from due time to Slack storing it (p50 / p99 / max), the
poisoned messages parked and how often the admins were told (once).

    python -m bench.soak [--messages 5000] [--database-url postgresql+psycopg://...]
    python -m bench soak            (in the bench table, on SQLite and PostgreSQL)
"""

from __future__ import annotations

import argparse
import logging
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot import outbox
from bot.core.services import make_client
from bot.localslack.records import Fault
from bot.outbox.deliverer import Deliverer
from storage.db import Database
from storage.models import Outbox, OutboxState
from tests.slackfake import FakeSlack

TEAMS = ("T0SOAKA", "T0SOAKB")
POISON = "C0POISON"  # answers service_degraded to every post (in the first workspace)
CHANNELS = [f"C0SOAK{n:02d}" for n in range(20)]
PEOPLE = [f"U0SOAK{n:02d}" for n in range(10)]
ADMIN = "U0ADMIN"
CLIENT_TIMEOUT = 1  # seconds; a "timeout" fault answers later than this


class AheadClock:
    """The wall clock, running `ahead` early: a replica whose NTP went wrong."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


class Chaos:
    """The fake Slack's faults, decided per call (under the fake's lock)."""

    def __init__(self, rng: random.Random, ambiguous: float, lookup_failures: float) -> None:
        self.rng = rng
        self.ambiguous = ambiguous
        self.lookup_failures = lookup_failures
        self.decided: dict[str, bool] = {}
        self.injected: Counter[str] = Counter()

    def __call__(self, method: str, args: dict[str, Any]) -> Fault | None:
        if method == "chat.postMessage":
            key = str(((args.get("metadata") or {}).get("event_payload") or {}).get("key"))
            if key in self.decided:
                return None
            self.decided[key] = self.rng.random() < self.ambiguous
            if not self.decided[key]:
                return None
            kind = self.rng.choice(("5xx", "timeout", "drop"))
            self.injected[f"ambiguous {kind}"] += 1
            if kind == "5xx":
                return Fault(status=self.rng.choice((500, 502, 503)), after_store=True)
            if kind == "timeout":
                return Fault(sleep=CLIENT_TIMEOUT + 0.3, after_store=True)
            return Fault(drop=True, after_store=True)
        if method in ("conversations.history", "conversations.replies"):
            if self.rng.random() >= self.lookup_failures:
                return None
            if self.rng.random() < 0.5:
                self.injected["lookup 429"] += 1
                return Fault(status=429, retry_after=1)
            self.injected["lookup 5xx"] += 1
            return Fault(status=503)
        return None


@dataclass
class Planned:
    key: str
    team: str
    kind: str  # post | reply | edit
    channel: str | None
    ref: str | None
    text: str


@dataclass
class SoakResult:
    messages: int
    kinds: Counter[str]
    lost: list[str]
    doubled: list[str]
    poisoned: int
    poisoned_parked: int
    other_parked: list[str]
    notices: list[str]
    delays: list[float]
    injected: Counter[str]
    taken_over: int
    seconds: float
    finished: bool
    claimed_by: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return (
            self.finished
            and not self.lost
            and not self.doubled
            and not self.other_parked
            and self.poisoned_parked == self.poisoned
            and len(self.notices) == 1
        )


def plan(messages: int, rng: random.Random) -> list[Planned]:
    """Posts (60 %), thread replies (25 %) and edits (15 %) of earlier posts; 1 % to the poisoned
    channel."""
    planned: list[Planned] = []
    posts: dict[str, list[str]] = defaultdict(list)
    poisoned = max(3, messages // 100)
    for n in range(messages):
        team = TEAMS[n % 2]
        roll = rng.random()
        if n % (messages // poisoned) == 0 and len([p for p in planned if p.channel == POISON]) < poisoned:
            planned.append(Planned(f"poison:{n}", TEAMS[0], "post", POISON, None, f"poisoned {n}"))
        elif roll < 0.6 or not posts[team]:
            channel = rng.choice(CHANNELS + PEOPLE)
            planned.append(Planned(f"post:{n}", team, "post", channel, None, f"post {n}"))
            posts[team].append(f"post:{n}")
        elif roll < 0.85:
            parent = rng.choice(posts[team])
            channel = next(p.channel for p in planned if p.key == parent)
            planned.append(Planned(f"reply:{n}", team, "reply", channel, parent, f"reply {n}"))
        else:
            parent = rng.choice(posts[team])
            planned.append(Planned(f"edit:{n}", team, "edit", None, parent, f"edit {n} of {parent}"))
    return planned


def enqueue(db: Database, items: list[Planned], due: dict[str, float]) -> None:
    with db.session() as session:
        now = datetime.now(UTC)
        for item in items:
            if item.kind == "edit":
                assert item.ref is not None
                outbox.enqueue_update(
                    session, team_id=item.team, key=item.key, of=item.ref, text=item.text, now=now
                )
            else:
                assert item.channel is not None
                outbox.enqueue(
                    session,
                    team_id=item.team,
                    key=item.key,
                    channel=item.channel,
                    text=item.text,
                    now=now,
                    thread_of=item.ref,
                )
            due[item.key] = now.timestamp()


def soak(
    database_url: str,
    *,
    messages: int = 5000,
    replicas: int = 3,
    ahead: timedelta = timedelta(seconds=150),
    ambiguous: float = 0.10,
    lookup_failures: float = 0.25,
    backoff: timedelta = timedelta(seconds=15),
    max_attempts: int = 3,
    waves: int = 20,
    spread: float = 5.0,
    seed: int = 17,
    timeout: float = 900,
) -> SoakResult:
    """Run the soak against a migrated, empty database; returns what it saw."""
    from bench.harness import settings_for

    rng = random.Random(seed)
    fake = FakeSlack().start()
    try:
        fake.add_user(ADMIN, "admin")
        for person in PEOPLE:
            fake.add_user(person)
        for channel in [*CHANNELS, POISON]:
            fake.add_channel(channel)
        fake.fail_channel(POISON, "service_degraded")
        chaos = Chaos(random.Random(seed + 1), ambiguous, lookup_failures)
        fake.chaos = chaos
        settings = settings_for(fake, database_url, admins=[ADMIN])
        return _run(
            fake,
            chaos,
            settings,
            plan(messages, rng),
            replicas,
            ahead,
            backoff,
            max_attempts,
            waves,
            spread,
            timeout,
        )
    finally:
        fake.stop()


def _run(
    fake: FakeSlack,
    chaos: Chaos,
    settings: Any,
    planned: list[Planned],
    replicas: int,
    ahead: timedelta,
    backoff: timedelta,
    max_attempts: int,
    waves: int,
    spread: float,
    timeout: float,
) -> SoakResult:
    from bot.core.clock import SystemClock

    stop = threading.Event()
    taken_over: Counter[str] = Counter()
    failures: list[str] = []

    def replica(name: str, clock: Any) -> None:
        db = Database(settings.database_url)
        client = make_client(settings, timeout=CLIENT_TIMEOUT, retry_rate_limits=False)
        deliverer = Deliverer(
            db, client, clock, settings.workspace_defaults(), backoff=backoff, max_attempts=max_attempts
        )
        try:
            while not stop.is_set():
                try:
                    report = deliverer.drain()
                except Exception as exc:  # a replica's failed pass is logged and retried, as in the worker
                    failures.append(f"{name}: {type(exc).__name__}: {exc}")
                    report = None
                if report is not None:
                    taken_over[name] += report.lost
                if report is None or report.handled == 0:
                    stop.wait(0.05)
        finally:
            db.dispose()

    started = time.monotonic()
    clocks = [SystemClock() for _ in range(replicas - 1)] + [AheadClock(ahead)]
    threads = [
        threading.Thread(target=replica, args=(f"replica{n}", clock), daemon=True)
        for n, clock in enumerate(clocks)
    ]
    for thread in threads:
        thread.start()
    producer_db = Database(settings.database_url)
    due: dict[str, float] = {}
    size = max(1, len(planned) // waves)
    for start in range(0, len(planned), size):
        enqueue(producer_db, planned[start : start + size], due)
        time.sleep(spread / waves)
    finished = False
    while time.monotonic() - started < timeout:
        with producer_db.session() as session:
            open_rows = session.scalar(
                sa.select(sa.func.count())
                .select_from(Outbox)
                .where(Outbox.state.in_((OutboxState.PENDING, OutboxState.SENDING)))
            )
        if open_rows == 0:
            finished = True
            break
        time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(30)
    seconds = time.monotonic() - started
    with producer_db.session() as session:
        rows = {r.key: (r.state, r.last_error) for r in session.scalars(sa.select(Outbox))}
    producer_db.dispose()
    return _verify(fake, chaos, planned, rows, due, taken_over, seconds, finished, failures)


def _verify(
    fake: FakeSlack,
    chaos: Chaos,
    planned: list[Planned],
    rows: dict[str, tuple[OutboxState, str | None]],
    due: dict[str, float],
    taken_over: Counter[str],
    seconds: float,
    finished: bool,
    failures: list[str],
) -> SoakResult:
    copies: Counter[str] = Counter()
    for message in fake.posts():
        key = ((message.metadata or {}).get("event_payload") or {}).get("key")
        if key:
            copies[str(key)] += 1
    stored: dict[str, float] = {}  # key (or edit text) -> when Slack first stored it
    for call in fake.calls:
        if not call.response.get("ok"):
            continue
        if call.method == "chat.postMessage":
            key = str(((call.args.get("metadata") or {}).get("event_payload") or {}).get("key"))
            stored.setdefault(key, call.at)
        elif call.method == "chat.update":
            stored.setdefault("text:" + str(call.args.get("text")), call.at)
    texts = {m.ts: m for m in fake.posts()}
    lost, doubled, delays, other_parked = [], [], [], []
    last_edit: dict[str, Planned] = {}
    for item in planned:
        state = rows.get(item.key, (None, None))[0]
        if item.channel == POISON:
            if copies[item.key]:
                doubled.append(item.key)
            continue
        if state == OutboxState.PARKED:
            other_parked.append(f"{item.key}: {rows[item.key][1]}")
            continue
        if item.kind == "edit":
            last_edit[str(item.ref)] = item
            at = stored.get("text:" + item.text)
            if state != OutboxState.SENT or at is None:
                lost.append(item.key)
            else:
                delays.append(at - due[item.key])
            continue
        if state != OutboxState.SENT or copies[item.key] == 0:
            lost.append(item.key)
        elif copies[item.key] > 1:
            doubled.append(item.key)
        else:
            delays.append(stored[item.key] - due[item.key])
    shown = {str(((m.metadata or {}).get("event_payload") or {}).get("key")): m.text for m in texts.values()}
    for parent, edit in last_edit.items():  # the last edit is what shows
        if shown.get(parent) != edit.text:
            lost.append(f"{edit.key} (shows {shown.get(parent)!r})")
    poisoned = [p for p in planned if p.channel == POISON]
    notices = [m.text for m in fake.dms(ADMIN)]
    return SoakResult(
        messages=len(planned),
        kinds=Counter(p.kind for p in planned),
        lost=lost + failures,
        doubled=doubled,
        poisoned=len(poisoned),
        poisoned_parked=sum(rows.get(p.key, (None,))[0] == OutboxState.PARKED for p in poisoned),
        other_parked=other_parked,
        notices=notices,
        delays=delays,
        injected=chaos.injected,
        taken_over=sum(taken_over.values()),
        seconds=seconds,
        finished=finished,
    )


def describe(result: SoakResult) -> list[str]:
    from bench.harness import percentile

    delays = result.delays or [0.0]
    kinds = ", ".join(f"{n} {kind}s".replace("ys", "ies") for kind, n in sorted(result.kinds.items()))
    injected = ", ".join(f"{n} {what}" for what, n in sorted(result.injected.items()))
    return [
        f"{result.messages} messages ({kinds}) in {result.seconds:.0f} s"
        + ("" if result.finished else " -- DID NOT FINISH"),
        f"faults injected: {injected}",
        f"lost: {len(result.lost)}  doubled: {len(result.doubled)}  "
        f"parked by mistake: {len(result.other_parked)}",
        f"delay from due to stored in Slack: p50 {percentile(delays, 50):.2f} s, "
        f"p99 {percentile(delays, 99):.2f} s, max {max(delays):.2f} s",
        f"poisoned: {result.poisoned_parked}/{result.poisoned} parked; "
        f"admins told {len(result.notices)} time(s)",
        f"claims given up before a send (taken over or ran out): {result.taken_over}",
    ]


def run(table: Any, kind: str, *, quick: bool = False) -> None:
    """The bench table's entry (python -m bench soak)."""
    from bench.harness import fresh_database, percentile

    with fresh_database(kind) as url:
        result = soak(url, messages=300 if quick else 5000)
    delays = result.delays or [0.0]
    case = f"{result.messages} messages, 3 replicas, faults"
    table.add(
        "soak",
        kind,
        case,
        f"lost {len(result.lost)}, doubled {len(result.doubled)}",
        "0, 0",
        ok=not (result.lost or result.doubled),
    )
    table.add(
        "soak",
        kind,
        case,
        f"delay p50 {percentile(delays, 50):.1f}s p99 {percentile(delays, 99):.1f}s max {max(delays):.1f}s",
    )
    table.add(
        "soak",
        kind,
        case,
        f"poisoned parked {result.poisoned_parked}/{result.poisoned}, told {len(result.notices)}x",
        "all, 1x",
        ok=result.poisoned_parked == result.poisoned and len(result.notices) == 1,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[1])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="Enqueue the messages in 20 waves over this long."
    )
    parser.add_argument("--database-url", help="A migrated, empty database (default: a scratch one).")
    parser.add_argument("--sqlite", action="store_true", help="A scratch SQLite database, not PostgreSQL.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    from bench.harness import fresh_database

    if args.database_url:
        result = soak(args.database_url, messages=args.messages, spread=args.seconds)
    else:
        with fresh_database("sqlite" if args.sqlite else "postgres") as url:
            result = soak(url, messages=args.messages, spread=args.seconds)
    for line in describe(result):
        print(line)
    for problem in (result.lost + result.doubled + result.other_parked)[:20]:
        print("  " + problem)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

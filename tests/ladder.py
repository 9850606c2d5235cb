"""A small world for escalation tests: A (Alice's, on O1-KR1) waits on B (Bob's, on O2-KR1, asked of
the Platform team led by U0LEAD), stalled for one of the causes; time moves in March 2026 (Berlin).

OKR owners: O1, O1-KR1 and O2 are Carol's; O2-KR1 has no owner (so O2's owner stands in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from storage.db import Database
from storage.models import (
    Dependency,
    Escalation,
    Event,
    Health,
    Initiative,
)
from tests import factories as f
from tests.conftest import START
from tests.slackfake import Call, FakeSlack, Message

CAUSES = ("blocked", "missed", "overdue", "silent", "team")


def day(n: int, hour: int = 8, month: int = 3) -> datetime:
    """An instant in 2026 (UTC); 08:00 UTC is 09:00 in Berlin in March."""
    return datetime(2026, month, n, hour, tzinfo=UTC)


@dataclass
class World:
    cause: str
    waiter_id: int
    waiter_key: str
    provider_id: int | None
    provider_key: str | None
    dependency_id: int

    @property
    def provider_label(self) -> str:
        return self.provider_key or "the Platform team"


def build(
    db: Database,
    cause: str = "blocked",
    *,
    team_asked: str | None = "Platform",
    provider_okr_channel: str | None = None,
    what: str = "the rate-limit API",
) -> World:
    """The world with its dependency stalled by `cause` as of Mon 02 Mar 2026."""
    with db.session() as s:
        o1 = f.okr(s, "O1", now=START, owner_id="U0CAROL", title="Grow checkout")
        kr1 = f.okr(s, "O1-KR1", now=START, parent=o1, owner_id="U0CAROL", title="Conversion to 4%")
        o2 = f.okr(
            s,
            "O2",
            now=START,
            owner_id="U0CAROL",
            title="Reliable platform",
            governance_channel=provider_okr_channel,
        )
        kr2 = f.okr(s, "O2-KR1", now=START, parent=o2, owner_id=None, title="p99 under 200ms")
        waiter = f.initiative(s, kr1, now=START, owner_id="U0ALICE", title="One-click checkout")
        provider: Initiative | None = None
        needed_by: date | None = date(2026, 3, 20)
        if cause != "team":
            provider = f.initiative(
                s,
                kr2,
                now=START,
                owner_id="U0BOB",
                title="Rate limits",
                team_asked=team_asked,
                health=Health.ON_TRACK,
                health_since=day(2, month=2),
                decided_at=day(2, month=2),
            )
            last = day(27, month=2)
            if cause == "blocked":
                provider.health, provider.health_since = Health.BLOCKED, day(24, month=2)
                f.checkin_update(s, provider, at=last, health=Health.BLOCKED, blockers="vendor contract")
            elif cause == "missed":
                provider.consecutive_misses = 2
                f.checkin_update(s, provider, at=day(20, month=2), moved="quota design")
            elif cause == "silent":
                f.checkin_update(s, provider, at=day(10, month=2), moved="first draft")
            else:
                f.checkin_update(s, provider, at=last, moved="half the endpoints")
        if cause in ("overdue", "team"):
            needed_by = date(2026, 2, 27)
        dependency = f.dependency(
            s,
            waiter,
            provider,
            now=START,
            what=what,
            needed_by=needed_by,
            provider_team="Platform" if provider is None else None,
        )
        return World(
            cause,
            waiter.id,
            waiter.key,
            provider.id if provider else None,
            provider.key if provider else None,
            dependency.id,
        )


def reason(world: World) -> str:
    """The stall reason the world's cause gives (as of Mon 02 Mar)."""
    return {
        "blocked": f"{world.provider_key} has been blocked since Tue 24 Feb 2026",
        "missed": f"{world.provider_key}'s owner missed 2 check-ins in a row",
        "overdue": "It was needed by Fri 27 Feb 2026 and is not met",
        "silent": f"No check-in on {world.provider_key} since Tue 10 Feb 2026",
        "team": "It was needed by Fri 27 Feb 2026 and is not met",
    }[world.cause]


def fix(db: Database, world: World, at: datetime) -> None:
    """Take the cause away, as the check-in feature (or a moved date) would."""
    with db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        assert dependency is not None
        if world.cause in ("overdue", "team"):
            dependency.needed_by = date(2026, 3, 27)
            return
        provider = s.get(Initiative, world.provider_id)
        assert provider is not None
        provider.health, provider.health_since, provider.consecutive_misses = Health.ON_TRACK, at, 0
        f.checkin_update(s, provider, at=at, moved="shipped the quota service")


# -- what Slack saw ----------------------------------------------------------------------------------


def _checkin_key(call: Call) -> bool:
    key = ((call.args.get("metadata") or {}).get("event_payload") or {}).get("key", "")
    return str(key).startswith("checkin:")


def _posts(fake: FakeSlack) -> list[Call]:
    """Successful posts, leaving out the owners' check-in nudges (the check-in tests watch those)."""
    return [c for c in fake.calls_to("chat.postMessage", ok=True) if not _checkin_key(c)]


def _updates(fake: FakeSlack) -> list[Call]:
    checkin_posts = {c.response["ts"] for c in fake.calls_to("chat.postMessage", ok=True) if _checkin_key(c)}
    return [c for c in fake.calls_to("chat.update", ok=True) if c.args.get("ts") not in checkin_posts]


def sent(fake: FakeSlack) -> int:
    """Messages of the ladder the app posted or edited so far (successful calls)."""
    return len(_posts(fake)) + len(_updates(fake))


def posts_since(fake: FakeSlack, mark: int) -> list[tuple[str, str]]:
    """(conversation, fallback text) of the ladder's posts after the first `mark` of them."""
    return [(c.response["channel"], c.args["text"]) for c in _posts(fake)[mark:]]


def ladder_dms(fake: FakeSlack, user_id: str) -> list[Message]:
    """A user's DMs from the ladder (their check-in nudges left out)."""
    return [
        m
        for m in fake.dms(user_id)
        if not str(((m.metadata or {}).get("event_payload") or {}).get("key", "")).startswith("checkin:")
    ]


def posted(fake: FakeSlack) -> int:
    return len(_posts(fake))


def kinds(db: Database, dependency_id: int) -> list[str]:
    """The history of one dependency, event kinds in order (one per side)."""
    with db.session() as s:
        return list(
            s.scalars(
                sa.select(Event.kind).where(Event.subject == f"dependency:{dependency_id}").order_by(Event.id)
            )
        )


def escalations(db: Database, dependency_id: int) -> list[Escalation]:
    with db.session() as s:
        return list(
            s.scalars(
                sa.select(Escalation).where(Escalation.dependency_id == dependency_id).order_by(Escalation.id)
            )
        )


def row(db: Database, model: Any, id_: int) -> Any:
    with db.session() as s:
        return s.get(model, id_)

"""What the delivery tests share: enqueue a message, read rows back, and let time pass on the
database's clock (leases are reckoned by it, not by the deliverer's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot import outbox
from bot.core.clock import FixedClock
from storage.db import Database
from storage.models import Outbox

TEAM = "T0FAKE"


def post(db: Database, clock: FixedClock, key: str, channel: str = "C0TRIAGE", **kw: Any) -> bool:
    kw.setdefault("text", f"text of {key}")
    team = kw.pop("team_id", TEAM)
    with db.session() as session:
        return outbox.enqueue(session, team_id=team, key=key, channel=channel, now=clock.now(), **kw)


def row(db: Database, key: str) -> Outbox:
    with db.session() as session:
        return session.scalars(sa.select(Outbox).where(Outbox.key == key)).one()


def age_leases(db: Database, by: timedelta) -> None:
    """`by` passes on the database's clock, as far as leases go: every lease ends that much sooner."""
    with db.session() as session:
        for held in session.scalars(sa.select(Outbox).where(Outbox.claimed_until.is_not(None))):
            assert held.claimed_until is not None
            held.claimed_until = held.claimed_until - by


def copies(fake: Any, key: str) -> list[str]:
    """The ts of every message in the workspace carrying this outbox key."""
    return [m.ts for m in fake.posts() if ((m.metadata or {}).get("event_payload") or {}).get("key") == key]

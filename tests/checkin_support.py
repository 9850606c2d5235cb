"""Helpers for the check-in tests: seed owned initiatives, name local instants, find the DMs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.checkins.service import schedule as checkins
from bot.core.config import WorkspaceSettings
from storage.db import Database
from storage.models import Checkin, Initiative, InitiativeState, Okr, Person
from tests import factories as f
from tests.conftest import CAST, START
from tests.slackfake import FakeSlack, Message

_okrs = itertools.count(1)


def local(zone: str, year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A wall-clock time in `zone`, as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def seed(
    db: Database,
    settings: WorkspaceSettings,
    *,
    owner: str = "U0ALICE",
    requester: str = "U0DAN",
    title: str | None = None,
    cadence: str | None = None,
    metric: bool = True,
    now: datetime = START,
    state: InitiativeState = InitiativeState.ACTIVE,
    tz: str | bool | None = True,
) -> str:
    """An active initiative owned by `owner` (their cached zone from the cast unless `tz` says
    otherwise), under a fresh KR, scheduled from `now`. Returns its key."""
    with db.session() as s:
        if s.scalar(sa.select(Person).where(Person.team_id == f.TEAM, Person.user_id == owner)) is None:
            zone = CAST[owner][1] if tz is True else (tz or None)
            f.person(s, owner, tz=zone, now=now)  # type: ignore[arg-type]
        n = next(_okrs)
        objective = f.okr(s, f"O{n}", now=now, title=f"Objective {n}")
        extra: dict[str, Any] = (
            {"metric_unit": "%", "metric_start": 10.0, "metric_current": 12.5, "metric_target": 20.0}
            if metric
            else {}
        )
        kr = f.okr(s, f"O{n}-KR1", parent=objective, now=now, title=f"Conversion {n}", **extra)
        initiative = f.initiative(
            s, kr, now=now, owner_id=owner, requester_id=requester, title=title, cadence=cadence, state=state
        )
        if state == InitiativeState.ACTIVE:
            checkins.schedule_next(s, initiative, settings, now)
        return initiative.key


def key_of(message: Message) -> str:
    return ((message.metadata or {}).get("event_payload") or {}).get("key", "")


def nudges(fake: FakeSlack, owner: str) -> list[Message]:
    """The check-in DMs `owner` got (not reminders, not notices)."""
    return [m for m in fake.dms(owner) if key_of(m).startswith(f"checkin:{owner}:")]


def reminders(fake: FakeSlack, owner: str) -> list[Message]:
    return [m for m in fake.dms(owner) if key_of(m).endswith(":reminder")]


def notices(fake: FakeSlack, user: str) -> list[Message]:
    """DMs that are neither check-ins nor reminders."""
    return [m for m in fake.dms(user) if m not in nudges(fake, user) and m not in reminders(fake, user)]


def initiative(db: Database, key: str) -> Initiative:
    with db.session() as s:
        return s.scalars(sa.select(Initiative).where(Initiative.key == key)).one()


def okr_of(db: Database, key: str) -> Okr:
    with db.session() as s:
        found = s.scalars(sa.select(Initiative).where(Initiative.key == key)).one()
        return s.get_one(Okr, found.okr_id)


def checkin_rows(db: Database, key: str) -> list[Checkin]:
    with db.session() as s:
        return list(
            s.scalars(
                sa.select(Checkin)
                .join(Initiative, Initiative.id == Checkin.initiative_id)
                .where(Initiative.key == key)
                .order_by(Checkin.slot_at)
            )
        )


def post_count(fake: FakeSlack, channel: str) -> int:
    """chat.postMessage calls that reached `channel` (a user id: their DM)."""
    return sum(1 for c in fake.calls_to("chat.postMessage", ok=True) if c.args.get("channel") == channel)

"""The event hash chain as stored: the hash of one event, the head row each workspace's writers lock
in turn, and the events in chain order. When events take their places is bot/core/chain.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import Event, EventChain
from storage.types import without_nul

GENESIS = "0" * 64  # the `prev_hash` of a workspace's first event


# The hash is a stored format, like a column type: the migration that chained the events written
# before the chain existed uses it too, so it lives here and never changes meaning.
def instant(at: datetime) -> str:
    """`at` as the chain writes it: UTC, to the microsecond."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """`value` as the database gives it back (JSON round trip; a whole float is the integer that
    PostgreSQL's JSONB returns for it)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of one event: its workspace, place, subject, kind, actor, initiative, data and
    time, and the hash of the event before it."""
    data = _plain(json.loads(json.dumps(without_nul(fields["data"] or {}))))
    document = {
        "team_id": without_nul(fields["team_id"]),
        "seq": int(fields["seq"]),
        "subject": without_nul(fields["subject"]),
        "kind": without_nul(fields["kind"]),
        "actor_id": without_nul(fields["actor_id"]),
        "initiative_id": fields["initiative_id"],
        "data": data,
        "at": instant(fields["at"]),
        "prev_hash": prev_hash,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_head(session: Session, team_id: str) -> tuple[int, str]:
    """The workspace's last place and its hash, locked (FOR UPDATE on PostgreSQL; SQLite has one
    writer at a time already) until the transaction ends. The first writer creates the row; a
    second one racing it waits for that insert, then locks the row it made."""
    statement = (
        sa.select(EventChain.seq, EventChain.head_hash).where(EventChain.team_id == team_id).with_for_update()
    )
    row = session.execute(statement).first()
    if row is None:
        insert_ignore(session, EventChain, {"team_id": team_id, "seq": 0, "head_hash": GENESIS}, ["team_id"])
        row = session.execute(statement).one()
    return int(row.seq), str(row.head_hash)


def move_head(session: Session, team_id: str, seq: int, head_hash: str) -> None:
    session.execute(
        sa.update(EventChain).where(EventChain.team_id == team_id).values(seq=seq, head_hash=head_hash)
    )


def unchained(session: Session, team_id: str) -> list[Event]:
    """The workspace's stored events without a place yet, oldest first: written by the release
    before the chain while the replicas were rolled."""
    return list(
        session.scalars(
            sa.select(Event).where(Event.team_id == team_id, Event.seq.is_(None)).order_by(Event.id)
        )
    )


def heads(session: Session, team_id: str | None = None) -> dict[str, tuple[int, str]]:
    """Each workspace's head: team id -> (last place, its hash)."""
    statement = sa.select(EventChain.team_id, EventChain.seq, EventChain.head_hash)
    if team_id is not None:
        statement = statement.where(EventChain.team_id == team_id)
    return {row.team_id: (int(row.seq), str(row.head_hash)) for row in session.execute(statement)}


def event_teams(session: Session) -> list[str]:
    """The workspaces that have events, chained or not."""
    return list(session.scalars(sa.select(Event.team_id).distinct().order_by(Event.team_id)))


CHAIN_COLUMNS = (
    Event.id,
    Event.team_id,
    Event.seq,
    Event.subject,
    Event.kind,
    Event.actor_id,
    Event.initiative_id,
    Event.data,
    Event.at,
    Event.prev_hash,
    Event.hash,
)


def chained(session: Session, team_id: str, batch: int = 2000) -> Iterator[Any]:
    """The workspace's chained events in chain order, streamed `batch` rows at a time."""
    statement = (
        sa.select(*CHAIN_COLUMNS)
        .where(Event.team_id == team_id, Event.seq.is_not(None))
        .order_by(Event.seq)
        .execution_options(yield_per=batch)
    )
    yield from session.execute(statement)


def outside(session: Session, team_id: str) -> Iterator[Any]:
    """The workspace's events without a place in the chain, in id order."""
    statement = (
        sa.select(*CHAIN_COLUMNS)
        .where(Event.team_id == team_id, Event.seq.is_(None))
        .order_by(Event.id)
        .execution_options(yield_per=500)
    )
    yield from session.execute(statement)

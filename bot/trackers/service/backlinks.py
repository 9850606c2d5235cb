"""Back-links: comments on an initiative's linked items, queued and sent like outbox rows.

Enqueued in the transaction of the change they tell of (accepted, a new health), once per item and
change (`key`); sent by the tick, each claimed for a lease; a row once attempted is looked for on the
item before it is posted again (`comments.find`), so neither a crash nor an unclear answer makes a
second comment, and a lookup that fails leaves it for later rather than posting blind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.trackers.models import Kind, Ref
from bot.trackers.service.comments import Outcome
from bot.trackers.service.links import ref_of
from storage.db import insert_ignore
from storage.integrations import TrackerComment, TrackerLink
from storage.models import Initiative, Workspace

LEASE = timedelta(minutes=2)  # renewed before each request: one row's lookup and post fit it
BATCH = 5
MAX_ATTEMPTS = 8
PENDING, SENDING, SENT, PARKED = "pending", "sending", "sent", "parked"


@dataclass(frozen=True)
class Claimed:
    id: int
    team_id: str
    key: str
    ref: Ref
    body: str
    attempted: bool  # tried before (it may be on the item already): look before posting
    until: datetime  # the claim's end: the row is ours while it still says this


def enqueue(session: Session, initiative: Initiative, change: str, text: str, now: datetime) -> int:
    """Queue `text` as a comment on each item linked to `initiative` that takes comments (not a
    milestone, still in its tracker); `change` names what happened (`accepted`, `health:41`).
    Returns how many were queued (0 for a change already queued)."""
    links = session.scalars(
        sa.select(TrackerLink)
        .where(
            TrackerLink.team_id == initiative.team_id,
            TrackerLink.initiative_id == initiative.id,
            TrackerLink.missing.is_(False),
            TrackerLink.kind != Kind.MILESTONE.value,
        )
        .order_by(TrackerLink.id)
    ).all()
    queued = 0
    for link in links:
        queued += insert_ignore(
            session,
            TrackerComment,
            {
                "team_id": initiative.team_id,
                "key": f"backlink:{initiative.id}:{change}:{link.id}"[:200],
                "initiative_id": initiative.id,
                "tracker": link.tracker,
                "kind": link.kind,
                "site": link.site,
                "ref": link.ref,
                "body": text,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
            ["team_id", "key"],
        )
    return queued


def claim(session: Session, now: datetime, limit: int = BATCH) -> list[Claimed]:
    """Due rows, and rows whose sender's lease ran out (it may have posted: they are looked for),
    claimed for LEASE; another replica skips them. Rows of a workspace that uninstalled wait."""
    due = sa.or_(
        sa.and_(TrackerComment.state == PENDING, TrackerComment.next_attempt_at <= now),
        sa.and_(TrackerComment.state == SENDING, TrackerComment.claimed_until < now),
    )
    gone = sa.exists().where(
        Workspace.team_id == TrackerComment.team_id, Workspace.uninstalled_at.is_not(None)
    )
    rows = session.scalars(
        sa.select(TrackerComment)
        .where(due, ~gone)
        .order_by(TrackerComment.next_attempt_at, TrackerComment.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        until = now + LEASE
        claimed.append(
            Claimed(
                row.id,
                row.team_id,
                row.key,
                ref_of(row),
                row.body,
                attempted=row.attempts > 0,
                until=until,
            )
        )
        row.state, row.claimed_until, row.attempts = SENDING, until, row.attempts + 1
    return claimed


def hold(session: Session, claimed: Claimed, now: datetime) -> Claimed | None:
    """Renew the claim before a request to the tracker; None when it is no longer ours (its lease
    ran out and another replica took it): then this sender must not post."""
    until = now + LEASE
    result = session.execute(
        sa.update(TrackerComment)
        .where(
            TrackerComment.id == claimed.id,
            TrackerComment.state == SENDING,
            TrackerComment.claimed_until == claimed.until,
        )
        .values(claimed_until=until)
    )
    return replace(claimed, until=until) if int(result.rowcount or 0) == 1 else None  # type: ignore[attr-defined]


def finish(session: Session, claimed: Claimed, outcome: Outcome, now: datetime) -> str:
    """Record what came of sending (or looking for) `claimed`; returns the row's new state."""
    row = session.get(TrackerComment, claimed.id, with_for_update=True)
    if row is None or row.state != SENDING or row.claimed_until != claimed.until:
        return row.state if row is not None else SENT  # not ours any more: its holder records it
    row.claimed_until = None
    if outcome.kind == "sent":
        row.state, row.remote_id, row.sent_at, row.last_error = SENT, outcome.remote_id, now, None
    elif outcome.kind == "refused" or (outcome.kind == "unclear" and row.attempts >= MAX_ATTEMPTS):
        row.state, row.last_error = PARKED, (outcome.error or "gave up")[:300]
    else:
        if outcome.kind == "retry":  # a rate limit: nothing was stored, this claim counts for nothing
            row.attempts -= 1
        wait = outcome.wait if outcome.kind == "retry" else 30 * 2 ** min(row.attempts, 8)
        row.state, row.next_attempt_at, row.last_error = (
            PENDING,
            now + timedelta(seconds=wait),
            outcome.error[:300],
        )
    return row.state


def prune_sent(session: Session, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` comments sent before `before` (the outbox's retention period): their
    change is in the initiative's history, and their key is never queued again."""
    old = (
        sa.select(TrackerComment.id)
        .where(TrackerComment.state == SENT, TrackerComment.sent_at < before)
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(sa.delete(TrackerComment).where(TrackerComment.id.in_(old)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

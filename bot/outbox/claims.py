"""Claiming due outbox rows: fair, skipping what cannot be sent yet, leased by the database's clock.

Fair: one claim takes at most `per_target` rows of one conversation (per workspace), and takes
them round-robin across workspaces and conversations, oldest due first, so a workspace with
thousands of due rows does not hold up another's one message. Rows that cannot be sent yet are not
claimed at all: a thread reply or an edit whose message has no ts yet, an edit behind an earlier
edit of the same message.

Leases are reckoned by the database's clock (`database_now`), never by a replica's: a replica
whose clock runs ahead does not see a live lease as run out. `hold` re-checks, in the statement
that extends it, that a claim is still ours and its lease live, just before the send; after any
wait (the pace, a Retry-After), a claim that ran out is given up instead of sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bot.outbox.enqueue import UPDATE
from storage.db import database_now, skip_locked
from storage.models import Outbox, OutboxState

PER_TARGET = 5  # rows of one (workspace, conversation) in one claim
# unconfirmed rows of one conversation in one claim: one read of it clears them all, so more of
# them per claim spends less of the lookup budget (1 request a minute for some apps)
RECOVERY_PER_TARGET = 20
CANDIDATES = 3  # rows ranked per row claimed
_OTHER = aliased(Outbox, name="other")  # another row of the outbox, in the claim's query


@dataclass(frozen=True)
class Claim:
    id: int
    team_id: str
    key: str
    method: str
    channel: str | None
    ref_key: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    recovering: bool  # Slack may have it already: look before sending
    token: str


def _claimable(now: datetime, dialect: str) -> sa.ColumnElement[bool]:
    due = sa.or_(
        sa.and_(Outbox.state == OutboxState.PENDING, Outbox.next_attempt_at <= now),
        sa.and_(Outbox.state == OutboxState.SENDING, Outbox.claimed_until < database_now(dialect)),
    )
    other = _OTHER
    # a reply or an edit waits, unclaimed, until the message it refers to is sent (or parked)
    parent_unsent = (
        sa.select(other.id)
        .where(
            other.team_id == Outbox.team_id,
            other.key == Outbox.ref_key,
            other.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
        )
        .exists()
    )
    # edits of one message go one at a time, in order: two deliverers sending two edits at once
    # could leave the older one showing
    edit_before = (
        sa.select(other.id)
        .where(
            other.team_id == Outbox.team_id,
            other.ref_key == Outbox.ref_key,
            other.method == UPDATE,
            other.id < Outbox.id,
            other.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
        )
        .exists()
    )
    ready = sa.or_(Outbox.ref_key.is_(None), ~parent_unsent)
    in_turn = sa.or_(Outbox.method != UPDATE, ~edit_before)
    return sa.and_(due, ready, in_turn)


def _fair_pick(condition: sa.ColumnElement[bool], batch: int, per_target: int) -> sa.Select[Any]:
    """Ids of up to `batch` claimable rows: per_target per conversation (RECOVERY_PER_TARGET
    unconfirmed ones), round-robin by workspace, then by conversation, oldest due first."""
    target = sa.func.coalesce(Outbox.channel, Outbox.ref_key, "")
    candidates = (
        sa.select(
            Outbox.id,
            Outbox.team_id,
            Outbox.next_attempt_at,
            Outbox.unconfirmed,
            sa.func.row_number()
            .over(
                partition_by=(Outbox.team_id, target, Outbox.unconfirmed),
                order_by=(Outbox.next_attempt_at, Outbox.id),
            )
            .label("in_target"),
        )
        .where(condition)
        .subquery()
    )
    c = candidates.c
    ranked = (
        sa.select(
            c.id,
            c.next_attempt_at,
            sa.func.row_number()
            .over(partition_by=c.team_id, order_by=(c.in_target, c.next_attempt_at, c.id))
            .label("in_team"),
        )
        .where(c.in_target <= sa.case((c.unconfirmed, RECOVERY_PER_TARGET), else_=per_target))
        .subquery()
    )
    r = ranked.c
    # more candidates than the batch: replicas claiming at once rank the same rows first, and
    # each takes the next ones the others have not locked (SKIP LOCKED) instead of none
    picked = sa.select(r.id, r.in_team, r.next_attempt_at).order_by(r.in_team, r.next_attempt_at, r.id)
    return picked.limit(batch * CANDIDATES)


def claim_due(
    session: Session,
    now: datetime,
    *,
    lease: timedelta,
    batch: int,
    per_target: int = PER_TARGET,
    teams: frozenset[str] | None = None,
) -> list[Claim]:
    """Claim up to `batch` due rows for `lease` (on the database's clock), fairly; in send order.
    With `teams`, only rows of those workspaces (the ones this process has a token for)."""
    dialect = session.get_bind().dialect.name
    condition = _claimable(now, dialect)
    if teams is not None:
        condition = sa.and_(Outbox.team_id.in_(sorted(teams)), condition)
    picked = _fair_pick(condition, batch, per_target).subquery()
    # lock, in the fair order, the first `batch` candidates still claimable and not locked by
    # another replica's claim (PostgreSQL skips those; SQLite's one writer lock serialises claims)
    statement = (
        sa.select(Outbox)
        .join(picked, picked.c.id == Outbox.id)
        .where(condition)
        .order_by(picked.c.in_team, picked.c.next_attempt_at, picked.c.id)
        .limit(batch)
    )
    rows = list(session.scalars(skip_locked(statement, session, of=Outbox)).all())
    if not rows:
        return []
    token = secrets.token_hex(8)
    claims = [
        Claim(
            id=row.id,
            team_id=row.team_id,
            key=row.key,
            method=row.method,
            channel=row.channel,
            ref_key=row.ref_key,
            payload=dict(row.payload),
            attempts=row.attempts + 1,
            created_at=row.created_at,
            recovering=row.state == OutboxState.SENDING or row.unconfirmed,
            token=token,
        )
        for row in rows
    ]
    session.execute(
        sa.update(Outbox)
        .where(Outbox.id.in_([row.id for row in rows]))
        .values(
            # a lease that ran out mid-send: Slack may have it
            unconfirmed=sa.case((Outbox.state == OutboxState.SENDING, sa.true()), else_=Outbox.unconfirmed),
            state=OutboxState.SENDING,
            claimed_until=database_now(dialect, lease),
            claim_token=token,
            attempts=Outbox.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return claims


def hold(session: Session, claim: Claim, lease: timedelta) -> bool:
    """Extend `claim`'s lease to a whole `lease` from now, if it is still ours and live, in one
    statement; False if it ran out or another deliverer took the row over: then do not send."""
    dialect = session.get_bind().dialect.name
    still_ours = session.execute(
        sa.update(Outbox)
        .where(
            Outbox.id == claim.id,
            Outbox.state == OutboxState.SENDING,
            Outbox.claim_token == claim.token,
            Outbox.claimed_until > database_now(dialect),
        )
        .values(claimed_until=database_now(dialect, lease))
        .returning(Outbox.id)
    ).first()
    return still_ours is not None

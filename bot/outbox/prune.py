"""Pruning the outbox: sent rows older than the retention period go, in batches, from the tick.

A sent top-level post is not deleted but pruned: its text goes, its key and Slack reference
(result_channel, result_ts) stay, because a later edit (the triage message on a decision, a
check-in DM when it is answered, a governance post when it is resolved) or thread reply finds the
message by them, and the domain asks whether it was posted. Everything else sent (edits, thread
replies, file uploads with their content, notices to admins) is deleted. Parked, pending and
sending rows are never pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.outbox.enqueue import NOTICE_PREFIX, POST
from storage.db import Database
from storage.models import Outbox, OutboxState

BATCH = 1000  # rows per transaction: short ones, so nothing waits long on a live database
MAX_BATCHES = 50  # per tick; the next tick goes on where this one stopped


@dataclass
class Pruned:
    deleted: int = 0
    kept_reference: int = 0  # top-level posts whose text went and whose Slack reference stayed


def prune_sent(
    db: Database, now: datetime, retention: timedelta, *, batch: int = BATCH, max_batches: int = MAX_BATCHES
) -> Pruned:
    """Prune rows sent before `now - retention`; each batch in its own transaction."""
    cutoff = now - retention
    # sent after it was due: next_attempt_at <= sent_at, so the (state, next_attempt_at) index
    # finds the old rows without reading the recent ones
    old = sa.and_(Outbox.state == OutboxState.SENT, Outbox.next_attempt_at < cutoff, Outbox.sent_at < cutoff)
    referable = sa.and_(
        Outbox.method == POST, Outbox.ref_key.is_(None), ~Outbox.key.startswith(NOTICE_PREFIX)
    )
    pruned = Pruned()
    for _ in range(max_batches):
        with db.session() as session:
            ids = list(
                session.scalars(sa.select(Outbox.id).where(old).order_by(Outbox.next_attempt_at).limit(batch))
            )
            if not ids:
                break
            deleted = session.execute(sa.delete(Outbox).where(Outbox.id.in_(ids), ~referable))
            kept = session.execute(
                sa.update(Outbox)
                .where(Outbox.id.in_(ids), referable)
                .values(state=OutboxState.PRUNED, payload={})
            )
            pruned.deleted += int(deleted.rowcount or 0)  # type: ignore[attr-defined]
            pruned.kept_reference += int(kept.rowcount or 0)  # type: ignore[attr-defined]
        if len(ids) < batch:
            break
    return pruned

"""What an admin sees and does with the outbox (`throughline outbox`): the rows not sent yet, and
re-queueing parked ones once their cause is fixed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import Outbox, OutboxState

UNSENT = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.PARKED)


def waiting(session: Session, *, include_sent: bool = False, limit: int = 200) -> list[Outbox]:
    """Rows not yet sent: parked ones first (they need a person), then pending and sending, oldest
    first; with `include_sent` the latest sent too."""
    parked_first = sa.case((Outbox.state == OutboxState.PARKED, 0), else_=1)
    rows = list(
        session.scalars(
            sa.select(Outbox).where(Outbox.state.in_(UNSENT)).order_by(parked_first, Outbox.id).limit(limit)
        )
    )
    if include_sent:
        rows += list(
            session.scalars(
                sa.select(Outbox).where(Outbox.state == OutboxState.SENT).order_by(Outbox.id.desc()).limit(50)
            )
        )
    return rows


def requeue(session: Session, ids: list[int], now: datetime, *, all_parked: bool = False) -> int:
    """Make parked or pending rows due now; returns how many were re-queued. Sent rows are left alone."""
    condition = Outbox.state.in_([OutboxState.PARKED, OutboxState.PENDING])
    if all_parked:
        target = Outbox.state == OutboxState.PARKED
        if ids:
            target = sa.or_(target, sa.and_(Outbox.id.in_(ids), condition))
    else:
        target = sa.and_(Outbox.id.in_(ids), condition)
    result = session.execute(
        sa.update(Outbox)
        .where(target)
        .values(state=OutboxState.PENDING, next_attempt_at=now, claimed_until=None, attempts=0)
    )
    session.info["outbox_dirty"] = True
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[str, int]:
    """How many rows are pending, sending and parked (zero counts left out)."""
    found = session.execute(
        sa.select(Outbox.state, sa.func.count()).where(Outbox.state.in_(UNSENT)).group_by(Outbox.state)
    ).all()
    return {str(state.value): int(n) for state, n in found}

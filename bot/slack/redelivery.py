"""Slack deliveries we have already processed, stored so a retry is recognised by any replica."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import SeenRequest

KEEP_FOR = timedelta(days=2)


def first_time(session: Session, team_id: str, key: str, now: datetime) -> bool:
    """Record `key`; True if this is the first time it was seen."""
    return insert_ignore(
        session, SeenRequest, {"key": key[:200], "team_id": team_id, "seen_at": now}, ["key"]
    )


def forget(session: Session, key: str) -> None:
    """Forget `key`: its processing failed, and Slack's retry of it must be processed, not dropped."""
    session.execute(sa.delete(SeenRequest).where(SeenRequest.key == key[:200]))


def forget_old(session: Session, now: datetime, *, limit: int = 1000) -> int:
    """Drop up to `limit` records older than Slack's retry horizon (the tick calls it in batches,
    each in its own short transaction, until it returns less than `limit`)."""
    old = sa.select(SeenRequest.key).where(SeenRequest.seen_at < now - KEEP_FOR).limit(limit)
    result = session.execute(sa.delete(SeenRequest).where(SeenRequest.key.in_(old.scalar_subquery())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

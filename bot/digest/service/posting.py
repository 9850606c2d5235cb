"""What posting a digest stores: the digest row (once per workspace and period) with its summary,
and each initiative's health as that digest saw it, for the next one to compare with."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.digest.models import DigestData, ReportingPeriod
from storage.db import insert_ignore
from storage.models import Digest, Initiative, InitiativeState, Workspace


def already_posted(session: Session, team_id: str, period: ReportingPeriod) -> bool:
    return (
        session.scalar(
            sa.select(Digest.id).where(Digest.team_id == team_id, Digest.period_start == period.start_date)
        )
        is not None
    )


def record(session: Session, team_id: str, period: ReportingPeriod, data: DigestData, now: datetime) -> bool:
    """Store the digest of `period` as posted at `now`: its row (unique per workspace and period
    start) with the summary the next digest compares with, and each initiative's health as it saw
    it. False, and nothing written, when another replica or tick stored it first."""
    inserted = insert_ignore(
        session,
        Digest,
        {
            "team_id": team_id,
            "period_start": period.start_date,
            "period_end": period.end_date,
            "created_at": now,
            "summary": data.summary(),
        },
        ["team_id", "period_start"],
    )
    if not inserted:
        return False
    _snapshot_health(session, team_id, now)
    return True


def _snapshot_health(session: Session, team_id: str, now: datetime) -> None:
    """Store on each initiative its health as the digest posted at `now` saw it (None unless
    active), for the next digest to compare with. Only rows that differ are written; one whose
    health changed after `now` keeps its old snapshot, so the next digest still reports it."""
    i = Initiative
    seen = sa.case((i.state == InitiativeState.ACTIVE, i.health), else_=sa.null())
    session.execute(
        sa.update(i)
        .where(
            i.team_id == team_id,
            sa.or_(i.health_since.is_(None), i.health_since <= now),
            i.digest_health.is_distinct_from(seen),
        )
        .values(digest_health=seen)
        .execution_options(synchronize_session=False)
    )


def workspaces(session: Session) -> list[str]:
    """Team ids of every workspace Throughline has met and is still installed in."""
    return list(
        session.scalars(
            sa.select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None)).order_by(Workspace.id)
        )
    )

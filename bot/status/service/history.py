"""An initiative's full story: its events (decisions, check-ins, dependency changes, escalation
steps), newest first, a page at a time."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import people
from bot.core.config import WorkspaceSettings
from bot.status.models import History, HistoryEntry, Page
from storage.models import Event, Initiative

PAGE = 40  # events per page: one block each, within a modal's 100 blocks with room to spare


def history(
    session: Session,
    team_id: str,
    key: str,
    settings: WorkspaceSettings,
    *,
    viewer_id: str,
    offset: int = 0,
    size: int = PAGE,
) -> History | None:
    """The page of `key`'s events starting `offset` events from the newest, with times in the
    viewer's zone. None if the workspace has no such initiative."""
    found = session.execute(
        sa.select(Initiative.id, Initiative.key, Initiative.title).where(
            Initiative.team_id == team_id, Initiative.key == key
        )
    ).first()
    if found is None:
        return None
    mine = sa.and_(Event.team_id == team_id, Event.initiative_id == found.id)
    total = session.scalar(sa.select(sa.func.count()).select_from(Event).where(mine)) or 0
    offset = max(0, min(offset, max(0, total - 1) // size * size))
    rows = session.execute(
        sa.select(Event.kind, Event.at, Event.actor_id, Event.data)
        .where(mine)
        .order_by(Event.at.desc(), Event.id.desc())
        .offset(offset)
        .limit(size)
    )
    entries = [HistoryEntry(r.kind, r.at, r.actor_id, dict(r.data or {})) for r in rows]
    zone = people.zones(session, team_id, [viewer_id], settings)[viewer_id]
    return History(found.key, found.title, zone, Page(entries, total, offset), size)

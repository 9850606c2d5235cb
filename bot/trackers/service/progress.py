"""How much of an objective's linked work is done: what the digest counts beside its milestones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.trackers.models import Kind
from storage.integrations import TrackerLink
from storage.models import Initiative, InitiativeState


@dataclass(frozen=True)
class LinkedItem:
    """One linked item of an initiative under `okr_id`: `key` names the item (the same issue linked
    by two initiatives is one item), `done` of `total` the work it stands for."""

    okr_id: int
    key: tuple[str, str, str, str]
    done: int
    total: int


def linked_items(session: Session, team_id: str, since: datetime) -> Iterator[LinkedItem]:
    """The linked items of the initiatives a digest from `since` reports on: active ones and those
    done since then. An issue or pull request is one item, done or not; an epic or a milestone
    stands for its items (done of total) once they are counted. Items the tracker no longer has
    are left out. One statement."""
    rows = session.execute(
        sa.select(
            Initiative.okr_id,
            TrackerLink.tracker,
            TrackerLink.site,
            TrackerLink.kind,
            TrackerLink.ref,
            TrackerLink.done,
            TrackerLink.done_count,
            TrackerLink.total_count,
        )
        .join(Initiative, Initiative.id == TrackerLink.initiative_id)
        .where(
            TrackerLink.team_id == team_id,
            TrackerLink.missing.is_(False),
            Initiative.okr_id.is_not(None),
            sa.or_(
                Initiative.state == InitiativeState.ACTIVE,
                sa.and_(Initiative.state == InitiativeState.DONE, Initiative.done_at >= since),
            ),
        )
    )
    for row in rows:
        grouped = row.kind in (Kind.EPIC, Kind.MILESTONE) and row.total_count
        done, total = (row.done_count or 0, row.total_count) if grouped else (int(row.done), 1)
        yield LinkedItem(row.okr_id, (row.tracker, row.site, row.kind, row.ref), done, total)

"""The linked work of provider initiatives, as the escalation ladder's stall rules read it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.trackers.models import LinkedFact
from bot.trackers.service.links import ref_of
from storage.integrations import TrackerLink


def linked_facts(
    session: Session, team_id: str, initiative_ids: Iterable[int]
) -> dict[int, list[LinkedFact]]:
    """The open (not done, still in the tracker) items linked to each of `initiative_ids`. One
    statement, served by the unique constraint's index (team, initiative, ...)."""
    ids = sorted(set(initiative_ids))
    found: dict[int, list[LinkedFact]] = defaultdict(list)
    if not ids:
        return found
    rows = session.scalars(
        sa.select(TrackerLink)
        .where(
            TrackerLink.team_id == team_id,
            TrackerLink.initiative_id.in_(ids),
            TrackerLink.done.is_(False),
            TrackerLink.missing.is_(False),
        )
        .order_by(TrackerLink.initiative_id, TrackerLink.id)
    )
    for row in rows:
        ref = ref_of(row)
        found[row.initiative_id].append(
            LinkedFact(
                label=ref.label,
                tracker=ref.tracker,
                kind=ref.kind,
                status=row.status,
                done=row.done,
                status_since=row.status_since or row.created_at,
                moved_at=row.moved_at or row.created_at,
            )
        )
    return found

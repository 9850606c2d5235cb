"""Check-ins: owners asked on their initiative's cadence, in their own time zone."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot import people
from bot.calendar import Cadence, next_slot
from bot.config import WorkspaceSettings
from storage.models import Initiative, Person


def schedule_next(
    session: Session, initiative: Initiative, settings: WorkspaceSettings, after: datetime
) -> datetime:
    """Set `initiative.next_checkin_at` to its owner's first slot strictly after `after`.

    The cadence is the initiative's own or the workspace default; the slot is in the owner's zone
    (the workspace's when Slack gave none), off weekends and the workspace's holidays.
    """
    if initiative.owner_id is None:
        raise ValueError(f"{initiative.key} has no owner to check in with")
    owner = session.scalar(
        sa.select(Person).where(Person.team_id == initiative.team_id, Person.user_id == initiative.owner_id)
    )
    cadence = Cadence.parse(initiative.cadence or settings.default_cadence)
    slot = next_slot(cadence, after, people.zone_of(owner, settings), settings.calendar())
    initiative.next_checkin_at = slot
    return slot

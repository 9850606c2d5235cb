"""Snoozing a slot, with the DM that asked it edited to say so (out of office needs no message:
`service.absence.set_out_of_office`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.checkins.flows.messages import refresh_messages
from bot.checkins.models import Snoozed
from bot.checkins.service.absence import record_snooze
from bot.core.config import WorkspaceSettings


def snooze(
    session: Session,
    *,
    team_id: str,
    initiative_key: str,
    actor_id: str,
    reason: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> Snoozed:
    """Skip one slot of an initiative, with a reason: the pending check-in if there is one (its DM
    then says so), else the next slot (which is then not asked). Neither counts as missed.

    Raises NotFound, NotAllowed (only the owner), Invalid (no reason, not active), Conflict."""
    snoozed = record_snooze(
        session,
        team_id=team_id,
        initiative_key=initiative_key,
        actor_id=actor_id,
        reason=reason,
        settings=settings,
        now=now,
    )
    if not snoozed.upcoming:
        refresh_messages(
            session,
            team_id=team_id,
            owner_id=snoozed.owner_id,
            slot_at=snoozed.slot_at,
            settings=settings,
            now=now,
            cause=f"snoozed:{snoozed.checkin_id}",
        )
    return snoozed

"""The append-only history: every change is an event, never edited, each chained to the one before
it in its workspace when the transaction commits (bot/core/chain.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core import chain
from storage.models import Event, Initiative


def record(
    session: Session,
    *,
    team_id: str,
    subject: str,
    kind: str,
    at: datetime,
    actor_id: str | None = None,
    initiative_id: int | None = None,
    **data: Any,
) -> Event:
    """Append one event. `subject` names the thing ("initiative:12"), `kind` what happened."""
    event = Event(
        team_id=team_id,
        subject=subject,
        kind=kind,
        actor_id=actor_id,
        initiative_id=initiative_id,
        data=_jsonable(data),
        at=at,
    )
    session.add(event)
    chain.follow(session, event)
    return event


def record_initiative(
    session: Session,
    initiative: Initiative,
    kind: str,
    *,
    at: datetime,
    actor_id: str | None = None,
    **data: Any,
) -> Event:
    """Append one event about `initiative` (its subject, its workspace)."""
    return record(
        session,
        team_id=initiative.team_id,
        subject=f"initiative:{initiative.id}",
        kind=kind,
        at=at,
        actor_id=actor_id,
        initiative_id=initiative.id,
        **data,
    )


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            result[key] = value.isoformat()
        elif hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
            result[key] = value.value
        else:
            result[key] = value
    return result

"""`/checkin`: a parsed form (`service.command.parse`) carried out for the one who typed it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.checkins.flows.absence import snooze
from bot.checkins.flows.lifecycle import cancel, change_cadence, reassign
from bot.checkins.models import CheckinCommand, CommandKind, Help, Outcome, Result
from bot.checkins.service.absence import set_out_of_office
from bot.checkins.service.schedule import zone_of_user
from bot.checkins.service.slots import pending_for
from bot.core.config import WorkspaceSettings
from bot.initiatives.service import find_initiative


def execute(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    command: CheckinCommand,
    settings: WorkspaceSettings,
    now: datetime,
) -> Outcome:
    """Carry out a parsed `/checkin` for `user_id`. Raises the domain errors of what it calls."""
    tz = zone_of_user(session, team_id, user_id, settings)
    result: Result
    if command.kind is CommandKind.HELP:
        result = Help()
    elif command.kind is CommandKind.LIST:
        result = pending_for(session, team_id, user_id, settings, now)
    elif command.kind is CommandKind.SNOOZE:
        assert command.key is not None
        result = snooze(
            session,
            team_id=team_id,
            initiative_key=command.key,
            actor_id=user_id,
            reason=command.text,
            settings=settings,
            now=now,
        )
    elif command.kind in (CommandKind.OOO, CommandKind.BACK):
        result = set_out_of_office(
            session,
            team_id=team_id,
            user_id=user_id,
            until=command.until if command.kind is CommandKind.OOO else None,
            note=command.text,
            settings=settings,
            now=now,
        )
    else:
        assert command.key is not None
        initiative = find_initiative(session, team_id, command.key, lock=True)
        if command.kind is CommandKind.CADENCE:
            result = change_cadence(session, initiative, command.text, user_id, settings, now)
        elif command.kind is CommandKind.CANCEL:
            result = cancel(session, initiative, command.text, user_id, settings, now)
        else:
            assert command.user_id is not None
            result = reassign(session, initiative, command.user_id, user_id, settings, now)
    return Outcome(result, tz)

"""The check-in DMs, kept true: a slot's prompt (and its reminder, if one went out) is edited in
place through `enqueue_update(of=...)` whenever one of its check-ins changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.checkins.service.slots import close_pending, posted_dms, slot_message, unanswered
from bot.checkins.views import prompt
from bot.core.config import WorkspaceSettings
from storage.models import CheckinStatus, Initiative


def refresh_messages(
    session: Session,
    *,
    team_id: str,
    owner_id: str,
    slot_at: datetime,
    settings: WorkspaceSettings,
    now: datetime,
    cause: str,
) -> int:
    """Edit in place the DMs about one owner's slot (the prompt, and its reminder if one was sent)
    to show what is recorded now. `cause` makes the edit's outbox key unique. Returns edits queued."""
    message = slot_message(session, team_id, owner_id, slot_at, settings)
    if not message.items:
        return 0
    posted = posted_dms(session, message)
    for key, reminder in posted:
        text, blocks = prompt.slot_message(message, reminder=reminder)
        outbox.enqueue_update(
            session, team_id=team_id, key=f"{key}:{cause}", of=key, text=text, blocks=blocks, now=now
        )
    return len(posted)


def excuse_pending(
    session: Session,
    initiative: Initiative,
    settings: WorkspaceSettings,
    now: datetime,
    *,
    note: str,
    cause: str,
    except_owner: str | None = None,
) -> None:
    """Excuse the initiative's unanswered check-ins (all, or those asked of anyone but
    `except_owner`), and edit the DMs that asked for them to say so."""
    for checkin_id, owner_id, slot_at in unanswered(session, initiative, except_owner):
        if close_pending(session, checkin_id, CheckinStatus.EXCUSED, now, note):
            refresh_messages(
                session,
                team_id=initiative.team_id,
                owner_id=owner_id,
                slot_at=slot_at,
                settings=settings,
                now=now,
                cause=f"{cause}:{checkin_id}",
            )

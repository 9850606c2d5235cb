"""Telling a workspace's admins that messages were parked: once per cause (an error, and for one
about a destination, where), through the outbox, not once per message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import mrkdwn
from bot.core.config import WorkspaceSettings
from bot.core.workspaces import settings_for
from bot.outbox.enqueue import NOTICE_PREFIX, enqueue
from bot.outbox.outcomes import PERMANENT_ERRORS, cause


def tell_admins(
    session: Session,
    defaults: WorkspaceSettings,
    *,
    team_id: str,
    error: str,
    where: str,
    attempts: int,
    now: datetime,
) -> int:
    """Enqueue one DM per admin about `error` (unless this cause was told before); how many."""
    shown = mrkdwn.channel(where) if where[:1] in ("C", "G") else mrkdwn.user(where)
    if error in PERMANENT_ERRORS:
        what = f"I couldn't deliver a message to {shown}: `{mrkdwn.escape(error)}`."
    else:
        what = (
            f"I stopped trying to deliver a message to {shown} after {attempts} attempts: Slack "
            f"answered `{mrkdwn.escape(error)}`. Other messages stopped by the same answer are "
            "parked too, without another notice."
        )
    text = (
        f":warning: {what} Fix the cause (invite me to the channel, grant the scope, or change the "
        "channel in the App Home settings); `throughline outbox` lists what is parked and why, and "
        "`throughline outbox retry --all-parked` re-sends it."
    )
    told = 0
    for admin in settings_for(session, team_id, defaults).admins:
        told += enqueue(
            session,
            team_id=team_id,
            key=f"{NOTICE_PREFIX}parked:{cause(error, where)}:{admin}",
            channel=admin,
            text=text,
            now=now,
        )
    return told

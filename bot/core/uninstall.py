"""A workspace's life after install: uninstalled (or its tokens revoked, or an org admin took the
app away from it), kept for the retention window, then purged from every table; installed again
within the window, it picks up where it left off.

Uninstalling stops all sending to the workspace at once: its pending messages are parked as
"uninstalled" (and any made later are, by the deliverer, whose authorize finds no token); a
reinstall re-queues what was parked for want of a token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.installs import NOT_INSTALLED, UNINSTALLED
from bot.core.workspaces import ensure_workspace
from storage.db import Database
from storage.integrations import SLACK_BOTS
from storage.models import Base, Outbox, OutboxState, Workspace

_WAITING = (OutboxState.PENDING,)
_RESUMABLE = (UNINSTALLED, NOT_INSTALLED)


def _teams(session: Session, team_id: str | None, enterprise_id: str | None) -> list[str]:
    """`team_id`, or (an org-wide event) every workspace known to belong to `enterprise_id`."""
    if team_id:
        return [team_id]
    if not enterprise_id:
        return []
    return list(session.scalars(sa.select(Workspace.team_id).where(Workspace.enterprise_id == enterprise_id)))


def uninstalled(
    session: Session,
    team_id: str | None,
    enterprise_id: str | None,
    now: datetime,
    teams: list[str] | None = None,
) -> int:
    """The app is gone from `team_id` (or from every workspace of `enterprise_id`, or from `teams`):
    mark it, park its unsent messages as "uninstalled"; returns how many were parked. Idempotent
    (app_uninstalled and tokens_revoked come both, in either order)."""
    targets = teams if teams is not None else _teams(session, team_id, enterprise_id)
    parked = 0
    for team in targets:
        workspace = ensure_workspace(session, team, now)
        if workspace.uninstalled_at is None:
            workspace.uninstalled_at = now
        if enterprise_id and not workspace.enterprise_id:
            workspace.enterprise_id = enterprise_id
        result = session.execute(
            sa.update(Outbox)
            .where(Outbox.team_id == team, Outbox.state.in_(_WAITING))
            .values(state=OutboxState.PARKED, last_error=UNINSTALLED, claimed_until=None)
        )
        parked += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return parked


def installed(
    session: Session,
    team_id: str | None,
    enterprise_id: str | None,
    now: datetime,
    teams: list[str] | None = None,
) -> int:
    """The app was installed in `team_id` (or org-wide in `enterprise_id`, or granted `teams`): it
    is no longer uninstalled, and what was parked for want of a token is sent; returns how many."""
    targets = teams if teams is not None else _teams(session, team_id, enterprise_id)
    resumed = 0
    for team in targets:
        workspace = ensure_workspace(session, team, now)
        workspace.uninstalled_at = None
        if enterprise_id:
            workspace.enterprise_id = enterprise_id
        result = session.execute(
            sa.update(Outbox)
            .where(
                Outbox.team_id == team, Outbox.state == OutboxState.PARKED, Outbox.last_error.in_(_RESUMABLE)
            )
            .values(state=OutboxState.PENDING, next_attempt_at=now, attempts=0, last_error=None)
        )
        resumed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.info["outbox_dirty"] = True
    return resumed


def _tables_with_team() -> list[sa.Table]:
    """Every table holding workspace data (a team_id column), children before parents."""
    return [t for t in reversed(Base.metadata.sorted_tables) if "team_id" in t.c]


def purge(db: Database, team_id: str) -> dict[str, int]:
    """Delete every row of `team_id`, in every table; rows deleted per table (zeros left out)."""
    deleted: dict[str, int] = {}
    with db.session() as session:
        for table in _tables_with_team():
            count = int(session.execute(sa.delete(table).where(table.c.team_id == team_id)).rowcount or 0)  # type: ignore[attr-defined]
            if count:
                deleted[table.name] = count
    return deleted


def purge_expired(db: Database, now: datetime, retention: timedelta) -> dict[str, int]:
    """Purge every workspace uninstalled longer than `retention` ago; rows deleted per table."""
    with db.session() as session:
        due = list(
            session.scalars(
                sa.select(Workspace.team_id).where(
                    Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at <= now - retention
                )
            )
        )
    totals: dict[str, int] = {}
    for team in due:
        for table, count in purge(db, team).items():
            totals[table] = totals.get(table, 0) + count
    if due:
        totals["workspaces_purged"] = len(due)
    return totals


@dataclass(frozen=True)
class WorkspaceLine:
    team_id: str
    name: str | None
    enterprise_id: str | None
    installed: bool
    uninstalled_at: datetime | None
    purge_after: datetime | None


def listing(session: Session, retention: timedelta, *, client_id: str | None) -> list[WorkspaceLine]:
    """Every workspace Throughline holds data of: installed or not, and when it will be purged."""
    c = SLACK_BOTS.c
    with_bot = set()
    org_bot = set()
    if client_id:
        for team, enterprise in session.execute(
            sa.select(c.team_id, c.enterprise_id).where(c.client_id == client_id, c.bot_token.is_not(None))
        ):
            (with_bot.add(team) if team else org_bot.add(enterprise))
    lines = []
    for w in session.scalars(sa.select(Workspace).order_by(Workspace.team_id)):
        has_token = w.team_id in with_bot or (w.enterprise_id in org_bot) if client_id else True
        lines.append(
            WorkspaceLine(
                w.team_id,
                w.name,
                w.enterprise_id,
                w.uninstalled_at is None and has_token,
                w.uninstalled_at,
                w.uninstalled_at + retention if w.uninstalled_at else None,
            )
        )
    return lines

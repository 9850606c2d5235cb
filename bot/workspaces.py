"""Workspaces: the row every other row hangs from, and its effective settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.config import WorkspaceSettings
from bot.errors import InvalidFields
from storage.db import insert_ignore
from storage.models import Workspace


def ensure_workspace(session: Session, team_id: str, now: datetime) -> Workspace:
    """The workspace row for `team_id`, created on first contact (safe under concurrency)."""
    found = session.scalar(sa.select(Workspace).where(Workspace.team_id == team_id))
    if found is not None:
        return found
    insert_ignore(
        session,
        Workspace,
        {"team_id": team_id, "settings": {}, "next_request_number": 1, "created_at": now},
        ["team_id"],
    )
    return session.scalars(sa.select(Workspace).where(Workspace.team_id == team_id)).one()


def effective_settings(workspace: Workspace | None, defaults: WorkspaceSettings) -> WorkspaceSettings:
    """The configured defaults with the workspace's saved overrides on top."""
    if workspace is None or not workspace.settings:
        return defaults
    try:
        return defaults.with_overrides(workspace.settings)
    except ValidationError:
        # overrides saved by an older version that no longer validate: fall back to the config
        return defaults


def settings_for(session: Session, team_id: str, defaults: WorkspaceSettings) -> WorkspaceSettings:
    workspace = session.scalar(sa.select(Workspace).where(Workspace.team_id == team_id))
    return effective_settings(workspace, defaults)


def save_overrides(
    session: Session, team_id: str, defaults: WorkspaceSettings, changes: dict[str, Any], now: datetime
) -> WorkspaceSettings:
    """Validate and store settings changes; raises InvalidFields keyed by setting name."""
    workspace = ensure_workspace(session, team_id, now)
    merged = {**workspace.settings, **changes}
    try:
        result = defaults.with_overrides(merged)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for item in exc.errors():
            field = str(item["loc"][0]) if item["loc"] else "settings"
            errors.setdefault(field, item["msg"].removeprefix("Value error, "))
        raise InvalidFields(errors) from None
    workspace.settings = {key: getattr(result, key) for key in merged}
    return result


def allocate_request_number(session: Session, team_id: str, now: datetime) -> int:
    """The next request number for the workspace; atomic, so concurrent submits never share one."""
    ensure_workspace(session, team_id, now)
    number = session.execute(
        sa.update(Workspace)
        .where(Workspace.team_id == team_id)
        .values(next_request_number=Workspace.next_request_number + 1)
        .returning(Workspace.next_request_number)
    ).scalar_one()
    return int(number) - 1

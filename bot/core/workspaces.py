"""Workspaces: the row every other row hangs from, and its effective settings."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.core.config import WorkspaceSettings
from bot.core.errors import InvalidFields
from storage.db import insert_ignore
from storage.models import Workspace


def served(team_id: sa.ColumnElement[str] | InstrumentedAttribute[str]) -> sa.ColumnElement[bool]:
    """SQL: the workspace of `team_id` is not uninstalled (the tick finds no due work in one that
    is: its check-ins are not asked, nor missed, its stalls do not climb while nobody can be told)."""
    return ~(
        sa.select(Workspace.id)
        .where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_not(None))
        .exists()
    )


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


# (id of the defaults, overrides) -> (those defaults, merged); holding the defaults keeps their id
# from being reused by another object while the entry lives
_merged: dict[tuple[int, str], tuple[WorkspaceSettings, WorkspaceSettings]] = {}
_MERGED_LIMIT = 256


def effective_settings(workspace: Workspace | None, defaults: WorkspaceSettings) -> WorkspaceSettings:
    """The configured defaults with the workspace's saved overrides on top.

    Validating the merge costs more than a request's queries, so results are remembered per
    (defaults, overrides); settings objects are never mutated once built."""
    return _merge(workspace.settings if workspace is not None else {}, defaults)


def _merge(overrides: dict[str, Any], defaults: WorkspaceSettings) -> WorkspaceSettings:
    if not overrides:
        return defaults
    key = (id(defaults), json.dumps(overrides, sort_keys=True, default=str))
    found = _merged.get(key)
    if found is not None and found[0] is defaults:
        return found[1]
    try:
        merged = defaults.with_overrides(overrides)
    except ValidationError:
        # overrides saved by an older version that no longer validate: fall back to the config
        merged = defaults
    if len(_merged) >= _MERGED_LIMIT:
        _merged.clear()
    _merged[key] = (defaults, merged)
    return merged


def settings_for(session: Session, team_id: str, defaults: WorkspaceSettings) -> WorkspaceSettings:
    """The effective settings of `team_id`: one small query (every request asks), then a cached merge."""
    overrides = session.execute(sa.select(Workspace.settings).where(Workspace.team_id == team_id)).scalar()
    return _merge(overrides or {}, defaults)


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

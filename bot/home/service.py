"""The App Home: what a person owes, owns, is waited on for and has asked for, a page per list;
and, for admins, the workspace's settings, saved with validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.core import authz, history, people, workspaces
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import InvalidFields
from bot.home.models import PAGE_SIZE, SETTINGS_FIELDS, HomeData, HomePages, HomeSection, settings_block
from bot.status.service import lists


def home(
    session: Session,
    team_id: str,
    user_id: str,
    settings: WorkspaceSettings,
    pages: HomePages | None = None,
) -> HomeData:
    """Everything `user_id`'s Home tab shows, one page of each list: five statements, whatever
    the number of initiatives."""
    pages = pages or HomePages()

    def offset(section: HomeSection) -> int:
        return pages.page(section) * PAGE_SIZE[section]

    due, owned, waiting, requested = (
        HomeSection.DUE,
        HomeSection.OWNED,
        HomeSection.WAITING,
        HomeSection.REQUESTED,
    )

    is_admin = authz.can(Action.CHANGE_SETTINGS, user_id, settings)
    return HomeData(
        user_id=user_id,
        zone=people.zones(session, team_id, [user_id], settings)[user_id],
        pages=pages,
        due=lists.checkins_due(session, team_id, user_id, limit=PAGE_SIZE[due], offset=offset(due)),
        owned=lists.owned(session, team_id, user_id, limit=PAGE_SIZE[owned], offset=offset(owned)),
        waiting=lists.waiting_on(
            session,
            team_id,
            user_id,
            limit=PAGE_SIZE[waiting],
            offset=offset(waiting),
            led_teams=lists.led_teams(user_id, settings),
        ),
        requested=lists.requested(
            session, team_id, user_id, limit=PAGE_SIZE[requested], offset=offset(requested)
        ),
        settings=settings if is_admin else None,
    )


# -- settings --------------------------------------------------------------------------------------


def require_admin(user_id: str, settings: WorkspaceSettings) -> None:
    """Raise NotAllowed unless `user_id` may change the workspace's settings."""
    authz.require(Action.CHANGE_SETTINGS, user_id, settings)


def save_settings(
    session: Session,
    team_id: str,
    actor_id: str,
    *,
    defaults: WorkspaceSettings,
    current: WorkspaceSettings,
    values: dict[str, Any],
    now: datetime,
) -> WorkspaceSettings:
    """Store the settings an admin submitted (only those that differ from the effective ones,
    so untouched settings keep following the configuration) and return the new effective
    settings. Raises NotAllowed (not an admin: nothing is saved) or InvalidFields keyed by the
    form's input block ids (see `settings_block`)."""
    require_admin(actor_id, current)
    submitted = {name: values[name] for name in SETTINGS_FIELDS if name in values}
    try:
        candidate = current.with_overrides(submitted)
    except ValidationError as exc:
        raise InvalidFields(_field_errors(exc)) from None
    if candidate.escalate_level3_days <= candidate.escalate_level2_days:
        raise InvalidFields(
            {
                settings_block("escalate_level3_days"): (
                    f"Level 3 comes after level 2: make it more than {candidate.escalate_level2_days} "
                    "business days."
                )
            }
        )
    changes = {
        name: getattr(candidate, name)
        for name in submitted
        if getattr(candidate, name) != getattr(current, name)
    }
    if not changes:
        return current
    try:
        saved = workspaces.save_overrides(session, team_id, defaults, changes, now)
    except InvalidFields as exc:  # a stored override no longer fits with this change
        raise InvalidFields({_block_of(name): message for name, message in exc.errors.items()}) from None
    history.record(
        session,
        team_id=team_id,
        subject=f"workspace:{team_id}",
        kind="settings.changed",
        at=now,
        actor_id=actor_id,
        changes=changes,
    )
    return saved


def _block_of(name: str) -> str:
    return settings_block(name if name in SETTINGS_FIELDS else SETTINGS_FIELDS[0])


def _field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        kind, limits = item["type"], item.get("ctx") or {}
        if kind in ("int_parsing", "int_type", "int_from_float"):
            message = "Enter a whole number."
        elif kind == "greater_than_equal":
            message = f"Enter {limits.get('ge')} or more."
        elif kind == "less_than_equal":
            message = f"Enter {limits.get('le')} or less."
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        errors.setdefault(_block_of(name), message)
    return errors

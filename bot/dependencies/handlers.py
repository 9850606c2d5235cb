"""Adding a dependency from anywhere: the "Add a dependency" button, its modal, and the modal's
search of open initiatives."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.errors import NotFound
from bot.core.services import Services
from bot.dependencies import service as dependencies
from bot.dependencies import views
from bot.dependencies.views import DependencyAction, DependencyBlock, DependencyCallback


def button_value(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON value of the button that was pressed."""
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
    except (KeyError, IndexError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise NotFound("That button is out of date; open the message again.")
    return value


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise NotFound("That form is out of date; open it again.")
    return value


def input_value(view: dict[str, Any], block_id: str, action_id: str = "value") -> Any:
    """The value of one input in a submitted modal: text, option value, date, user or None."""
    element = ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(action_id) or {}
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    for key in ("selected_date", "selected_user", "value"):
        if key in element:
            return element[key]
    return None


def input_date(view: dict[str, Any], block_id: str) -> date | None:
    text = input_value(view, block_id)
    return date.fromisoformat(text) if text else None


def open_modal(client: WebClient, body: dict[str, Any], view: Any) -> None:
    """Open `view` where the user is: pushed onto a modal they are in, else opened."""
    container = body.get("container") or {}
    if container.get("type") == "view" and (body.get("view") or {}).get("type") == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: App, services: Services) -> None:
    @app.action(DependencyAction.ADD.value)
    def open_add_dependency(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        key = str(button_value(body).get("initiative") or "")
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            context = dependencies.prepare_add(
                session, team_id=team_id, waiter_key=key, actor_id=user_id, settings=settings
            )
        open_modal(client, body, views.add_modal(context))

    @app.options(DependencyAction.PROVIDER_PICK.value)
    def search_initiatives(ack: Ack, body: dict[str, Any]) -> None:
        team_id = body["team"]["id"]
        waiter = metadata(body.get("view") or {}).get("initiative")
        with services.db.read() as session:
            found = dependencies.search_providers(
                session, team_id, body.get("value") or "", exclude_key=waiter
            )
        ack(options=views.provider_options(found))

    @app.view(DependencyCallback.ADD.value)
    def submit_add_dependency(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            dependencies.add_from_form(
                session,
                team_id=team_id,
                waiter_key=str(metadata(view).get("initiative") or ""),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
                provider_key=input_value(view, DependencyBlock.PROVIDER, DependencyAction.PROVIDER_PICK),
                provider_team=input_value(view, DependencyBlock.TEAM),
                provider_contact_id=input_value(view, DependencyBlock.CONTACT),
                what=input_value(view, DependencyBlock.WHAT) or "",
                needed_by=input_date(view, DependencyBlock.NEEDED_BY),
            )
        ack()

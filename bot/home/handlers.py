"""The App Home tab: published when someone opens it, re-published a page further when they
page a list, and, for admins, the settings modal that saves with validation."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.audit import flows as audit
from bot.core.services import Services
from bot.home import service as home
from bot.home import views as home_views
from bot.home.models import HomePages
from bot.home.views import HomeAction


def publish(services: Services, client: WebClient, team_id: str, user_id: str, pages: HomePages) -> None:
    """Build `user_id`'s Home from the database and publish it (views.publish)."""
    with services.db.read() as session:
        settings = services.workspace(session, team_id)
        data = home.home(session, team_id, user_id, settings, pages)
    client.views_publish(user_id=user_id, view=home_views.home(data, services.clock.now()))


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def show_home(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        publish(services, client, context.team_id or "", event["user"], HomePages())

    def turn_page(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        ack()
        publish(
            services,
            client,
            context.team_id or "",
            body["user"]["id"],
            HomePages.from_value(action.get("value")),
        )

    app.action(HomeAction.NEXT_PAGE)(turn_page)
    app.action(HomeAction.PREVIOUS_PAGE)(turn_page)

    @app.action(HomeAction.EDIT_SETTINGS)
    def open_settings(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        with services.db.session() as session:
            settings = services.workspace(session, context.team_id or "")
        home.require_admin(body["user"]["id"], settings)  # a refusal is shown by the error handler
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=home_views.settings_modal(settings))

    def ask_for_export(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        with services.db.read() as session:
            settings = services.workspace(session, context.team_id or "")
        audit.require_exporter(body["user"]["id"], settings)  # a refusal is shown by the error handler
        ack()

    def send_export(body: dict[str, Any], context: BoltContext) -> None:
        team_id, user_id, now = context.team_id or "", body["user"]["id"], services.clock.now()
        with services.db.read() as session:  # the zip is built beside the writers, not in their way
            built = audit.build_export(session, team_id, user_id, services.workspace(session, team_id), now)
        with services.db.session() as session:
            audit.send_export(session, team_id, user_id, built, now)

    app.action(HomeAction.EXPORT_DATA)(ack=ask_for_export, lazy=[send_export])

    @app.view(home_views.SETTINGS_CALLBACK)
    def save_settings(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        team_id, user_id = context.team_id or "", body["user"]["id"]
        values = home_views.settings_from_state(view["state"]["values"])
        with services.db.session() as session:
            home.save_settings(
                session,
                team_id,
                user_id,
                defaults=services.defaults,
                current=services.workspace(session, team_id),
                values=values,
                now=services.clock.now(),
            )
        ack()
        publish(services, client, team_id, user_id, HomePages())

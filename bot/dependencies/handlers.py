"""Adding a dependency from anywhere: the "Add a dependency" button, its modal, and the modal's
search of open initiatives; and the dependency's own buttons on the escalation ladder's DMs
(Renegotiate date with its modal, Mark met)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blockkit.payload import button_value, id_in, input_date, input_value, metadata, open_modal, reply
from bot.core.services import Services
from bot.dependencies import flows, service, views
from bot.dependencies.views import DependencyAction, DependencyBlock, DependencyCallback
from bot.escalation.views import EscalationAction, EscalationBlock, EscalationCallback
from bot.initiatives.service import search_initiatives


def register(app: App, services: Services) -> None:
    @app.action(DependencyAction.ADD.value)
    def open_add_dependency(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        key = str(button_value(body).get("initiative") or "")
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            context = service.prepare_add(
                session, team_id=team_id, waiter_key=key, actor_id=user_id, settings=settings
            )
        open_modal(client, body, views.add_modal(context))

    @app.options(DependencyAction.PROVIDER_PICK.value)
    def search_providers(ack: Ack, body: dict[str, Any]) -> None:
        team_id = body["team"]["id"]
        waiter = metadata(body.get("view") or {}).get("initiative")
        with services.db.read() as session:
            found = search_initiatives(
                session,
                team_id,
                str(body.get("value") or ""),
                exclude_key=waiter if isinstance(waiter, str) else None,
            )
        ack(options=views.provider_options(found))

    @app.view(DependencyCallback.ADD.value)
    def submit_add_dependency(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            flows.add_from_form(
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

    # -- the dependency's own buttons (level-1 and level-2 DMs) -------------------------------------

    @app.action(EscalationAction.RENEGOTIATE.value)
    def open_renegotiate(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            context = service.for_managing(
                session,
                team_id=team_id,
                dependency_id=id_in(button_value(body), "dependency"),
                actor_id=user_id,
                settings=settings,
            )
        open_modal(client, body, views.renegotiate_modal(context))

    @app.view(EscalationCallback.RENEGOTIATE.value)
    def submit_renegotiate(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            flows.renegotiate(
                session,
                team_id=team_id,
                dependency_id=id_in(metadata(view), "dependency"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
                needed_by=input_date(view, EscalationBlock.NEEDED_BY),
                reason=input_value(view, EscalationBlock.REASON) or "",
            )
        ack()

    @app.action(EscalationAction.MARK_MET.value)
    def mark_met(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            flows.mark_met(
                session,
                team_id=team_id,
                dependency_id=id_in(button_value(body), "dependency"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
            )
        reply(body, respond, client, views.MET_REPLY)

"""The escalation ladder's buttons and modals, and `/initiative stalled`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blockkit import blocks as common
from bot.core.calendar import zone
from bot.core.errors import NotFound
from bot.core.services import Services
from bot.dependencies import service as dependencies
from bot.dependencies.handlers import button_value, input_date, input_value, metadata, open_modal
from bot.escalation import service as escalation
from bot.escalation import views
from bot.escalation.views import EscalationAction, EscalationBlock, EscalationCallback
from bot.status import models as status
from bot.status.models import QueryKind


def asks_for_stalled(command: dict[str, Any]) -> bool:
    """Is this `/initiative stalled`?"""
    return status.parse_query(command.get("text") or "").kind is QueryKind.STALLED


def _id(data: dict[str, Any], name: str) -> int:
    try:
        return int(data[name])
    except (KeyError, TypeError, ValueError):
        raise NotFound("That button is out of date; open the message again.") from None


def _reply(body: dict[str, Any], respond: Respond, client: WebClient, text: str) -> None:
    """Answer the person who pressed a button, only to them, where they are."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif body.get("trigger_id"):
        client.views_open(trigger_id=body["trigger_id"], view=common.notice_modal("Throughline", text))


def register(app: App, services: Services) -> None:
    @app.command("/initiative", matchers=[asks_for_stalled])
    def show_stalled(ack: Ack, command: dict[str, Any]) -> None:
        team_id = command["team_id"]
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            lines = escalation.stalled(session, team_id, settings, services.clock.now())
        text, blocks = views.stalled_list(lines, zone(settings.timezone))
        ack(response_type="ephemeral", text=text, blocks=blocks)

    # -- the dependency's own buttons (level-1 and level-2 DMs) -------------------------------------

    @app.action(EscalationAction.RENEGOTIATE.value)
    def open_renegotiate(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            context = dependencies.for_managing(
                session,
                team_id=team_id,
                dependency_id=_id(button_value(body), "dependency"),
                actor_id=user_id,
                settings=settings,
            )
        open_modal(client, body, views.renegotiate_modal(context))

    @app.view(EscalationCallback.RENEGOTIATE.value)
    def submit_renegotiate(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            dependencies.renegotiate(
                session,
                team_id=team_id,
                dependency_id=_id(metadata(view), "dependency"),
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
            dependencies.mark_met(
                session,
                team_id=team_id,
                dependency_id=_id(button_value(body), "dependency"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
            )
        _reply(body, respond, client, views.MET_REPLY)

    # -- handling the escalation (level-2 DM, governance post) ------------------------------------

    @app.action(EscalationAction.ACKNOWLEDGE.value)
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            card = escalation.acknowledge(
                session,
                team_id=team_id,
                escalation_id=_id(button_value(body), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
            )
        _reply(body, respond, client, views.acknowledged_reply(card))

    @app.action(EscalationAction.RESOLVE.value)
    def open_resolve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        card = _card_for_handling(body)
        open_modal(client, body, views.resolve_modal(card))

    @app.action(EscalationAction.SNOOZE.value)
    def open_snooze(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        card = _card_for_handling(body)
        open_modal(client, body, views.snooze_modal(card))

    def _card_for_handling(body: dict[str, Any]) -> escalation.EscalationCard:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            return escalation.for_handling(
                session,
                team_id=team_id,
                escalation_id=_id(button_value(body), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
            )

    @app.view(EscalationCallback.RESOLVE.value)
    def submit_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            escalation.resolve(
                session,
                team_id=team_id,
                escalation_id=_id(metadata(view), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
                how=input_value(view, EscalationBlock.HOW) or "",
            )
        ack()

    @app.view(EscalationCallback.SNOOZE.value)
    def submit_snooze(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            escalation.snooze(
                session,
                team_id=team_id,
                escalation_id=_id(metadata(view), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
                until=input_date(view, EscalationBlock.UNTIL),
                reason=input_value(view, EscalationBlock.SNOOZE_REASON) or "",
            )
        ack()

"""The escalation ladder's own buttons and modals (Acknowledge, Resolve, Snooze), and
`/initiative stalled`. The dependency's buttons on the same messages (Renegotiate date, Mark met)
are answered by bot.dependencies.handlers."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.blockkit.payload import button_value, id_in, input_date, input_value, metadata, open_modal, reply
from bot.core.calendar import zone
from bot.core.services import Services
from bot.escalation import flows, views
from bot.escalation.models import EscalationCard
from bot.escalation.service import episodes
from bot.escalation.views import EscalationAction, EscalationBlock, EscalationCallback


def stalled_reply(services: Services, team_id: str) -> tuple[str, list[Block]]:
    """The answer to `/initiative stalled`: the workspace's current stalls."""
    with services.db.read() as session:
        settings = services.workspace(session, team_id)
        lines = episodes.stalled(session, team_id, settings, services.clock.now())
    return views.stalled_list(lines, zone(settings.timezone))


def register(app: App, services: Services) -> None:
    # -- handling the escalation (level-2 DM, governance post) ------------------------------------

    @app.action(EscalationAction.ACKNOWLEDGE.value)
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            card = flows.acknowledge(
                session,
                team_id=team_id,
                escalation_id=id_in(button_value(body), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
            )
        reply(body, respond, client, views.acknowledged_reply(card))

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

    def _card_for_handling(body: dict[str, Any]) -> EscalationCard:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            return episodes.for_handling(
                session,
                team_id=team_id,
                escalation_id=id_in(button_value(body), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
            )

    @app.view(EscalationCallback.RESOLVE.value)
    def submit_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            flows.resolve(
                session,
                team_id=team_id,
                escalation_id=id_in(metadata(view), "escalation"),
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
            flows.snooze(
                session,
                team_id=team_id,
                escalation_id=id_in(metadata(view), "escalation"),
                actor_id=user_id,
                settings=settings,
                now=services.clock.now(),
                until=input_date(view, EscalationBlock.UNTIL),
                reason=input_value(view, EscalationBlock.SNOOZE_REASON) or "",
            )
        ack()

"""Linking work from Slack: `/initiative link REQ-17 URL` (routed here by bot.slack.commands), the
status card's "Link work" button and its modal. The trackers' webhooks come in through `webhooks`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.blockkit.blocks import notice_modal, section
from bot.blockkit.payload import button_value, input_value, metadata, open_modal
from bot.core.services import Services
from bot.trackers import flows, views
from bot.trackers.service import links
from bot.trackers.views import LinkAction, LinkBlock, LinkCallback


def link_reply(services: Services, team_id: str, user_id: str, text: str) -> tuple[str, list[Block]]:
    """The ephemeral answer to `/initiative link <KEY> <URL>`; domain errors reach the error handler."""
    key, _, url = text.strip().partition(" ")
    if not url.strip():
        return views.usage()
    linked = flows.link_work(services, team_id=team_id, key=key, url=url.strip(), actor_id=user_id)
    reply = views.linked_reply(linked)
    return reply, [section(reply)]


def register(app: App, services: Services) -> None:
    @app.action(LinkAction.OPEN.value)
    def open_link_work(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        key = str(button_value(body).get("initiative") or "")
        with services.db.read() as session:
            initiative = links.initiative_to_link(
                session, team_id, key, user_id, services.workspace(session, team_id)
            )
            modal = views.link_modal(initiative.key, initiative.title)
        open_modal(client, body, modal)

    @app.view(LinkCallback.SUBMIT.value)
    def submit_link_work(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        linked = flows.link_work(
            services,
            team_id=team_id,
            key=str(metadata(view).get("initiative") or ""),
            url=str(input_value(view, LinkBlock.URL) or ""),
            actor_id=user_id,
        )
        ack(response_action="update", view=notice_modal("Link work", views.linked_reply(linked)))

"""`/initiative`: where is it? Each form of the command is one branch of `answer`; the status
card's "Share in channel" button posts it where the command was used."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block

from bot.blockkit.blocks import notice_modal
from bot.core import mrkdwn
from bot.core.deadline import bounded
from bot.core.services import Services
from bot.status.models import Card, OkrNotFound, Query, QueryKind
from bot.status.service import card as cards
from bot.status.service import history as histories
from bot.status.service import lists, okr
from bot.status.views import card as card_views
from bot.status.views import history as history_views
from bot.status.views import replies as status_views

log = logging.getLogger(__name__)
PERMALINK_TIMEOUT = 1  # seconds: the card must still answer inside Slack's 3


def answer(
    services: Services, client: WebClient, team_id: str, user_id: str, query: Query
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of the ephemeral reply to `/initiative <text>`, parsed once by the
    router (bot.slack.commands), which sends `queue` and `stalled` elsewhere."""
    if query.kind in (QueryKind.HELP, QueryKind.QUEUE, QueryKind.STALLED, QueryKind.LINK):
        return status_views.usage()
    with services.db.read() as session:
        settings = services.workspace(session, team_id)
        if query.kind is QueryKind.MINE:
            return status_views.my_work(lists.my_work(session, team_id, user_id, settings))
        if query.kind is QueryKind.SEARCH:
            return status_views.search_results(lists.search(session, team_id, query.arg))
        if query.kind is QueryKind.OKR:
            found = okr.okr_overview(session, team_id, query.arg)
            if isinstance(found, OkrNotFound):
                return status_views.unknown_okr(found)
            return status_views.okr_overview(found)
        card = cards.card(
            session,
            team_id,
            query.arg,
            settings,
            viewer_id=user_id,
            trackers_on=services.settings.trackers_on,
        )
    if card is None:
        return status_views.unknown_initiative(query.arg)
    return card_views.card(card, intake_link=intake_link(client, card))


def intake_link(client: WebClient, card: Card) -> str | None:
    """A permalink to the triage post of the request, when it was posted; None if Slack can't
    say quickly (the card is still useful without it)."""
    post = card.triage_post
    if post is None:
        return None
    quick = bounded(client, PERMALINK_TIMEOUT)
    try:
        link = quick.chat_getPermalink(channel=post.channel, message_ts=post.ts).get("permalink")
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.info("no permalink for %s/%s: %s", post.channel, post.ts, exc)
        return None
    return link if isinstance(link, str) else None


def register(app: App, services: Services) -> None:
    @app.action(card_views.CardAction.SHARE)
    def share_card(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        context: BoltContext,
        respond: Respond,
        client: WebClient,
    ) -> None:
        ack()
        team_id, user_id = context.team_id or "", body["user"]["id"]
        key = card_views.initiative_of(action.get("value"))
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            card = cards.card(session, team_id, key, settings) if key else None
        if card is None:
            respond(
                text=f":mag: {mrkdwn.escape(key or 'That initiative')} no longer exists: nothing to share.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        fallback, blocks = card_views.card(card, intake_link=intake_link(client, card), shared_by=user_id)
        respond(text=fallback, blocks=blocks, response_type="in_channel", replace_original=False)

    @app.action(history_views.HistoryAction.OPEN)
    def open_history(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        ack()
        key = card_views.initiative_of(action.get("value")) or ""
        client.views_open(trigger_id=body["trigger_id"], view=_history_view(context, body, key, 0))

    def turn_history_page(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        ack()
        key, offset = history_views.page_of(action.get("value")) or ("", 0)
        client.views_update(view_id=body["view"]["id"], view=_history_view(context, body, key, offset))

    app.action(history_views.HistoryAction.NEWER)(turn_history_page)
    app.action(history_views.HistoryAction.OLDER)(turn_history_page)

    def _history_view(context: BoltContext, body: dict[str, Any], key: str, offset: int) -> Any:
        team_id, user_id = context.team_id or "", body["user"]["id"]
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            found = (
                histories.history(session, team_id, key, settings, viewer_id=user_id, offset=offset)
                if key
                else None
            )
        if found is None:
            return notice_modal(
                "History", f":mag: {mrkdwn.escape(key or 'That initiative')} no longer exists."
            )
        return history_views.modal(found)

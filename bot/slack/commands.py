"""One router per slash command whose forms belong to several capabilities: the text is read
once, here, and each form goes to the capability that answers it. (`/request` and `/checkin`
have one listener each, in bot.intake and bot.checkins.)"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.core.services import Services
from bot.digest import handlers as digest
from bot.escalation import handlers as escalation
from bot.intake import handlers as intake
from bot.okrs import handlers as okrs
from bot.status import handlers as status
from bot.status.models import QueryKind, parse_query
from bot.trackers import handlers as trackers

DIGEST_WAIT = ":hourglass_flowing_sand: Building the digest preview…"


def asks_for_digest(command: dict[str, Any]) -> bool:
    """`/okr digest` (any case, anything after it ignored)."""
    words = (command.get("text") or "").split()
    return bool(words) and words[0].lower() == "digest"


def register(app: App, services: Services) -> None:
    @app.command("/initiative")
    def route_initiative(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = command["team_id"], command["user_id"]
        query = parse_query(command.get("text") or "")
        if query.kind is QueryKind.QUEUE:
            text, blocks = intake.queue_reply(services, team_id, user_id)
        elif query.kind is QueryKind.STALLED:
            text, blocks = escalation.stalled_reply(services, team_id)
        elif query.kind is QueryKind.LINK:
            text, blocks = trackers.link_reply(services, team_id, user_id, query.arg)
        else:
            text, blocks = status.answer(services, client, team_id, user_id, query)
        ack(response_type="ephemeral", text=text, blocks=blocks)

    def acknowledge_okr(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        if asks_for_digest(command):
            # a large organisation's digest can take longer than the 3 s Slack waits: the lazy
            # half below builds it after Slack has this answer
            ack(response_type="ephemeral", text=DIGEST_WAIT)
            return
        answer = okrs.answer_okr(services, command)
        if isinstance(answer, View):
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=answer)
        else:
            text, blocks = answer
            ack(response_type="ephemeral", text=text, blocks=blocks)

    def preview_digest_later(command: dict[str, Any], respond: Respond) -> None:
        if not asks_for_digest(command):
            return
        text, blocks = digest.preview_digest(services, command)
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=text,
            blocks=[b.to_dict() for b in blocks],
        )

    app.command("/okr")(ack=acknowledge_okr, lazy=[preview_digest_later])

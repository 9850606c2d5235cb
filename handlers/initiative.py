"""`/initiative`: where is it? Each form of the command is one entry in `answer`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import Block

from bot import status
from bot.services import Services
from bot.status import QueryKind
from bot.views import status as status_views


def answer(services: Services, team_id: str, user_id: str, text: str) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of the ephemeral reply to `/initiative <text>`."""
    query = status.parse_query(text)
    if query.kind is QueryKind.MINE:
        with services.db.session() as session:
            work = status.my_work(session, team_id, user_id)
        return status_views.my_work(work)
    return status_views.usage()


def register(app: App, services: Services) -> None:
    @app.command("/initiative")
    def show_initiatives(ack: Ack, command: dict[str, Any]) -> None:
        fallback, blocks = answer(services, command["team_id"], command["user_id"], command.get("text") or "")
        ack(response_type="ephemeral", text=fallback, blocks=blocks)

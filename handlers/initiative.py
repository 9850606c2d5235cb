"""`/initiative`: where is my work?"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import status
from bot.services import Services
from bot.views import status as status_views


def register(app: App, services: Services) -> None:
    @app.command("/initiative")
    def show_initiatives(ack: Ack, command: dict[str, Any]) -> None:
        text = (command.get("text") or "").strip()
        if text.lower() in ("help", "?"):
            fallback, blocks = status_views.usage()
        elif not text:
            with services.db.session() as session:
                work = status.my_work(session, command["team_id"], command["user_id"])
            fallback, blocks = status_views.my_work(work)
        else:
            fallback, blocks = status_views.usage()
        ack(response_type="ephemeral", text=fallback, blocks=blocks)

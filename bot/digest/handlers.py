"""`/okr digest`: an ephemeral preview of the leadership digest, this period so far. Posts nothing.
(bot.slack.commands routes `/okr` here.)"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from bot.core.services import Services
from bot.digest import flows
from bot.digest.service.build import preview


def preview_digest(services: Services, command: dict[str, Any]) -> tuple[str, list[Block]]:
    """The preview `/okr digest` answers with, for the command's workspace: (text, blocks)."""
    team_id = command["team_id"]
    now = services.clock.now()
    with services.db.read() as session:
        settings = services.workspace(session, team_id)
        data = preview(session, team_id, settings, now)
    rendered = flows.render_preview(data, settings, now, services.settings.template_dir)
    return rendered.text, rendered.blocks

"""`/okr digest`: an ephemeral preview of the leadership digest, this period so far. Posts nothing."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.models.blocks import Block

from bot.core.services import Services
from bot.digest import flows
from bot.digest.service.build import preview


def asks_for_digest(body: dict[str, Any]) -> bool:
    """`/okr digest` (any case, anything after it ignored); other `/okr` forms go elsewhere."""
    words = (body.get("text") or "").split()
    return bool(words) and words[0].lower() == "digest"


def preview_digest(services: Services, command: dict[str, Any]) -> tuple[str, list[Block]]:
    """The preview `/okr digest` answers with, for the command's workspace: (text, blocks)."""
    team_id = command["team_id"]
    now = services.clock.now()
    with services.db.read() as session:
        settings = services.workspace(session, team_id)
        data = preview(session, team_id, settings, now)
    rendered = flows.render_preview(data, settings, now, services.settings.template_dir)
    return rendered.text, rendered.blocks


def register(app: App, services: Services) -> None:
    def acknowledge(ack: Ack) -> None:
        ack(response_type="ephemeral", text=":hourglass_flowing_sand: Building the digest preview…")

    def preview_digest_later(command: dict[str, Any], respond: Respond) -> None:
        """Lazy: runs after Slack has its answer, since a large organisation's digest can take
        longer than the 3 seconds Slack waits."""
        text, blocks = preview_digest(services, command)
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=text,
            blocks=[b.to_dict() for b in blocks],
        )

    app.command("/okr", matchers=[asks_for_digest])(ack=acknowledge, lazy=[preview_digest_later])

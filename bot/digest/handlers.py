"""`/okr digest`: an ephemeral preview of the leadership digest, this period so far. Posts nothing."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.core.services import Services
from bot.digest import service as digest
from bot.digest import views as digest_views


def asks_for_digest(body: dict[str, Any]) -> bool:
    """`/okr digest` (any case, anything after it ignored); other `/okr` forms go elsewhere."""
    words = (body.get("text") or "").split()
    return bool(words) and words[0].lower() == "digest"


def register(app: App, services: Services) -> None:
    def acknowledge(ack: Ack) -> None:
        ack(response_type="ephemeral", text=":hourglass_flowing_sand: Building the digest preview…")

    def preview_digest(command: dict[str, Any], respond: Respond) -> None:
        """Lazy: runs after Slack has its answer, since a large organisation's digest can take
        longer than the 3 seconds Slack waits."""
        team_id = command["team_id"]
        now = services.clock.now()
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            data = digest.preview(session, team_id, settings, now)
        note = digest_views.preview_note(settings, now)
        rendered = digest_views.render(data, services.settings.template_dir, note=note)
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=rendered.text,
            blocks=[b.to_dict() for b in rendered.blocks],
        )

    app.command("/okr", matchers=[asks_for_digest])(ack=acknowledge, lazy=[preview_digest])

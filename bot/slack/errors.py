"""The one place errors become words: domain errors turn into an inline modal error or an ephemeral
reply where the user is; a database outage into "try again shortly"; anything else into a short
apology with a reference that is also in the log. Also: Slack's event retries are processed once."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk.errors import SlackApiError

from bot.blockkit import blocks as common
from bot.core.deadline import SlackTooSlow
from bot.core.errors import Conflict, DomainError, Invalid, InvalidFields, NotAllowed, NotFound
from bot.core.services import Services
from bot.slack import redelivery
from storage.db import UNREACHABLE, unreachable

log = logging.getLogger("throughline.errors")

DATABASE_DOWN = (
    ":hourglass_flowing_sand: Throughline can't reach its database right now, so nothing was changed. "
    "Please try again in a minute."
)
SLACK_SLOW = (
    ":hourglass_flowing_sand: Slack is slow to answer Throughline right now, so that could not be done. "
    "Please try again in a minute."
)


def describe(error: Exception) -> tuple[str, bool]:
    """(what to tell the user, whether it was expected)."""
    if isinstance(error, DomainError):
        icon = {NotAllowed: ":no_entry:", NotFound: ":mag:", Conflict: ":information_source:"}.get(
            type(error), ":warning:"
        )
        return f"{icon} {error.message}", True
    if unreachable(error):
        return DATABASE_DOWN, True
    if isinstance(error, SlackTooSlow):
        log.warning("gave up on Slack to answer in time: %s", error)
        return SLACK_SLOW, True
    reference = "E-" + secrets.token_hex(3)
    log.error("unexpected error %s", reference, exc_info=error)
    return (
        f":x: Something went wrong on our side and nothing was changed. If it keeps happening, "
        f"tell your Throughline admin the reference `{reference}`.",
        False,
    )


def _tell(respond: Any, message: str) -> None:
    try:
        respond(text=message, response_type="ephemeral", replace_original=False)
    except (SlackApiError, OSError) as exc:
        log.warning("could not show an error to the user: %s", exc)


def _json(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(body), headers={"content-type": "application/json"})


def register(app: App, services: Services) -> None:
    @app.middleware
    def process_retries_once(body: dict[str, Any], next: Any) -> BoltResponse | None:
        """Slack redelivers an event it thinks we missed (X-Slack-Retry-Num); bolt does not dedupe."""
        if body.get("type") == "event_callback" and body.get("event_id"):
            team_id = body.get("team_id") or ""
            try:
                with services.db.session() as session:
                    first = redelivery.first_time(
                        session, team_id, f"event:{body['event_id']}", services.clock.now()
                    )
            except UNREACHABLE as exc:
                # refuse, so Slack delivers the event again later instead of it being lost
                log.warning("event %s refused: database unavailable (%s)", body["event_id"], exc)
                return BoltResponse(status=503, body="database unavailable")
            if not first:
                return BoltResponse(status=200, body="")
        return next()

    def _retry_event(body: dict[str, Any]) -> BoltResponse:
        """An event whose processing failed (Slack slow, the database gone, a bug) is forgotten and
        refused, so Slack delivers it again (3 retries: at once, after 1 and 5 minutes) and the
        retry is processed, once. Over Socket Mode a refused event is not acknowledged, with the
        same effect."""
        event_id = str(body.get("event_id") or "")
        if event_id:
            try:
                with services.db.session() as session:
                    redelivery.forget(session, f"event:{event_id}")
            except UNREACHABLE as exc:  # its retry will be refused as seen: say so
                log.error("event %s failed and cannot be retried: database unavailable (%s)", event_id, exc)
        return BoltResponse(status=500, body="failed; deliver it again")

    @app.error
    def explain_error(
        error: Exception, body: dict[str, Any], response: BoltResponse | None, respond: Any, client: Any
    ) -> BoltResponse | None:
        message, _expected = describe(error)
        kind = body.get("type") or ("command" if "command" in body else "")
        not_acked = response is not None

        if kind == "event_callback" and not isinstance(error, DomainError):
            return _retry_event(body)

        if kind == "view_submission" and not_acked:
            if isinstance(error, InvalidFields):
                return _json({"response_action": "errors", "errors": error.errors})
            if isinstance(error, Invalid) and error.field:
                return _json({"response_action": "errors", "errors": {error.field: error.message}})
            return _json(
                {"response_action": "push", "view": common.notice_modal("Not saved", message).to_dict()}
            )
        if kind == "block_suggestion" and not_acked:
            return _json({"options": []})
        if kind == "command" and not_acked:
            return _json({"response_type": "ephemeral", "text": message})

        # acknowledged already, or an action: tell the user where they are
        if isinstance(error, SlackTooSlow):
            # Slack's 3 s are spent: answer Slack now and tell the user through the response
            # URL (valid for 30 minutes) once that answer is on its way; a trigger has expired
            if body.get("response_url") or (body.get("response_urls") or []):
                threading.Thread(target=_tell, args=(respond, message), daemon=True).start()
        else:
            try:
                if body.get("response_url") or (body.get("response_urls") or []):
                    respond(text=message, response_type="ephemeral", replace_original=False)
                elif body.get("trigger_id"):
                    view = common.notice_modal("Throughline", message)
                    client.views_open(trigger_id=body["trigger_id"], view=view)
            except (SlackApiError, OSError) as exc:
                log.warning("could not show an error to the user: %s", exc)
        if not_acked:
            return BoltResponse(status=200, body="")
        return None

"""Reading what Slack sent with a button press or a modal submission (the button's JSON value, the
modal's private metadata, one input's value), and answering the person where they are.

Payload-generic: every capability's handlers use these; nothing here knows a capability.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blockkit.blocks import notice_modal
from bot.core.errors import NotFound


def button_value(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON value of the button that was pressed."""
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
    except (KeyError, IndexError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise NotFound("That button is out of date; open the message again.")
    return value


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise NotFound("That form is out of date; open it again.")
    return value


def id_in(data: dict[str, Any], name: str) -> int:
    """The integer id `name` in a button value or modal metadata; raises NotFound."""
    try:
        return int(data[name])
    except (KeyError, TypeError, ValueError):
        raise NotFound("That button is out of date; open the message again.") from None


def input_value(view: dict[str, Any], block_id: str, action_id: str = "value") -> Any:
    """The value of one input in a submitted modal: text, option value, date, user or None."""
    element = ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(action_id) or {}
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    for key in ("selected_date", "selected_user", "value"):
        if key in element:
            return element[key]
    return None


def input_date(view: dict[str, Any], block_id: str) -> date | None:
    text = input_value(view, block_id)
    return date.fromisoformat(text) if text else None


def open_modal(client: WebClient, body: dict[str, Any], view: Any) -> None:
    """Open `view` where the user is: pushed onto a modal they are in, else opened."""
    container = body.get("container") or {}
    if container.get("type") == "view" and (body.get("view") or {}).get("type") == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def reply(body: dict[str, Any], respond: Respond, client: WebClient, text: str) -> None:
    """Answer the person who pressed a button, only to them, where they are."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif body.get("trigger_id"):
        client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Throughline", text))

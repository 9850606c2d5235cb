"""What a simulated person does, sent to the app as Slack sends it: a body signed with the signing
secret, dispatched to the real bolt app (its handlers, flows and error handler), without the TCP
round trip the HTTP server would add. What the app answers lands in the local Slack as it would
in Slack: modals on the person's stack, edits and posts through the local Web API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse

from bot.localslack.records import Message
from bot.localslack.sender import sign
from bot.localslack.server import LocalSlack
from bot.playground.session import form_state


class DoorError(Exception):
    """The app refused what a simulated person did (an HTTP error from the app)."""


class Door:
    def __init__(self, app: App, slack: LocalSlack, signing_secret: str) -> None:
        self.app, self.slack, self.secret = app, slack, signing_secret

    def _dispatch(self, body: str) -> BoltResponse:
        # Slack's request timestamp is the wall clock's (the app checks it against its own)
        stamp = str(int(time.time()))
        headers: dict[str, str | Sequence[str]] = {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": sign(self.secret, stamp, body.encode()),
        }
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        if response.status >= 400:
            raise DoorError(f"HTTP {response.status}: {response.body[:200]}")
        return response

    def _user(self, user_id: str) -> dict[str, str]:
        return {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": self.slack.team_id,
        }

    def _base(self, user_id: str, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": "deprecated",
            "team": {"id": self.slack.team_id, "domain": "simulated"},
            "user": self._user(user_id),
            "api_app_id": "A0SIM",
            "is_enterprise_install": False,
        }

    def click(self, user_id: str, message: Message, action: dict[str, Any]) -> BoltResponse:
        """A button in a message the person sees (a DM or a channel post)."""
        payload = self._base(user_id, "block_actions")
        url = self.slack.response_url(user=user_id, channel=message.channel, message_ts=message.ts)
        payload.update(
            trigger_id=self.slack.new_trigger(user_id),
            actions=[{**action, "action_ts": "0"}],
            container={
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            channel={"id": message.channel, "name": message.channel.lower()},
            message={"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
            response_url=url,
        )
        return self._dispatch(urlencode({"payload": json.dumps(payload)}))

    def submit_top_modal(self, user_id: str, form: dict[str, Any]) -> BoltResponse | None:
        """Submit the modal on top of the person's stack; `form` as the playground names fields
        (`state::<block_id>::<action_id>`). None when no modal is open."""
        stack = self.slack.modals.get(user_id) or []
        view = self.slack.views.get(stack[-1]) if stack else None
        if view is None:
            return None
        return self.submit(user_id, view, form)

    def submit(self, user_id: str, view: dict[str, Any], form: dict[str, Any]) -> BoltResponse:
        payload = self._base(user_id, "view_submission")
        payload.update(
            trigger_id=self.slack.new_trigger(user_id),
            view={**view, "state": {"values": form_state(view, form)}},
            response_urls=[],
        )
        response = self._dispatch(urlencode({"payload": json.dumps(payload)}))
        stack = self.slack.modals.get(user_id) or []
        if view.get("id") in stack:
            stack.remove(view["id"])  # closed by the answer, as Slack closes it
        return response

    def command(self, user_id: str, command: str, text: str) -> BoltResponse:
        channel = "D" + user_id[1:]
        fields = {
            "token": "deprecated",
            "team_id": self.slack.team_id,
            "team_domain": "simulated",
            "channel_id": channel,
            "channel_name": "directmessage",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0SIM",
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(user=user_id, channel=channel),
            "trigger_id": self.slack.new_trigger(user_id),
        }
        return self._dispatch(urlencode(fields))


def buttons(message: Message) -> list[dict[str, Any]]:
    """The buttons of a message, as the action each click sends (action_id, block_id, value)."""
    found = []
    for block in message.blocks or []:
        elements = block.get("elements") or ([block["accessory"]] if block.get("accessory") else [])
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    {
                        "type": "button",
                        "action_id": element.get("action_id"),
                        "block_id": block.get("block_id"),
                        "value": element.get("value"),
                        "text": element.get("text"),
                    }
                )
    return found

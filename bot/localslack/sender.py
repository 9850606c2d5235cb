"""Requests to the app exactly as Slack sends them: form or JSON bodies, signed with
`v0=HMAC-SHA256(signing_secret, "v0:{timestamp}:{body}")` in X-Slack-Signature.

The signature is computed here from the definition, not with slack_sdk's helper, so the app's
verifier is tested against an independent implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.localslack.server import TEAM_ID, LocalSlack

_ids = itertools.count(1)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


# Slack waits this long for the app's answer to a command, an interaction or an event, then shows
# the user an error (or redelivers the event): https://api.slack.com/interactivity/handling
SLACK_WAITS = 3.0


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed: float = 0.0  # seconds from sending the request to the whole answer

    @property
    def in_time(self) -> bool:
        """Whether Slack would have taken this answer (within its 3 s)."""
        return self.elapsed < SLACK_WAITS

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class SlackHTTP:
    """Sends signed Slack requests to the app at `app_url` (its /slack/events endpoint)."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        fake: LocalSlack,
        team_id: str = TEAM_ID,
        enterprise_id: str | None = None,
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id
        # a workspace of an Enterprise Grid org: its payloads name the enterprise too
        self.enterprise_id = enterprise_id

    def as_team(self, team_id: str, enterprise_id: str | None = None) -> SlackHTTP:
        """The same app, as seen from another workspace (of the enterprise, when given)."""
        return SlackHTTP(self.app_url, self.signing_secret, self.fake, team_id, enterprise_id)

    def _enterprise(self) -> dict[str, Any]:
        return {"enterprise": {"id": self.enterprise_id, "name": "Org"}} if self.enterprise_id else {}

    # -- raw -------------------------------------------------------------------------------------

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        sign_request: bool = True,
    ) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if sign_request:
            all_headers["X-Slack-Request-Timestamp"] = ts
            all_headers["X-Slack-Signature"] = signature or sign(self.signing_secret, ts, body)
        all_headers.update(headers or {})
        # the app's own URL, http(s) only: given by whoever started it, never by a payload
        request = urllib.request.Request(self.app_url, data=body, headers=all_headers, method="POST")  # noqa: S310
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                body = response.read()
                return Reply(response.status, body, dict(response.headers), time.monotonic() - started)
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read(), dict(error.headers), time.monotonic() - started)

    def post_form(self, fields: dict[str, str], **kwargs: Any) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    def post_payload(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    def post_json(self, body: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(json.dumps(body).encode(), "application/json", **kwargs)

    # -- what people do --------------------------------------------------------------------------

    def _user(self, user: str) -> dict[str, str]:
        found = self.fake.users.get(user)
        name = found.name if found else user.lower()
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def command(self, command: str, text: str = "", *, user: str, channel: str = "C0GENERAL") -> Reply:
        """A slash command, e.g. `command("/initiative", "REQ-1", user="U0ALICE")`."""
        self.last_response_url = self.fake.response_url()
        fields = {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": self._user(user)["name"],
            "command": command,
            "text": text,
            "api_app_id": "A0FAKE",
            "is_enterprise_install": "false",
            "response_url": self.last_response_url,
            "trigger_id": self.fake.new_trigger(),
        }
        if self.enterprise_id:
            fields["enterprise_id"] = self.enterprise_id
        return self.post_form(fields)

    def global_shortcut(self, callback_id: str, *, user: str) -> Reply:
        return self.post_payload(
            {
                "type": "shortcut",
                "token": "deprecated",
                "action_ts": f"{time.time():.6f}",
                "team": {"id": self.team_id, "domain": "fake"},
                **self._enterprise(),
                **self._enterprise(),
                "user": self._user(user),
                "is_enterprise_install": False,
                "callback_id": callback_id,
                "trigger_id": self.fake.new_trigger(),
            }
        )

    def message_shortcut(
        self,
        callback_id: str,
        *,
        user: str,
        channel: str,
        text: str,
        author: str = "U0DAN",
        ts: str | None = None,
    ) -> Reply:
        ts = ts or f"{int(time.time())}.{next(_ids):06d}"
        self.last_response_url = self.fake.response_url()
        return self.post_payload(
            {
                "type": "message_action",
                "token": "deprecated",
                "action_ts": f"{time.time():.6f}",
                "team": {"id": self.team_id, "domain": "fake"},
                **self._enterprise(),
                **self._enterprise(),
                "user": self._user(user),
                "channel": {"id": channel, "name": channel.lower()},
                "is_enterprise_install": False,
                "callback_id": callback_id,
                "trigger_id": self.fake.new_trigger(),
                "message_ts": ts,
                "message": {"type": "message", "user": author, "ts": ts, "text": text},
                "response_url": self.last_response_url,
            }
        )

    def block_action(
        self,
        action: dict[str, Any],
        *,
        user: str,
        message: Any = None,
        view: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> Reply:
        """Click a button (or pick from a select) found in a posted message, a modal or the Home tab.

        `action` is the element dict as the app rendered it (see `find_action`); `message` a
        slackfake.Message the button came from."""
        element = dict(action)
        act: dict[str, Any] = {
            "action_id": element["action_id"],
            "block_id": element.get("_block_id", ""),
            "type": element.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if "value" in element:
            act["value"] = element["value"]
        if "text" in element:
            act["text"] = element["text"]
        if "selected_option" in element:
            act["selected_option"] = element["selected_option"]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "token": "deprecated",
            "team": {"id": self.team_id, "domain": "fake"},
            **self._enterprise(),
            "user": self._user(user),
            "api_app_id": "A0FAKE",
            "trigger_id": self.fake.new_trigger(),
            "is_enterprise_install": False,
            "actions": [act],
        }
        if message is not None:
            self.last_response_url = self.fake.response_url()
            payload.update(
                {
                    "container": {
                        "type": "message",
                        "message_ts": message.ts,
                        "channel_id": message.channel,
                        "is_ephemeral": False,
                    },
                    "channel": {"id": message.channel, "name": message.channel.lower()},
                    "message": {
                        "type": "message",
                        "ts": message.ts,
                        "text": message.text,
                        "blocks": message.blocks,
                    },
                    "response_url": self.last_response_url,
                }
            )
        elif view is not None:
            payload.update(
                {
                    "container": {"type": "view", "view_id": view["id"]},
                    "view": view,
                }
            )
        elif channel is not None:  # an ephemeral message: only a response_url
            self.last_response_url = self.fake.response_url()
            payload.update(
                {
                    "container": {
                        "type": "message",
                        "message_ts": "0",
                        "channel_id": channel,
                        "is_ephemeral": True,
                    },
                    "channel": {"id": channel, "name": channel.lower()},
                    "response_url": self.last_response_url,
                }
            )
        return self.post_payload(payload)

    def submit_view(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> Reply:
        """Submit a modal the app opened, with `values` by block id (see `state_values`)."""
        return self.post_payload(self.view_submission(view, values, user=user))

    def view_submission(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> dict[str, Any]:
        """The payload Slack sends when `user` submits `view` with `values`."""
        return {
            "type": "view_submission",
            "token": "deprecated",
            "team": {"id": self.team_id, "domain": "fake"},
            **self._enterprise(),
            "user": self._user(user),
            "api_app_id": "A0FAKE",
            "trigger_id": self.fake.new_trigger(),
            "is_enterprise_install": False,
            "view": {**view, "state": {"values": state_values(view, values)}},
            "response_urls": [],
        }

    def close_view(self, view: dict[str, Any], *, user: str) -> Reply:
        return self.post_payload(
            {
                "type": "view_closed",
                "team": {"id": self.team_id, "domain": "fake"},
                **self._enterprise(),
                **self._enterprise(),
                "user": self._user(user),
                "api_app_id": "A0FAKE",
                "view": view,
                "is_cleared": False,
            }
        )

    def suggest(self, view: dict[str, Any], block_id: str, value: str, *, user: str) -> Reply:
        """Type into an external select: the `block_suggestion` request Slack sends for options."""
        element = _element(view, block_id)
        return self.post_payload(
            {
                "type": "block_suggestion",
                "user": self._user(user),
                "container": {"type": "view", "view_id": view["id"]},
                "api_app_id": "A0FAKE",
                "token": "deprecated",
                "action_id": element["action_id"],
                "block_id": block_id,
                "value": value,
                "team": {"id": self.team_id, "domain": "fake"},
                **self._enterprise(),
                **self._enterprise(),
                "view": view,
            }
        )

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        reason: str = "http_timeout",
    ) -> Reply:
        bot = self.fake.workspaces.get(self.team_id)
        body: dict[str, Any] = {
            "token": "deprecated",
            "team_id": self.team_id,
            "api_app_id": "A0FAKE",
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": bot.bot_user_id if bot else "U0BOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
        if self.enterprise_id:
            body["enterprise_id"] = self.enterprise_id
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason}
        return self.post_json(body, headers=headers)

    def deliver_event(self, event: dict[str, Any], *, event_id: str | None = None) -> list[Reply]:
        """An event delivered as Slack's Events API does: an answer that is not 2xx within 3 s is
        retried up to 3 times with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`
        (https://api.slack.com/apis/events-api#retries; Slack waits about a minute, then five,
        before the second and third retry, the local Slack does not). Every answer, in order."""
        event_id = event_id or f"Ev{next(_ids):010d}"
        replies = [self.event(event, event_id=event_id)]
        while len(replies) <= 3 and not (200 <= replies[-1].status < 300 and replies[-1].in_time):
            reason = "http_timeout" if not replies[-1].in_time else "http_error"
            replies.append(self.event(event, event_id=event_id, retry_num=len(replies), reason=reason))
        return replies

    def open_home(self, user: str) -> Reply:
        return self.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"})


def _element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    for block in view.get("blocks") or []:
        if block.get("block_id") == block_id:
            if "element" in block:
                return block["element"]
            if block.get("accessory"):
                return block["accessory"]
    raise KeyError(f"no input block {block_id!r} in view {view.get('callback_id')!r}")


def state_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Build `view.state.values` as Slack does, from plain values by block id.

    Text inputs take a str; selects the option value (or None); a date picker "YYYY-MM-DD";
    a user select a user id; multi-selects a list. Unlisted input blocks are left empty."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        block_id = block["block_id"]
        element = block["element"]
        kind = element["type"]
        action_id = element.get("action_id", "value")
        value = values.get(block_id)
        if kind in ("plain_text_input", "url_text_input", "email_text_input", "number_input"):
            entry: dict[str, Any] = {"type": kind, "value": None if value is None else str(value)}
        elif kind in ("static_select", "external_select", "radio_buttons"):
            entry = {"type": kind, "selected_option": _option(element, value)}
        elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            entry = {"type": kind, "selected_options": [_option(element, v) for v in (value or [])]}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": value}
        elif kind == "users_select":
            entry = {"type": kind, "selected_user": value}
        elif kind == "multi_users_select":
            entry = {"type": kind, "selected_users": list(value or [])}
        elif kind in ("conversations_select", "channels_select"):
            key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
            entry = {"type": kind, key: value}
        else:
            raise ValueError(f"state_values: element type {kind} not supported")
        state[block_id] = {action_id: entry}
    unknown = set(values) - set(state)
    if unknown:
        raise KeyError(f"no input blocks {sorted(unknown)} in view {view.get('callback_id')!r}")
    return state


def _option(element: dict[str, Any], value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    for option in element.get("options") or []:
        if option["value"] == value:
            return option
    for group in element.get("option_groups") or []:
        for option in group["options"]:
            if option["value"] == value:
                return option
    return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}


def find_action(payload: Any, action_id: str, value: str | None = None) -> dict[str, Any]:
    """The interactive element `action_id` (and `value`) in a message or view, as rendered;
    remembers its block id so `block_action` can send it back."""
    blocks = payload.blocks if hasattr(payload, "blocks") else payload.get("blocks")
    for block in blocks or []:
        candidates = list(block.get("elements") or [])
        if block.get("accessory"):
            candidates.append(block["accessory"])
        for element in candidates:
            if element.get("action_id") == action_id and (value is None or element.get("value") == value):
                return {**element, "_block_id": block.get("block_id", "")}
    raise AssertionError(
        f"no element {action_id!r} (value {value!r}) in {[b.get('block_id') for b in blocks or []]}"
    )

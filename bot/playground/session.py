"""What a person does in the playground, done as Slack would do it: each click, command or form
becomes the signed request Slack sends the app (through the local Slack's sender), and what the app
answers lands where Slack shows it (an ephemeral reply, a replaced message, a modal on the stack).
The demo's clock moves only when asked, and each move runs the real tick."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.localslack.records import Message
from bot.localslack.sender import SlackHTTP
from bot.localslack.server import LocalSlack

# The slash commands the manifest declares, and whether Slack escapes mentions in their text
# (`should_escape`): `/checkin owner REQ-1 @dana` arrives as `<@U0DAN|dana>`.
COMMANDS = {"/request": False, "/initiative": False, "/okr": False, "/checkin": True}
SHORTCUTS = {"new_request": "New request"}
MESSAGE_SHORTCUTS = {"request_from_message": "Turn into request"}
NEXT_LIMIT = timedelta(days=8)  # "the next thing that happens" looks this far ahead, an hour a step


class PlaygroundError(Exception):
    """Something the person did that Slack would refuse; the message is shown on the page."""


@dataclass
class Person:
    user_id: str
    name: str
    title: str
    tz: str


@dataclass
class Playground:
    slack: LocalSlack
    sender: SlackHTTP
    people: list[Person]
    now: Callable[[], datetime]
    move_clock: Callable[[datetime], None]  # sets the demo's clock and runs the tick at it
    settle: Callable[[], None]  # waits for the app's listeners and delivers the outbox
    workspace_tz: str = "UTC"
    outbox_size: Callable[[], int] = lambda: 0
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # view id -> inline errors
    notices: dict[str, str] = field(default_factory=dict)  # user -> a line to show once
    lock: threading.RLock = field(default_factory=threading.RLock)

    def person(self, user_id: str) -> Person:
        for person in self.people:
            if person.user_id == user_id:
                return person
        raise PlaygroundError(f"nobody called {user_id} works here")

    def _user(self, user_id: str) -> dict[str, str]:
        person = self.person(user_id)
        return {"id": user_id, "username": person.name, "name": person.name, "team_id": self.slack.team_id}

    def _base(self, user_id: str, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": "deprecated",
            "team": {"id": self.slack.team_id, "domain": "demo"},
            "user": self._user(user_id),
            "api_app_id": "A0FAKE",
            "is_enterprise_install": False,
        }

    def _context(self, conversation: str) -> str:
        return "D" + conversation[1:] if conversation[:1] in ("U", "W") else conversation

    # -- the composer: slash commands --------------------------------------------------------------

    def command(self, user_id: str, conversation: str, text: str) -> None:
        """What `user_id` typed into the composer of `conversation`: a slash command."""
        words = text.strip().split(maxsplit=1)
        if not words:
            return
        if not words[0].startswith("/"):
            self.say(user_id, conversation, text.strip())
            return
        name, rest = words[0].lower(), words[1] if len(words) > 1 else ""
        if name not in COMMANDS:
            raise PlaygroundError(f"{name} is not a command of this app; try {', '.join(COMMANDS)}")
        if COMMANDS[name]:
            rest = self._escape_mentions(rest)
        channel = self._context(conversation)
        response_url = self.slack.response_url(user=user_id, channel=channel)
        fields = {
            "token": "deprecated",
            "team_id": self.slack.team_id,
            "team_domain": "demo",
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user_id,
            "user_name": self.person(user_id).name,
            "command": name,
            "text": rest,
            "api_app_id": "A0FAKE",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.slack.new_trigger(user_id),
        }
        reply = self.sender.post_form(fields)
        self._show_ack(reply, user_id, channel)
        self.settle()

    def say(self, user_id: str, conversation: str, text: str) -> None:
        """A plain message from `user_id`, stored as Slack stores it (`&`, `<`, `>` escaped), so
        that its ⋯ menu can turn it into a request."""
        channel = self._context(conversation)
        if channel[:1] == "D":
            raise PlaygroundError("Throughline's messages tab is read-only: use a slash command here")
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        with self.slack._lock:
            message = Message(channel, self.slack._next_ts(), escaped, None, None, None, user=user_id)
            self.slack.messages.setdefault(channel, []).append(message)

    def _escape_mentions(self, text: str) -> str:
        by_name = {p.name.lower(): p for p in self.people}
        out = []
        for word in text.split(" "):
            person = by_name.get(word[1:].lower()) if word.startswith("@") else None
            out.append(f"<@{person.user_id}|{person.name}>" if person else word)
        return " ".join(out)

    def _channel_name(self, channel: str) -> str:
        found = self.slack.channels.get(channel)
        return found.name if found else "directmessage"

    def _show_ack(self, reply: Any, user_id: str, channel: str) -> None:
        """A command's or action's HTTP answer, shown as Slack shows it (an ephemeral reply)."""
        if reply.status >= 400:
            raise PlaygroundError(f"the app answered HTTP {reply.status}")
        if not reply.body:
            return
        try:
            body = reply.json()
        except ValueError:
            body = {"text": reply.text}
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            with self.slack._lock:
                self.slack._show_response({"user": user_id, "channel": channel, "message_ts": None}, body)

    # -- shortcuts ---------------------------------------------------------------------------------

    def global_shortcut(self, user_id: str, callback_id: str) -> None:
        payload = self._base(user_id, "shortcut")
        payload.update(
            callback_id=callback_id,
            trigger_id=self.slack.new_trigger(user_id),
            action_ts=f"{time.time():.6f}",
        )
        self.sender.post_payload(payload)
        self.settle()

    def message_shortcut(self, user_id: str, conversation: str, message_ts: str, callback_id: str) -> None:
        channel = self._context(conversation)
        message = self._message(channel, message_ts)
        payload = self._base(user_id, "message_action")
        payload.update(
            callback_id=callback_id,
            trigger_id=self.slack.new_trigger(user_id),
            action_ts=f"{time.time():.6f}",
            channel={"id": channel, "name": self._channel_name(channel)},
            message_ts=message.ts,
            message={
                "type": "message",
                "user": message.user or "U0BOT",
                "ts": message.ts,
                "text": message.text,
            },
            response_url=self.slack.response_url(user=user_id, channel=channel),
        )
        self.sender.post_payload(payload)
        self.settle()

    def _message(self, channel: str, ts: str) -> Any:
        for message in self.slack.messages.get(channel, []):
            if message.ts == ts:
                return message
        raise PlaygroundError("that message is gone")

    # -- clicks --------------------------------------------------------------------------------------

    def click(
        self,
        user_id: str,
        *,
        action: dict[str, Any],
        conversation: str | None = None,
        message_ts: str | None = None,
        ephemeral_ts: str | None = None,
        view_id: str | None = None,
        state: dict[str, str] | None = None,
    ) -> None:
        """A button or select in a message, an ephemeral reply, a modal or the Home tab.
        `action`: action_id, block_id, type, and value / selected_option / selected_user / ..."""
        act = {**action, "action_ts": f"{time.time():.6f}"}
        payload = self._base(user_id, "block_actions")
        payload.update(trigger_id=self.slack.new_trigger(user_id), actions=[act])
        if view_id is not None:
            view = self.slack.views.get(view_id)
            if view is None:
                raise PlaygroundError("that view is closed")
            shown = {**view, "state": {"values": form_state(view, state or {})}}
            payload.update(container={"type": "view", "view_id": view_id}, view=shown)
        elif conversation is not None:
            channel = self._context(conversation)
            if ephemeral_ts is not None:
                url = self.slack.response_url(user=user_id, channel=channel, message_ts=ephemeral_ts)
                payload.update(
                    container={
                        "type": "message",
                        "message_ts": ephemeral_ts,
                        "channel_id": channel,
                        "is_ephemeral": True,
                    },
                    channel={"id": channel, "name": self._channel_name(channel)},
                    response_url=url,
                )
            else:
                message = self._message(channel, message_ts or "")
                url = self.slack.response_url(user=user_id, channel=channel, message_ts=message.ts)
                payload.update(
                    container={
                        "type": "message",
                        "message_ts": message.ts,
                        "channel_id": channel,
                        "is_ephemeral": False,
                    },
                    channel={"id": channel, "name": self._channel_name(channel)},
                    message={
                        "type": "message",
                        "ts": message.ts,
                        "text": message.text,
                        "blocks": message.blocks,
                    },
                    response_url=url,
                )
        reply = self.sender.post_payload(payload)
        if reply.status >= 400:
            raise PlaygroundError(f"the app answered HTTP {reply.status}")
        self.settle()

    # -- modals --------------------------------------------------------------------------------------

    def top_view(self, user_id: str) -> dict[str, Any] | None:
        stack = self.slack.modals.get(user_id) or []
        return self.slack.views.get(stack[-1]) if stack else None

    def submit(self, user_id: str, view_id: str, form: dict[str, str]) -> None:
        """Submit the modal on top of `user_id`'s stack with what the form holds."""
        view = self.slack.views.get(view_id)
        if view is None or view_id not in (self.slack.modals.get(user_id) or []):
            raise PlaygroundError("that modal is closed")
        payload = self._base(user_id, "view_submission")
        payload.update(
            trigger_id=self.slack.new_trigger(user_id),
            view={**view, "state": {"values": form_state(view, form)}},
            response_urls=[],
        )
        reply = self.sender.post_payload(payload)
        if reply.status >= 400:
            raise PlaygroundError(f"the app answered HTTP {reply.status}")
        body = reply.json() if reply.body else None
        self._apply_response_action(user_id, view_id, body if isinstance(body, dict) else {})
        self.settle()

    def _apply_response_action(self, user_id: str, view_id: str, body: dict[str, Any]) -> None:
        """Slack's response_action: errors stay on the form; update replaces the view; push adds
        one; clear closes them all; no answer closes this one."""
        stack = self.slack.modals.setdefault(user_id, [])
        action = body.get("response_action")
        self.errors.pop(view_id, None)
        with self.slack._lock:
            if action == "errors":
                self.errors[view_id] = dict(body.get("errors") or {})
            elif action == "update":
                self.slack._store_view(body["view"], self.slack.views[view_id])
            elif action == "push":
                stored = self.slack._store_view(body["view"])
                stack.append(stored["id"])
            elif action == "clear":
                stack.clear()
            elif view_id in stack:
                stack.remove(view_id)

    def close(self, user_id: str, view_id: str) -> None:
        view = self.slack.views.get(view_id)
        stack = self.slack.modals.get(user_id) or []
        if view_id in stack:
            stack.remove(view_id)
        if view is not None and view.get("notify_on_close"):
            payload = self._base(user_id, "view_closed")
            payload.update(view=view, is_cleared=False)
            self.sender.post_payload(payload)
        self.settle()

    def suggest(
        self, user_id: str, view_id: str, block_id: str, action_id: str, query: str
    ) -> list[dict[str, str]]:
        """What an external select offers for `query` (a block_suggestion request)."""
        view = self.slack.views.get(view_id)
        if view is None:
            return []
        payload = self._base(user_id, "block_suggestion")
        payload.update(
            container={"type": "view", "view_id": view_id},
            action_id=action_id,
            block_id=block_id,
            value=query,
            view=view,
        )
        reply = self.sender.post_payload(payload)
        body = reply.json() if reply.status == 200 and reply.body else {}
        options = list(body.get("options") or [])
        for group in body.get("option_groups") or []:
            options += group.get("options") or []
        return [{"text": o["text"]["text"], "value": o["value"]} for o in options]

    # -- the App Home ------------------------------------------------------------------------------

    def open_home(self, user_id: str) -> None:
        self.sender.event(
            {"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": "home"}
        )
        self.settle()

    # -- the clock -------------------------------------------------------------------------------

    def advance(self, step: str) -> datetime:
        """Move the demo's time: `hour`, `day`, `friday` (the next Friday 16:00, when the digest is
        posted) or `next` (hour by hour until the bot sends something, at most 8 days)."""
        now = self.now()
        if step == "hour":
            self.move_clock(now + timedelta(hours=1))
        elif step == "day":
            self.move_clock(now + timedelta(days=1))
        elif step == "friday":
            self.move_clock(next_friday_16(now, ZoneInfo(self.workspace_tz)))
        elif step == "next":
            before = self.outbox_size()
            at = now
            while at < now + NEXT_LIMIT:
                at = (at + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
                self.move_clock(at)
                if self.outbox_size() != before:
                    break
        else:
            raise PlaygroundError(f"no such step {step!r}")
        self.settle()
        return self.now()


def next_friday_16(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    days = (4 - local.weekday()) % 7
    target = (local + timedelta(days=days)).replace(hour=16, minute=0, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=7)
    return target.astimezone(UTC)


def form_state(view: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` as Slack builds it, from a form whose fields are named
    `state::<block_id>::<action_id>` (several values for a multi-select, as a list)."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id, action_id = block.get("block_id", ""), element.get("action_id", "")
        raw = form.get(f"state::{block_id}::{action_id}")
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        first = values[0] if values else None
        kind = element.get("type")
        entry: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input", "url_text_input", "email_text_input"):
            entry["value"] = first
        elif kind in ("static_select", "external_select", "radio_buttons"):
            entry["selected_option"] = _option(element, first, form.get(f"label::{block_id}::{action_id}"))
        elif kind in ("multi_static_select", "checkboxes"):
            entry["selected_options"] = [_option(element, v, None) for v in values]
        elif kind == "datepicker":
            entry["selected_date"] = first
        elif kind == "users_select":
            entry["selected_user"] = first
        elif kind == "multi_users_select":
            entry["selected_users"] = values
        elif kind == "conversations_select":
            entry["selected_conversation"] = first
        elif kind == "channels_select":
            entry["selected_channel"] = first
        else:
            continue
        state[block_id] = {action_id: entry}
    return state


def _option(element: dict[str, Any], value: Any, label: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        if option.get("value") == value:
            return option
    # an external select's option, chosen from the suggestions: Slack sends back its text and value
    return {"text": {"type": "plain_text", "text": str(label or value)}, "value": str(value)}

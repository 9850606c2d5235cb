"""A fake Slack Web API on loopback, spoken to over real HTTP by the real slack_sdk client.

It answers the methods Throughline calls the way Slack does (`ok`, `error`, channel ids, `ts`,
trigger ids that expire after 3 s, 429 with `Retry-After` when told to), validates every Block Kit
payload with slack_sdk's own models plus the limits slack_sdk leaves out (50 blocks a message,
unique block ids), hosts `response_url`s and file-upload URLs, and records every call so a test
can assert what a user would have seen.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
TEAM_ID = "T0FAKE"
BOT_USER = "U0BOT"
TRIGGER_TTL = 3.0
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")

# form fields Slack accepts as JSON strings
_JSON_FIELDS = {"blocks", "attachments", "view", "metadata", "files", "options", "users"}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class User:
    id: str
    name: str
    tz: str | None = "UTC"
    email: str | None = None
    deleted: bool = False
    is_admin: bool = False


@dataclass
class Channel:
    id: str
    name: str
    archived: bool = False
    member: bool = True


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    drop: bool = False


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions (chat.update)

    @property
    def visible(self) -> str:
        return visible_text({"text": self.text, "blocks": self.blocks})


class BlockKitError(Exception):
    pass


def visible_text(payload: dict[str, Any] | None) -> str:
    """All the text a person would read in a message or view: text, blocks, fields, buttons."""
    if not payload:
        return ""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                parts.append(node["text"])
                return
            for key, value in node.items():
                if key in (
                    "text",
                    "title",
                    "label",
                    "placeholder",
                    "fields",
                    "elements",
                    "accessory",
                    "blocks",
                    "options",
                    "option_groups",
                    "initial_option",
                    "submit",
                    "close",
                    "hint",
                    "element",
                    "confirm",
                ):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            parts.append(node)

    if payload.get("blocks"):
        walk(payload.get("blocks"))
    elif payload.get("text"):
        parts.append(payload["text"])
    if payload.get("title"):
        walk(payload["title"])
    return "\n".join(parts)


def validate_blocks(blocks: list[dict[str, Any]] | None, limit: int) -> None:
    """Raise BlockKitError if Slack would answer invalid_blocks."""
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise BlockKitError("blocks must be a list")
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks; Slack allows at most {limit}")
    seen: set[str] = set()
    for index, raw in enumerate(blocks):
        if not isinstance(raw, dict) or "type" not in raw:
            raise BlockKitError(f"block {index} has no type")
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in seen:
                raise BlockKitError(f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                raise BlockKitError(f"block {index}: unknown type {raw['type']!r}")
            parsed.to_dict()
        except BlockKitError:
            raise
        except Exception as exc:
            raise BlockKitError(f"block {index} ({raw.get('type')}): {exc}") from exc
        elements = raw.get("elements") if raw.get("type") == "actions" else None
        if elements:
            ids = [e.get("action_id") for e in elements if e.get("action_id")]
            if len(ids) != len(set(ids)):
                raise BlockKitError(f"block {index}: duplicate action_id")


def validate_view(view: dict[str, Any]) -> None:
    if not isinstance(view, dict):
        raise BlockKitError("view must be an object")
    if view.get("type") not in ("modal", "home"):
        raise BlockKitError(f"view type {view.get('type')!r}")
    validate_blocks(view.get("blocks") or [], VIEW_BLOCK_LIMIT)
    try:
        View(**view).to_dict()
    except Exception as exc:
        raise BlockKitError(f"view: {exc}") from exc
    if view.get("type") == "modal":
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            raise BlockKitError("a modal with inputs needs a submit button")


class FakeSlack:
    """Start with `FakeSlack().start()`; `url` is the Web API base URL (SLACK_API_URL)."""

    def __init__(
        self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN, team_id: str = TEAM_ID
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.limiter: Callable[[str, dict[str, Any]], float | None] | None = None
        self.latency: float = 0.0
        self.socket_url: str | None = None
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.base + "/api/"

    def reset(self) -> None:
        with self._lock:
            self.calls: list[Call] = []
            self.users: dict[str, User] = {}
            self.channels: dict[str, Channel] = {}
            self.messages: dict[str, list[Message]] = defaultdict(list)
            self.ephemerals: list[dict[str, Any]] = []
            self.views: dict[str, dict[str, Any]] = {}
            self.home: dict[str, dict[str, Any]] = {}
            self.responses: dict[str, list[dict[str, Any]]] = defaultdict(list)
            self.files: dict[str, dict[str, Any]] = {}
            self.invalid: list[tuple[str, str]] = []
            self._faults: dict[str, deque[Fault]] = defaultdict(deque)
            self._triggers: dict[str, float] = {}
            self.limiter = None
            self.latency = 0.0

    # -- the directory -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        tz: str | None = "UTC",
        email: str | None = None,
        deleted: bool = False,
        is_admin: bool = False,
    ) -> User:
        with self._lock:
            user = User(user_id, name or user_id.lower(), tz, email, deleted, is_admin)
            self.users[user_id] = user
            return user

    def add_channel(
        self, channel_id: str, name: str | None = None, *, archived: bool = False, member: bool = True
    ) -> Channel:
        with self._lock:
            channel = Channel(channel_id, name or channel_id.lower(), archived, member)
            self.channels[channel_id] = channel
            return channel

    def new_trigger(self) -> str:
        with self._lock:
            trigger = f"{next(self._ids)}.{int(time.time())}.fake{next(self._ids):08x}"
            self._triggers[trigger] = time.monotonic()
            return trigger

    def response_url(self) -> str:
        return f"{self.base}/respond/{next(self._ids)}"

    # -- fault injection -------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        drop: bool = False,
    ) -> None:
        """The next `times` calls of `method` fail: `status=429, retry_after=1` is a rate limit,
        `status=500` a server error, `error="channel_not_found"` an API error, `drop` a cut connection."""
        with self._lock:
            for _ in range(times):
                self._faults[method].append(Fault(status, error, retry_after, drop))

    # -- what was seen ---------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def posts(self, channel: str | None = None) -> list[Message]:
        """Messages posted (latest version), optionally to one channel or user's DM."""
        with self._lock:
            if channel is None:
                return [m for msgs in self.messages.values() for m in msgs]
            return list(self.messages.get(self._conversation(channel), []))

    def dms(self, user_id: str) -> list[Message]:
        return self.posts(user_id)

    def responses_all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for rs in self.responses.values() for r in rs]

    def views_opened(self, user_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c.response["view"]
                for c in self.calls
                if c.method in ("views.open", "views.push")
                and c.ok
                and (user_id is None or c.args.get("_user") in (None, user_id))
            ]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        """Wait until `predicate()` is truthy (checked after every call the fake answers)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fake Slack: timed out waiting for {what}")
                self._changed.wait(remaining)

    def wait_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        return self.wait_for(
            lambda: len(self.calls_to(method)) >= count and self.calls_to(method),
            timeout,
            f"{count} call(s) to {method}",
        )

    # -- the HTTP side -----------------------------------------------------------------------------

    def _conversation(self, channel: str) -> str:
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _record(self, method: str, args: dict[str, Any], response: dict[str, Any], status: int) -> None:
        with self._changed:
            self.calls.append(Call(method, args, response, status, time.time()))
            if response.get("error") in ("invalid_blocks", "invalid_arguments", "view_invalid"):
                self.invalid.append((method, str(response.get("detail"))))
            self._changed.notify_all()

    def handle_api(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            faults = self._faults.get(method)
            fault = faults.popleft() if faults else None
        if fault is not None:
            if fault.drop:
                raise ConnectionAbortedError("fault: dropped")
            body = {
                "ok": False,
                "error": fault.error or ("ratelimited" if fault.status == 429 else "internal_error"),
            }
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            self._record(method, args, body, fault.status)
            return fault.status, body, headers
        if self.limiter is not None:
            wait = self.limiter(method, args)
            if wait is not None:
                body = {"ok": False, "error": "ratelimited"}
                self._record(method, args, body, 429)
                return 429, body, {"Retry-After": str(max(1, int(wait + 0.999)))}
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            body = {"ok": False, "error": "invalid_auth" if token else "not_authed"}
            self._record(method, args, body, 200)
            return 200, body, {}
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            body = {"ok": False, "error": "unknown_method"}
        else:
            try:
                with self._lock:
                    body = handler(args)
            except BlockKitError as exc:
                body = {"ok": False, "error": "invalid_blocks", "detail": str(exc)}
            except KeyError as exc:
                body = {"ok": False, "error": "invalid_arguments", "detail": f"missing {exc}"}
        self._record(method, args, body, 200)
        return 200, body, {}

    def handle_response_url(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            validate_blocks(payload.get("blocks"), MESSAGE_BLOCK_LIMIT)
        except BlockKitError as exc:
            with self._changed:
                self.invalid.append(("response_url", str(exc)))
                self._changed.notify_all()
            return {"ok": False, "error": "invalid_blocks", "detail": str(exc)}
        with self._changed:
            self.responses[token].append(payload)
            self.calls.append(Call("response_url", payload, {"ok": True}, 200, time.time()))
            self._changed.notify_all()
        return {"ok": True}

    def handle_upload(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            record = self.files.get(file_id)
            if record is None:
                return False
            record["content"] = data
            return True

    # -- Web API methods ------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _target(self, channel: str) -> tuple[str | None, str | None]:
        """(conversation id, error) for posting to `channel`."""
        if channel[:1] in ("U", "W"):
            user = self.users.get(channel)
            if user is None:
                return None, "channel_not_found"
            if user.deleted:
                return None, "account_inactive"
            return self._conversation(channel), None
        if channel[:1] == "D":
            return channel, None
        found = self.channels.get(channel)
        if found is None:
            return None, "channel_not_found"
        if found.archived:
            return None, "is_archived"
        if not found.member:
            return None, "not_in_channel"
        return channel, None

    def _check_text(self, args: dict[str, Any]) -> None:
        if not args.get("text") and not args.get("blocks"):
            raise KeyError("text")
        if len(args.get("text") or "") > 40000:
            raise BlockKitError("msg_too_long")
        validate_blocks(args.get("blocks"), MESSAGE_BLOCK_LIMIT)

    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake Co",
            "user": "throughline",
            "team_id": self.team_id,
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
            "is_enterprise_install": False,
        }

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation, error = self._target(args["channel"])
        if error:
            return {"ok": False, "error": error}
        self._check_text(args)
        assert conversation is not None
        message = Message(
            conversation,
            self._next_ts(),
            args.get("text") or "",
            args.get("blocks"),
            args.get("metadata"),
            args.get("thread_ts"),
        )
        self.messages[conversation].append(message)
        return {
            "ok": True,
            "channel": conversation,
            "ts": message.ts,
            "message": {"text": message.text, "blocks": message.blocks, "ts": message.ts},
        }

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation, ts = args["channel"], args["ts"]
        for message in self.messages.get(conversation, []):
            if message.ts == ts:
                self._check_text(args)
                message.history.append({"text": message.text, "blocks": message.blocks})
                message.text = args.get("text") or ""
                message.blocks = args.get("blocks")
                return {"ok": True, "channel": conversation, "ts": ts, "text": message.text}
        return {"ok": False, "error": "message_not_found"}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        _, error = self._target(args["channel"])
        if error:
            return {"ok": False, "error": error}
        if args.get("user") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        self._check_text(args)
        ts = self._next_ts()
        self.ephemerals.append({**args, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args["channel"], args["message_ts"]
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args["users"]
        user = users[0] if isinstance(users, list) else str(users).split(",")[0]
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self._conversation(user)}}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = args["channel"]
        if (
            conversation not in self.messages
            and conversation not in self.channels
            and conversation[:1] != "D"
        ):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        include = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for message in reversed(self.messages.get(conversation, [])):
            if float(message.ts.split(".")[0]) + 1 < oldest:
                continue
            item = {"type": "message", "ts": message.ts, "text": message.text, "user": BOT_USER}
            if include and message.metadata:
                item["metadata"] = message.metadata
            found.append(item)
        found += self._file_shares(conversation, None, oldest)
        return {"ok": True, "messages": found, "has_more": False}

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent, the replies, and the files shared into it."""
        conversation, parent_ts = args["channel"], str(args["ts"])
        thread = [m for m in self.messages.get(conversation, []) if parent_ts in (m.ts, m.thread_ts)]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(args.get("oldest") or 0)
        found = [
            {"type": "message", "ts": m.ts, "text": m.text, "user": BOT_USER}
            for m in thread
            if m.ts == parent_ts or float(m.ts.split(".")[0]) + 1 >= oldest
        ]
        found += self._file_shares(conversation, parent_ts, oldest)
        return {"ok": True, "messages": found, "has_more": False}

    def _file_shares(self, conversation: str, thread_ts: str | None, oldest: float) -> list[dict[str, Any]]:
        return [
            {
                "type": "message",
                "subtype": "file_share",
                "ts": f["share_ts"],
                "user": BOT_USER,
                "files": [{"id": f["id"], "name": f["filename"], "title": f["title"]}],
            }
            for f in self.files.values()
            if f["completed"]
            and f["channel"] == conversation
            and f["thread_ts"] == thread_ts
            and float(f["share_ts"].split(".")[0]) + 1 >= oldest
        ]

    def _take_trigger(self, trigger_id: str | None) -> str | None:
        issued = self._triggers.pop(trigger_id or "", None)
        if issued is None:
            return "invalid_trigger_id"
        if time.monotonic() - issued > TRIGGER_TTL:
            return "expired_trigger_id"
        return None

    def _store_view(self, view: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        validate_view(view)
        view_id = previous["id"] if previous else f"V{next(self._ids):08d}"
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "state": {"values": {}},
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": None,
            "app_id": "A0FAKE",
            "bot_id": "B0BOT",
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
        }
        self.views[view_id] = stored
        return stored

    def api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._take_trigger(args.get("trigger_id"))
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "view": self._store_view(args["view"])}

    def api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.api_views_open(args)

    def api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        previous = None
        if args.get("view_id"):
            previous = self.views.get(args["view_id"])
        elif args.get("external_id"):
            previous = next(
                (v for v in self.views.values() if v.get("external_id") == args["external_id"]), None
            )
        if previous is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != previous["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(args["view"], previous)}

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args["user_id"]
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = args["view"]
        if view.get("type") != "home":
            raise BlockKitError("views.publish takes a home view")
        stored = self._store_view(view, self.home.get(user_id))
        self.home[user_id] = stored
        return {"ok": True, "view": stored}

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "real_name": user.name.title(),
            "deleted": user.deleted,
            "is_admin": user.is_admin,
            "is_bot": False,
            "tz": user.tz,
            "profile": {"email": user.email, "real_name": user.name.title(), "display_name": user.name},
        }

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args["user"])
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_json(user)}

    def api_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args["email"]).lower()
        for user in self.users.values():
            if (user.email or "").lower() == email:
                return {"ok": True, "user": self._user_json(user)}
        return {"ok": False, "error": "users_not_found"}

    def api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {
            "id": file_id,
            "filename": args["filename"],
            "length": int(args["length"]),
            "content": None,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"]
        done = []
        for item in files:
            record = self.files.get(item["id"])
            if record is None or record["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            if args.get("channel_id"):
                _, error = self._target(args["channel_id"])
                if error:
                    return {"ok": False, "error": error}
            record.update(
                completed=True,
                title=item.get("title"),
                channel=args.get("channel_id"),
                thread_ts=args.get("thread_ts"),
                comment=args.get("initial_comment"),
                share_ts=self._next_ts(),  # Slack shares the file as a message of its own
            )
            done.append({"id": record["id"], "title": item.get("title"), "name": record["filename"]})
        return {"ok": True, "files": done}

    def api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_url}


def _parse_args(content_type: str, raw: bytes, query: str) -> dict[str, Any]:
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
    if not raw:
        return args
    if "application/json" in content_type:
        args.update(json.loads(raw.decode("utf-8")))
        return args
    for key, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items():
        value: Any = values[-1]
        if key in _JSON_FIELDS and isinstance(value, str) and value[:1] in ("[", "{"):
            value = json.loads(value)
        args[key] = value
    return args


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
        ) -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = parts.path
            try:
                if path.startswith("/api/"):
                    auth = self.headers.get("Authorization") or ""
                    args = _parse_args(self.headers.get("Content-Type") or "", raw, parts.query)
                    token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
                    status, body, headers = fake.handle_api(path[len("/api/") :], args, token)
                    self._send(status, body, headers)
                elif path.startswith("/respond/"):
                    payload = json.loads(raw.decode("utf-8") or "{}")
                    self._send(200, fake.handle_response_url(path.rsplit("/", 1)[1], payload))
                elif path.startswith("/upload/"):
                    ok = fake.handle_upload(path.rsplit("/", 1)[1], raw)
                    self._send(200 if ok else 404, "OK - " + str(len(raw)) if ok else "not found")
                else:
                    self._send(404, {"ok": False, "error": "not_found"})
            except ConnectionAbortedError:
                self.close_connection = True
                self.connection.close()

        do_GET = do_POST

    return Handler


def broadcasts(texts: Iterable[str]) -> list[str]:
    """Broadcast mentions (`<!channel>`, `<!here>`, `<!everyone>`) found in posted text."""
    return [m.group(0) for text in texts for m in BROADCAST.finditer(text or "")]


class SlackRateLimits:
    """Slack's rate limits, as a `FakeSlack.limiter`: chat.postMessage about 1 a second per channel
    (short bursts allowed) under a workspace ceiling; Tier 3 methods (conversations.open/history/replies)
    about 50 a minute. Answers the seconds to wait (Retry-After) or None."""

    def __init__(
        self,
        *,
        workspace_per_second: float = 50,
        workspace_burst: int = 50,
        channel_per_second: float = 1,
        channel_burst: int = 3,
        tier3_per_minute: int = 50,
    ) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self.workspace = (workspace_per_second, workspace_burst)
        self.channel = (channel_per_second, channel_burst)
        self.tier3 = (tier3_per_minute / 60, max(1, tier3_per_minute // 10))
        self.limited = 0

    def _take(self, name: str, rate: float, burst: float, now: float) -> float | None:
        tokens, stamp = self._buckets.get(name, (burst, now))
        tokens = min(burst, tokens + (now - stamp) * rate)
        if tokens >= 1:
            self._buckets[name] = (tokens - 1, now)
            return None
        self._buckets[name] = (tokens, now)
        return (1 - tokens) / rate

    def __call__(self, method: str, args: dict[str, Any]) -> float | None:
        now = time.monotonic()
        with self._lock:
            wait = None
            if method in ("chat.postMessage", "chat.update"):
                # peek at both buckets first: a refused call must not spend either token
                channel = "channel:" + str(args.get("channel"))
                for name, (rate, burst) in (("workspace", self.workspace), (channel, self.channel)):
                    tokens, stamp = self._buckets.get(name, (burst, now))
                    tokens = min(burst, tokens + (now - stamp) * rate)
                    if tokens < 1:
                        wait = max(wait or 0.0, (1 - tokens) / rate)
                if wait is None:
                    self._take("workspace", *self.workspace, now)
                    self._take(channel, *self.channel, now)
            elif method in ("conversations.open", "conversations.history", "conversations.replies"):
                wait = self._take("tier3", *self.tier3, now)
            if wait is not None:
                self.limited += 1
            return wait

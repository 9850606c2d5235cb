"""A local Slack on loopback: the Web API the real slack_sdk client talks to over HTTP,
`response_url`s and file-upload URLs, with a directory of people and channels, and a record of
every call. The test suite and `throughline demo` both run on it."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.localslack.blockkit import MESSAGE_BLOCK_LIMIT, BlockKitError, validate_blocks
from bot.localslack.records import TEAM_ID, Call, Channel, Fault, Message, User
from bot.localslack.webapi import WebApi
from bot.localslack.workspaces import Workspaces

# the tokens this Slack accepts unless told others (it is no secret: it runs on loopback)
BOT_TOKEN = "xoxb-fake-bot-token"  # noqa: S105
APP_TOKEN = "xapp-fake-app-token"  # noqa: S105
__all__ = ["APP_TOKEN", "BOT_TOKEN", "TEAM_ID", "LocalSlack"]

# form fields Slack accepts as JSON strings
_JSON_FIELDS = {"blocks", "attachments", "view", "metadata", "files", "options", "users"}


class LocalSlack(Workspaces, WebApi):
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
        # seconds since the epoch for message `ts`: the wall clock, or the demo's clock
        self.clock: Callable[[], float] = time.time
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LocalSlack:
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
        return f"http://{host!s}:{port}"

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
            self._trigger_users: dict[str, str] = {}
            self.modals: dict[str, list[str]] = {}  # user -> their open modals, bottom first
            self._response_contexts: dict[str, dict[str, Any]] = {}
            self.limiter = None
            self.latency = 0.0
            # persistent faults: a function of the call (method, args) -> a Fault or None
            self.chaos: Callable[[str, dict[str, Any]], Fault | None] | None = None
            self._broken_channels: dict[tuple[str, str], str] = {}
            # the wall clock again: a clock a test moved (token expiry) must not stamp the next
            # test's messages in another year, where a lookup would not find them
            self.clock = time.time
            self._reset_workspaces()

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
        team: str | None = None,
    ) -> User:
        """A person, in the workspace `team` (the first one by default)."""
        with self._lock:
            user = User(user_id, name or user_id.lower(), tz, email, deleted, is_admin, team or self.team_id)
            self.users[user_id] = user
            return user

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        archived: bool = False,
        member: bool = True,
        team: str | None = None,
    ) -> Channel:
        with self._lock:
            channel = Channel(channel_id, name or channel_id.lower(), archived, member, team or self.team_id)
            self.channels[channel_id] = channel
            return channel

    def new_trigger(self, user: str | None = None) -> str:
        """A trigger id, valid for 3 s; with `user`, a modal it opens joins that user's stack."""
        with self._lock:
            trigger = f"{next(self._ids)}.{int(time.time())}.fake{next(self._ids):08x}"
            self._triggers[trigger] = time.monotonic()
            if user is not None:
                self._trigger_users[trigger] = user
            return trigger

    def response_url(
        self, *, user: str | None = None, channel: str | None = None, message_ts: str | None = None
    ) -> str:
        """A `response_url`; given where it was issued (who, which conversation, which message),
        what the app sends to it shows there, as in Slack: an ephemeral reply to `user`, a new
        message for everyone (`in_channel`), or the original message replaced or deleted."""
        token = str(next(self._ids))
        if user is not None and channel is not None:
            with self._lock:
                self._response_contexts[token] = {"user": user, "channel": channel, "message_ts": message_ts}
        return f"{self.base}/respond/{token}"

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
        after_store: bool = False,
        sleep: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` fail: `status=429, retry_after=1` is a rate limit,
        `status=500` a server error, `error="channel_not_found"` an API error, `drop` a cut connection,
        `sleep` seconds of silence first (past the client's timeout: a read timeout).

        With `after_store` the call is carried out first (the post is stored, the file shared) and
        only then does the answer fail, as Slack's does when it stored a message and then answered
        5xx, or the connection broke on the way back: the sender cannot tell whether it was sent.
        Slack documents that `internal_error` "may have partially succeeded"
        (https://api.slack.com/methods/chat.postMessage#errors)."""
        with self._lock:
            for _ in range(times):
                self._faults[method].append(Fault(status, error, retry_after, drop, after_store, sleep))

    def fail_channel(
        self, channel: str, error: str, methods: tuple[str, ...] = ("chat.postMessage",)
    ) -> None:
        """Every call of `methods` to `channel` answers `error` from now on (until `reset`), as a
        channel whose integration Slack refuses for a reason of its own does."""
        with self._lock:
            for method in methods:
                self._broken_channels[(method, channel)] = error

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

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        response: dict[str, Any],
        status: int,
        token: str | None = None,
    ) -> None:
        with self._changed:
            self.calls.append(Call(method, args, response, status, time.time(), token))
            if response.get("error") in ("invalid_blocks", "invalid_arguments", "view_invalid"):
                self.invalid.append((method, str(response.get("detail"))))
            self._changed.notify_all()

    def handle_api(
        self, method: str, args: dict[str, Any], token: str | None, authorization: str = ""
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            faults = self._faults.get(method)
            fault = faults.popleft() if faults else None
            broken = self._broken_channels.get((method, str(args.get("channel"))))
            if fault is None and broken is not None:
                fault = Fault(error=broken)
            if fault is None and self.chaos is not None:
                fault = self.chaos(method, args)
        if fault is not None and fault.after_store:
            status, body, headers = self._answer(method, args, token, authorization)
            if fault.sleep:
                time.sleep(fault.sleep)
            if fault.drop:
                raise ConnectionAbortedError("fault: dropped after storing")
            if fault.status == 200 and fault.error is None:
                return status, body, headers  # only slow: the answer comes, too late for the client
            body = {"ok": False, "error": fault.error or "internal_error"}
            return fault.status, body, {}
        if fault is not None:
            if fault.sleep:
                time.sleep(fault.sleep)
            if fault.drop:
                raise ConnectionAbortedError("fault: dropped")
            body = {
                "ok": False,
                "error": fault.error or ("ratelimited" if fault.status == 429 else "internal_error"),
            }
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            self._record(method, args, body, fault.status, token)
            return fault.status, body, headers
        if self.limiter is not None:
            wait = self.limiter(method, args)
            if wait is not None:
                body = {"ok": False, "error": "ratelimited"}
                self._record(method, args, body, 429, token)
                return 429, body, {"Retry-After": str(max(1, int(wait + 0.999)))}
        return self._answer(method, args, token, authorization)

    def _refusal(
        self, method: str, args: dict[str, Any], token: str | None, authorization: str
    ) -> tuple[str | None, Any]:
        """(the error Slack answers for this call's credentials, or None; the token's grant).

        Every token acts in its own workspace (or, org-wide, its enterprise's): a call naming a
        user or conversation of another is refused as Slack does, as if it did not exist."""
        if method == "apps.connections.open":
            return (None if token == self.app_token else "invalid_auth" if token else "not_authed"), None
        if method == "oauth.v2.access":
            return (None if self.client_credentials(authorization, args) else "invalid_client"), None
        with self._lock:
            grant, error = self._grant_for(token)
            if grant is not None:
                error = self.crossed_call(method, args, grant)
        return error, grant

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None, authorization: str = ""
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        error, grant = self._refusal(method, args, token, authorization)
        if error is not None:
            body = {"ok": False, "error": error}
            self._record(method, args, body, 200, token)
            return 200, body, {}
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            body = {"ok": False, "error": "unknown_method"}
        else:
            try:
                with self._lock:
                    body = handler(args, grant) if method == "auth.test" else handler(args)
            except BlockKitError as exc:
                body = {"ok": False, "error": "invalid_blocks", "detail": str(exc)}
            except KeyError as exc:
                body = {"ok": False, "error": "invalid_arguments", "detail": f"missing {exc}"}
        self._record(method, args, body, 200, token)
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
            context = self._response_contexts.get(token)
            if context is not None:
                self._show_response(context, payload)
            self._changed.notify_all()
        return {"ok": True}

    def _show_response(self, context: dict[str, Any], payload: dict[str, Any]) -> None:
        channel = self._conversation(context["channel"])
        original = next(
            (m for m in self.messages.get(channel, []) if m.ts == context.get("message_ts")), None
        )
        if payload.get("delete_original") and original is not None:
            self.messages[channel].remove(original)
            return
        if payload.get("replace_original") and original is not None:
            original.history.append({"text": original.text, "blocks": original.blocks})
            original.text = payload.get("text") or ""
            original.blocks = payload.get("blocks")
            return
        if payload.get("replace_original"):  # the original was itself ephemeral: replace it
            self.ephemerals[:] = [
                e
                for e in self.ephemerals
                if not (e.get("user") == context["user"] and e.get("message_ts") == context.get("message_ts"))
            ]
        if payload.get("response_type") == "in_channel":
            self.messages[channel].append(
                Message(
                    channel, self._next_ts(), payload.get("text") or "", payload.get("blocks"), None, None
                )
            )
            return
        self.ephemerals.append(
            {
                "channel": channel,
                "user": context["user"],
                "text": payload.get("text") or "",
                "blocks": payload.get("blocks"),
                "message_ts": self._next_ts(),
            }
        )

    def handle_upload(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            record = self.files.get(file_id)
            if record is None:
                return False
            record["content"] = data
            return True

    # -- Web API methods ------------------------------------------------------------------------


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


def _make_handler(fake: LocalSlack) -> type[BaseHTTPRequestHandler]:
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

        def _redirect(self, query: str) -> None:
            try:
                location = fake.authorize_redirect(query)
            except ValueError as exc:
                self._send(400, f"Slack could not install the app: {exc}")
                return
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = parts.path
            try:
                if path == "/oauth/v2/authorize":
                    self._redirect(parts.query)
                elif path.startswith("/api/"):
                    auth = self.headers.get("Authorization") or ""
                    args = _parse_args(self.headers.get("Content-Type") or "", raw, parts.query)
                    bearer = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
                    token = bearer or args.pop("token", None)
                    status, body, headers = fake.handle_api(path[len("/api/") :], args, token, auth)
                    self._send(status, body, headers)
                elif path.startswith("/respond/"):
                    payload = json.loads(raw.decode("utf-8") or "{}")
                    self._send(200, fake.handle_response_url(path.rsplit("/", 1)[1], payload))
                elif path.startswith("/upload/"):
                    ok = fake.handle_upload(path.rsplit("/", 1)[1], raw)
                    self._send(200 if ok else 404, "OK - " + str(len(raw)) if ok else "not found")
                else:
                    self._send(404, {"ok": False, "error": "not_found"})
            except (ConnectionAbortedError, BrokenPipeError, ConnectionResetError):
                # a dropped connection (a fault), or a client that gave up waiting (a timeout)
                self.close_connection = True
                self.connection.close()

        do_GET = do_POST

    return Handler

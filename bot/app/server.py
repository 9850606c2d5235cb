"""HTTP mode: one WSGI application serving Slack's requests and a health check."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

from bot.slack.deadline import ARRIVED_AT
from bot.trackers.handlers.webhooks import PATHS as WEBHOOK_PATHS
from bot.trackers.handlers.webhooks import Webhooks
from storage.db import Database

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"

# The largest body we read. Slack's own payloads are small: the biggest is a view_submission
# carrying a whole modal's state (up to 100 blocks of input), tens of KiB; a message is at most
# 40,000 characters. 1 MiB is generous, and bounds what an unsigned request can make us read:
# bolt reads and parses the whole body before it checks the signature.
MAX_BODY = 1024 * 1024
_READ_CHUNK = 64 * 1024


class _Refused(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def read_body(environ: dict[str, Any], limit: int = MAX_BODY) -> bytes:
    """The request body, at most `limit` bytes; raises _Refused (413) before reading a body whose
    CONTENT_LENGTH says it is larger, and stops reading one of unknown length past the limit."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise _Refused("400 Bad Request", "bad Content-Length") from None
        if length < 0:
            raise _Refused("400 Bad Request", "bad Content-Length")
        if length > limit:
            raise _Refused("413 Content Too Large", f"body over {limit} bytes")
        return stream.read(length) if stream is not None and length else b""
    if stream is None:
        return b""
    # no length given (a server that passes chunked bodies through): read in chunks, one byte past
    # the limit at most
    parts, size = [], 0
    while size <= limit:
        part = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise _Refused("413 Content Too Large", f"body over {limit} bytes")
    return b"".join(parts)


class _GuardedHandler(SlackRequestHandler):
    """bolt's WSGI handler, refusing with 400 a body bolt cannot parse. bolt parses the body into a
    request (and its context) before any middleware, the signature check included, runs: bytes that
    are not UTF-8, JSON that is not an object (`[1]`, a `payload=` field holding a list), or an
    object whose fields have the wrong types (`{"team": 5}`) raise there and became a 500."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(
                body=request.get_body(), query=request.query_string, headers=request.get_headers()
            )
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            # ValueError covers UnicodeDecodeError and json's JSONDecodeError
            log.info("refused a malformed request body: %s", type(exc).__name__)
            return BoltResponse(status=400, body="malformed request body")
        arrived = request.environ.get(ARRIVED_AT)
        if isinstance(arrived, float):
            bolt_request.context[ARRIVED_AT] = arrived
        return self.app.dispatch(bolt_request)


class ThroughlineWSGI:
    """`POST /slack/events` for commands, interactivity, options and events (signed, 5-minute
    replay window: bolt answers 401 otherwise); `POST /webhooks/github` and `/webhooks/jira` for
    the trackers' webhooks (signed too, bot.trackers.handlers.webhooks); `GET /healthz` answers
    200 if the database does;
    `GET /livez` 200 while the process runs; `GET /readyz` 200 once `readiness` says ready (Slack
    and the database answer), else 503 with the reasons."""

    def __init__(
        self, app: App, db: Database, readiness: Callable[[], tuple[bool, dict[str, str]]] | None = None
    ) -> None:
        self.slack = _GuardedHandler(app, path=EVENTS_PATH)
        self.db = db
        services = getattr(app, "services", None)  # set by create_app
        self.webhooks = Webhooks(services) if services is not None else None
        self.readiness = readiness

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # Slack's 3 s run from here: the Slack calls made while answering get what is left
        environ[ARRIVED_AT] = time.monotonic()
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        if environ.get("PATH_INFO") in PROBES and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return PROBES[environ["PATH_INFO"]](self, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                body = read_body(environ)
            except _Refused as refused:
                return _plain(start_response, refused.status, refused.reason)
            if environ.get("PATH_INFO") in WEBHOOK_PATHS and self.webhooks is not None:
                status, text = self.webhooks.receive(environ["PATH_INFO"], _headers(environ), body)
                return _plain(start_response, status, text)
            # bolt reads CONTENT_LENGTH bytes from wsgi.input: hand it the bytes already read
            environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return self.slack(environ, start_response)

    def _live(self, start_response: Any) -> Iterable[bytes]:
        return _json(start_response, "200 OK", {"ok": True})

    def _ready(self, start_response: Any) -> Iterable[bytes]:
        ready, reasons = self.readiness() if self.readiness is not None else (True, {})
        if ready:
            return _json(start_response, "200 OK", {"ok": True})
        return _json(start_response, "503 Service Unavailable", {"ok": False, "not_ready": reasons})

    def _health(self, start_response: Any) -> Iterable[bytes]:
        try:
            self.db.ping()
        except Exception as exc:
            log.warning("health check: database unavailable: %s", exc)
            status, body = "503 Service Unavailable", {"ok": False, "database": "unavailable"}
        else:
            status, body = "200 OK", {"ok": True, "database": "ok"}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers, named in lower case (`x-hub-signature-256`)."""
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers


def _plain(start_response: Any, status: str, text: str) -> Iterable[bytes]:
    data = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]


PROBES: dict[str, Callable[[ThroughlineWSGI, Any], Iterable[bytes]]] = {
    "/livez": ThroughlineWSGI._live,
    "/readyz": ThroughlineWSGI._ready,
}


def _json(start_response: Any, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make_server(wsgi: Callable[..., Iterable[bytes]], host: str, port: int, threads: int) -> Any:
    """A waitress server (pure-Python, production-grade); `.run()` serves, `.close()` stops.

    waitress buffers a whole body before the application sees it (1 GiB by default): it answers 413
    itself to a Content-Length over MAX_BODY, and stops a chunked body there."""
    from waitress.server import create_server

    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        ident="throughline",
        clear_untrusted_proxy_headers=True,
        # waitress refuses a body of max_request_body_size bytes or more
        max_request_body_size=MAX_BODY + 1,
    )

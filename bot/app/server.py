"""HTTP mode: one WSGI application serving Slack's requests and a health check."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from storage.db import Database

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


class ThroughlineWSGI:
    """`POST /slack/events` for commands, interactivity, options and events (signed, 5-minute
    replay window: bolt answers 401 otherwise); `GET /healthz` answers 200 if the database does;
    `GET /livez` 200 while the process runs; `GET /readyz` 200 once `readiness` says ready (Slack
    and the database answer), else 503 with the reasons."""

    def __init__(
        self, app: App, db: Database, readiness: Callable[[], tuple[bool, dict[str, str]]] | None = None
    ) -> None:
        self.slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self.db = db
        self.readiness = readiness

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        if environ.get("PATH_INFO") in PROBES and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return PROBES[environ["PATH_INFO"]](self, start_response)
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


PROBES: dict[str, Callable[[ThroughlineWSGI, Any], Iterable[bytes]]] = {
    "/livez": ThroughlineWSGI._live,
    "/readyz": ThroughlineWSGI._ready,
}


def _json(start_response: Any, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make_server(wsgi: Callable[..., Iterable[bytes]], host: str, port: int, threads: int) -> Any:
    """A waitress server (pure-Python, production-grade); `.run()` serves, `.close()` stops."""
    from waitress.server import create_server

    return create_server(
        wsgi, host=host, port=port, threads=threads, ident="throughline", clear_untrusted_proxy_headers=True
    )

"""A small JSON-over-HTTP server on loopback, shared by the local Jira and the local GitHub: routes,
a record of every call, and faults a test queues (a 429 with Retry-After, a 503, a slow answer)."""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    after_store: bool = False  # a fault: the request is carried out first, then this is the answer
    only: str = ""  # a fault: for the next request whose path contains this


class Loopback(ABC):
    """Subclasses answer `route(method, path, query, headers, body) -> Answer`."""

    name = "loopback"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.calls: list[Call] = []
        self.faults: deque[Answer] = deque()
        self.latency = 0.0

    def start(self) -> Loopback:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=f"local-{self.name}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() it first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(
        self, status: int, body: Any = None, *, after_store: bool = False, only: str = "", **headers: str
    ) -> None:
        """The next request (whose path contains `only`) gets this answer instead (e.g. 429 with
        Retry-After="30"). With `after_store` it is carried out first (a comment is stored) and only
        the answer fails, as when a server stores and then answers 5xx, or the connection breaks on
        the way back."""
        with self._lock:
            self.faults.append(
                Answer(status, body if body is not None else {}, dict(headers), after_store, only)
            )

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
            self.latency = 0.0

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        with self._lock:
            self.calls.append(Call(method, parts.path, query, headers, body))
            fault = next((f for f in self.faults if f.only in parts.path), None)
            if fault is not None:
                self.faults.remove(fault)
        if self.latency:
            time.sleep(self.latency)
        if fault is not None and not fault.after_store:
            return fault
        with self._lock:
            answer = self.route(method, parts.path, query, headers, body)
        return fault if fault is not None else answer

    @abstractmethod
    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes = b""
    ) -> Answer:
        """The answer to one request (the faults aside)."""


def _handler(owner: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = owner.answer(method, self.path, headers, body)
            data = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler

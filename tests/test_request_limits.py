"""The HTTP door reads little before the signature: an oversized body is refused with 413 before it
is read, and a body bolt cannot parse gets a 4xx, never a 500."""

from __future__ import annotations

import io
import json
import select
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest

from bot.app.server import EVENTS_PATH, MAX_BODY, ThroughlineWSGI
from tests.conftest import Rig

MiB = 1024 * 1024


def _rss_bytes() -> int:
    # the app's server runs in this process (the rig's waitress thread): its memory is ours
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class _PeakRSS:
    """Samples this process's resident memory every 5 ms while the block runs."""

    def __enter__(self) -> _PeakRSS:
        self.before = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _send_big(url: str, size: int) -> tuple[int, float]:
    """POST `size` bytes of unsigned JSON; (the status the server answered, seconds taken)."""
    where = urlparse(url)
    started = time.monotonic()
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        head = (
            f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n"
        ).encode()
        sock.sendall(head + b"{")
        chunk, sent, answer = b" " * MiB, 1, b""
        # send the body a MiB at a time, looking for an answer in between: the server may answer
        # and close long before the body is sent (reading then could meet a reset and lose it)
        while not answer:
            if select.select([sock], [], [], 0)[0]:
                answer = sock.recv(200)
                break
            if sent >= size:
                answer = sock.recv(200)
                break
            try:
                sock.sendall(chunk[: size - sent])
            except (BrokenPipeError, ConnectionResetError):
                answer = sock.recv(200)
                break
            sent += min(len(chunk), size - sent)
    status = int(answer.split(b" ", 2)[1])
    return status, time.monotonic() - started


def test_a_50_mib_unsigned_body_gets_413_without_the_memory_to_hold_it(rig: Rig) -> None:
    _send_big(rig.url, 2 * MiB)  # warm up the server's threads and buffers
    with _PeakRSS() as memory:
        status, seconds = _send_big(rig.url, 50 * MiB)
    grown = memory.peak - memory.before
    print(f"50 MiB body: {status} in {seconds:.2f} s, RSS grew {grown / MiB:.2f} MiB at peak")
    assert status == 413
    assert grown < 10 * MiB


def test_a_body_at_the_limit_is_read_and_checked(rig: Rig) -> None:
    body = b"{" + b" " * (MAX_BODY - 2) + b"}"
    assert rig.slack.post(body, "application/json", sign_request=False).status == 401
    assert _send_big(rig.url, MAX_BODY + 1)[0] == 413


# -- a body without a length (a server that passes a chunked body through) --------------------------


class _Endless(io.RawIOBase):
    def __init__(self) -> None:
        self.served = 0

    def read(self, size: int = -1) -> bytes:
        n = 65536 if size is None or size < 0 else size
        self.served += n
        return b" " * n


def test_a_body_of_unknown_length_is_read_no_further_than_the_limit(rig: Rig) -> None:
    stream = _Endless()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": EVENTS_PATH, "wsgi.input": stream}
    statuses: list[str] = []
    ThroughlineWSGI(rig.runtime.app, rig.db)(environ, lambda status, headers: statuses.append(status))
    assert statuses and statuses[0].startswith("413")
    assert stream.served == MAX_BODY + 1


# -- malformed bodies ------------------------------------------------------------------------------

FORM, JSON = "application/x-www-form-urlencoded", "application/json"
MALFORMED: dict[str, tuple[bytes, str]] = {
    "a JSON list": (b"[1, 2]", "application/json"),
    "a JSON string": (b'"event_callback"', "application/json"),
    "JSON null": (b"null", "application/json"),
    "broken JSON": (b'{"type": ', "application/json"),
    "a field of the wrong type": (json.dumps({"type": "event_callback", "team": 5}).encode(), JSON),
    "authorizations not a list of objects": (json.dumps({"authorizations": [5]}).encode(), JSON),
    "a payload= field holding a list": (urlencode({"payload": "[1]"}).encode(), FORM),
    "a payload= field holding a string": (urlencode({"payload": '"x"'}).encode(), FORM),
    "a payload= field that is not JSON": (urlencode({"payload": "{nope"}).encode(), FORM),
    "bytes that are not UTF-8": (b"command=%2Finitiative&text=\xff\xfe", FORM),
    "JSON bytes that are not UTF-8": (b'{"type": "\xc3\x28"}', "application/json"),
}


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_body_gets_a_4xx(rig: Rig, shape: str, signed: bool) -> None:
    body, content_type = MALFORMED[shape]
    reply = rig.slack.post(body, content_type, sign_request=signed)
    assert 400 <= reply.status < 500, (reply.status, reply.body)
    # and the door still answers what Slack sends
    assert rig.slack.command("/initiative", "", user="U0ALICE").status == 200

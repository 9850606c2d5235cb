"""Socket Mode (`throughline run`): requests arrive over a WebSocket, are acknowledged on it, and a
dropped connection is re-established by itself."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from bot.app.runtime import Runtime
from bot.core.clock import FixedClock
from tests.conftest import make_settings
from tests.slackfake import APP_TOKEN, FakeSlack


class FakeSocketMode:
    """Slack's Socket Mode endpoint: says hello, pushes envelopes, collects acks, can drop the line."""

    def __init__(self) -> None:
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connections: queue.Queue[ServerConnection] = queue.Queue()
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake"

    def _session(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                }
            )
        )
        self.connections.put(connection)
        try:
            for message in connection:
                self.acks.put(json.loads(message))
        except Exception:  # the test dropped this connection
            return

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def socket_server(fake: FakeSlack) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode()
    fake.socket_url = server.url
    yield server
    fake.socket_url = None
    server.stop()


def slash_envelope(envelope_id: str, text: str = "") -> str:
    return json.dumps(
        {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "token": "x",
                "team_id": "T0FAKE",
                "team_domain": "fake",
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": "U0ALICE",
                "user_name": "alice",
                "command": "/initiative",
                "text": text,
                "api_app_id": "A0FAKE",
                "response_url": "http://127.0.0.1:9/unused",
                "trigger_id": "1.2.3",
            },
        }
    )


def test_commands_over_the_socket_and_reconnect_after_a_drop(
    fake: FakeSlack, socket_server: FakeSocketMode, database_url: str, clock: FixedClock
) -> None:
    settings = make_settings(fake, database_url, slack_app_token=APP_TOKEN, slack_signing_secret=None)
    runtime = Runtime(settings, clock=clock)
    handler = runtime.socket_mode_handler(ping_interval=0.5)
    handler.connect()
    try:
        first = socket_server.connections.get(timeout=10)
        first.send(slash_envelope("env-1"))
        ack = socket_server.acks.get(timeout=10)
        assert ack["envelope_id"] == "env-1"
        assert "no initiatives yet" in ack["payload"]["text"]

        first.close()  # the line drops; the client must come back on a new URL by itself
        second = socket_server.connections.get(timeout=15)
        second.send(slash_envelope("env-2", "help"))
        ack = socket_server.acks.get(timeout=10)
        assert ack["envelope_id"] == "env-2"
        assert "/initiative okr O1" in json.dumps(ack["payload"])
        assert len(fake.calls_to("apps.connections.open")) >= 2
    finally:
        handler.close()
        runtime.stop()

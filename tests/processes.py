"""Throughline as separate processes (`throughline serve`), for replica and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import SIGNING_SECRET
from tests.slackfake import BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("THROUGHLINE_", "SLACK_")) and k != "DATABASE_URL"
    }
    base["PYTHONPATH"] = str(ROOT)
    base.update(extra or {})
    return base


class Server:
    """One `throughline serve` process with its scheduler, talking to the fake Slack."""

    def __init__(self, fake: FakeSlack, database_url: str, log: Path, **settings: str) -> None:
        self.port = free_port()
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.url,
            "DATABASE_URL": database_url,
            "THROUGHLINE_LOG_LEVEL": "WARNING",
            **settings,
        }
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=clean_env(env),
            cwd=ROOT,
            stdout=self._log,
            stderr=self._log,
        )

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError("serve did not become healthy")

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, exactly as a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if not self._log.closed:
            self._log.close()

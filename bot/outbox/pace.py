"""Pacing what the bot sends to Slack's rate limits: one token bucket per process, and a pause for
every sender when Slack answers 429 anyway."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any


class Pace:
    """Paces what the bot sends to Slack's workspace ceiling: a token bucket of `rate` messages a
    second with bursts of `burst`, and, when Slack answers 429 anyway, a pause for its Retry-After
    (every sender waits, since the limit is the workspace's). One per process, thread-safe.

    Real time on purpose: rate limits are about seconds on the wall, not the domain's clock."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._stamp = monotonic()
        self._paused_until = 0.0

    def acquire(self) -> float:
        """Take one token, waiting for it; returns how long it waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._monotonic()
                if now > self._stamp:
                    self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                    self._stamp = now
                if now >= self._paused_until and self._tokens >= 1 - 1e-9:  # float dust is a token
                    self._tokens = max(0.0, self._tokens - 1)
                    return waited
                delay = max(self._paused_until - now, (1 - self._tokens) / self.rate, 1e-6)
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Slack said 429: nobody sends for `seconds`, and the bucket starts empty after."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._monotonic() + seconds)
            self._tokens = 0.0
            self._stamp = max(self._stamp, self._paused_until)  # refilling starts when the pause ends


UNPACED = Pace(rate=1e9, burst=1_000_000)
RATE_LIMIT_RETRIES = 3  # 429s in a row for one message before it is rescheduled instead


def retry_after(headers: Any) -> timedelta:
    """How long a 429 asks us to wait: its Retry-After header, or 30 s if it gave none."""
    value = _header(headers, "Retry-After")
    return timedelta(seconds=int(value) if value and value.isdigit() else 30)


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else str(value)
    return None

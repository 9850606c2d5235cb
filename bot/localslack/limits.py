"""Slack's rate limits (https://api.slack.com/apis/rate-limits), as a limiter the local Slack asks
before it answers a call."""

from __future__ import annotations

import threading
import time
from typing import Any


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

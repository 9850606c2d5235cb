"""The hostile-input checker itself: it must catch live injections and ignore literal text."""

from __future__ import annotations

from bot.core import mrkdwn
from tests.hostile import INJECTIONS, live_injections


def test_raw_injection_in_message_text_is_caught() -> None:
    assert live_injections({"text": "hi <!channel>"}) == ["<!channel>"]
    assert live_injections(
        {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<@UEVIL0001>"}}]}
    )


def test_escaped_or_plain_text_is_not_live() -> None:
    escaped = mrkdwn.escape(" ".join(INJECTIONS))
    assert live_injections({"text": escaped}) == []
    plain = {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "<!channel>"}}]}
    assert live_injections(plain) == []

"""Hostile user text, and the check that none of it came back out of the app as live mrkdwn."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

from tests.slackfake import FakeSlack

# Things a user could type to ping everyone, impersonate a mention or disguise a link. The app
# never produces these on its own (no cast member is UEVIL, no link goes to evil.example).
INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0EVIL|@everyone>",
    "<@UEVIL0001>",
    "<#CEVIL0001>",
    "<https://evil.example/login|Reset your password>",
    "<http://evil.example>",
    "&lt;!channel&gt;",
    "*bold* _it_ ~s~ `code` ```block```",
    "> quoted\n• bullet",
    "'; DROP TABLE initiative; --",
    "{{ 7*7 }} {% raw %}",
    "\u202eevil\u202c",
    "😀 ünïcødé ✓",
]
_LIVE = re.compile(
    r"<!(?:channel|here|everyone|subteam)[^>]*>|<@UEVIL|<#CEVIL|<https?://evil\.example",
)


def hostile_text(min_size: int = 0, max_size: int = 200) -> st.SearchStrategy[str]:
    """Random text salted with injections: what the app must take without breaking or echoing live."""
    pieces = st.one_of(
        st.sampled_from(INJECTIONS),
        st.text(min_size=0, max_size=40),
        st.text(alphabet=st.sampled_from("<>&|!@#*_~`\n \t"), max_size=20),
    )
    return (
        st.lists(pieces, max_size=6)
        .map("".join)
        .map(lambda s: s[:max_size])
        .filter(lambda s: len(s) >= min_size)
    )


def mrkdwn_strings(payload: Any) -> list[str]:
    """The strings Slack parses as mrkdwn: a message's top-level `text` and every `mrkdwn` text
    object (plain_text objects, input values and option labels are shown literally)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and node[:1] in "[{":
            try:  # blocks or a view sent as a JSON string in a form field
                walk(json.loads(node))
            except ValueError:
                pass

    if isinstance(payload, dict):
        if isinstance(payload.get("text"), str) and payload.get("mrkdwn", True) is not False:
            found.append(payload["text"])
        walk({k: v for k, v in payload.items() if k != "text"})
    else:
        walk(payload)
    return found


def live_injections(payload: Any) -> list[str]:
    """Broadcasts, mentions and links from the hostile set that would be live in Slack."""
    return [hit for text in mrkdwn_strings(payload) for hit in _LIVE.findall(text)]


def assert_nothing_live(fake: FakeSlack) -> None:
    """Every message, update, ephemeral reply, response_url post and view the app sent is clean."""
    found: list[str] = []
    for call in fake.calls:
        if call.method in (
            "auth.test",
            "users.info",
            "users.lookupByEmail",
            "conversations.open",
            "conversations.history",
            "chat.getPermalink",
        ):
            continue
        found += live_injections(call.args)
    assert not found, f"user text came back live: {found[:5]}"

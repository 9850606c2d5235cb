"""The local Slack the suite runs on (bot/localslack), under the names the tests use.

The `fake` fixture (tests/conftest.py) adds the tests' own check on top: a test fails if the app
ever sent Slack an invalid payload.
"""

from __future__ import annotations

from bot.localslack.blockkit import (
    BROADCAST,
    MESSAGE_BLOCK_LIMIT,
    VIEW_BLOCK_LIMIT,
    BlockKitError,
    broadcasts,
    validate_blocks,
    validate_view,
    visible_text,
)
from bot.localslack.limits import SlackRateLimits
from bot.localslack.records import Call, Channel, Fault, Message, User
from bot.localslack.server import APP_TOKEN, BOT_TOKEN, TEAM_ID, LocalSlack
from bot.localslack.webapi import BOT_USER, TRIGGER_TTL

FakeSlack = LocalSlack

__all__ = [
    "APP_TOKEN",
    "BOT_TOKEN",
    "BOT_USER",
    "BROADCAST",
    "MESSAGE_BLOCK_LIMIT",
    "TEAM_ID",
    "TRIGGER_TTL",
    "VIEW_BLOCK_LIMIT",
    "BlockKitError",
    "Call",
    "Channel",
    "FakeSlack",
    "Fault",
    "Message",
    "SlackRateLimits",
    "User",
    "broadcasts",
    "validate_blocks",
    "validate_view",
    "visible_text",
]

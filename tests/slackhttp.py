"""Requests to the app exactly as Slack sends them (bot/localslack/sender), under the names the tests use."""

from __future__ import annotations

from bot.localslack.sender import Reply, SlackHTTP, find_action, sign, state_values

__all__ = ["Reply", "SlackHTTP", "find_action", "sign", "state_values"]

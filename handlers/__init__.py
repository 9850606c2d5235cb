"""Slack edges: bolt listeners that parse a payload, ack fast, call the domain, render a view.

No SQL and no business rule lives here.
"""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services


def register_all(app: App, services: Services) -> None:
    from handlers import errors, initiative

    errors.register(app, services)
    initiative.register(app, services)

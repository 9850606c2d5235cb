"""Slack edges: bolt listeners that parse a payload, ack fast, call the domain, render a view.

No SQL and no business rule lives here.
"""

from __future__ import annotations

from slack_bolt import App

from bot.core.services import Services


def register_all(app: App, services: Services) -> None:
    """Register every handler module. Order matters where several modules listen to one slash
    command: a module handling one form of it (`/initiative queue`, with a `matchers=` predicate)
    must come before the module that answers every other form."""
    from bot.checkins import handlers as checkins
    from bot.dependencies import handlers as dependencies
    from bot.digest import handlers as digest
    from bot.escalation import handlers as escalation
    from bot.home import handlers as home
    from bot.intake import handlers as intake
    from bot.okrs import handlers as okr
    from bot.slack import errors
    from bot.status import handlers as initiative

    modules = [
        errors,  # the error handler and the retry middleware
        home,  # the App Home tab and the admin settings
        checkins,  # `/checkin`, check-in answers, the Update modal, user_change
        dependencies,  # "Add a dependency" from anywhere
        escalation,  # the ladder's buttons and modals; `/initiative stalled`
        digest,  # `/okr digest`: before the `/okr` catch-all
        okr,  # `/okr` catch-all (list/search, add, archive): after any module answering one `/okr` form
        intake,  # `/request`, shortcuts, triage, and `/initiative queue`
        initiative,  # `/initiative` catch-all: keep last among /initiative listeners
    ]
    for module in modules:
        module.register(app, services)

"""The Slack edge, assembled: every capability's listeners, the slash-command routers, and the
error handler. Each Slack request has exactly one listener, so the order below does not matter."""

from __future__ import annotations

from slack_bolt import App

from bot.checkins import handlers as checkins
from bot.core.services import Services
from bot.dependencies import handlers as dependencies
from bot.escalation import handlers as escalation
from bot.home import handlers as home
from bot.intake import handlers as intake
from bot.okrs import handlers as okrs
from bot.slack import commands, deadline, errors, installs
from bot.status import handlers as status
from bot.trackers import handlers as trackers


def register_all(app: App, services: Services) -> None:
    modules = [
        errors,  # the error handler and the retry middleware
        commands,  # /initiative and /okr, each parsed once and routed to the capability answering it
        home,  # the App Home tab and the admin settings
        checkins,  # /checkin, check-in answers, the Update modal, user_change
        dependencies,  # "Add a dependency", renegotiate and mark met (also from escalation posts)
        escalation,  # the ladder's buttons and modals
        okrs,  # the /okr add modal
        intake,  # /request, shortcuts, triage
        status,  # the status card's buttons
        trackers,  # "Link work" and its modal (the webhooks come in beside /slack/events)
        installs,  # OAuth mode: uninstalls, revoked tokens, an org's workspaces granted or revoked
    ]
    deadline.register(app)  # every Slack call made while answering: within Slack's 3 s
    for module in modules:
        module.register(app, services)

"""Slack's three seconds: every Web API call made while answering a request is bounded by a deadline
measured from the request's arrival, so the answer reaches Slack in time even when its API hangs.

Slack shows the user an error when an app has not answered a command, a button, a submission or an
options request within 3 seconds, and redelivers an event
(https://api.slack.com/interactivity/handling#acknowledgment_response,
https://api.slack.com/apis/events-api#responding). With `process_before_response` the answer goes
back when the listener returns, so a listener waiting 10 s on `views.open` (slack_sdk's timeout,
plus its retry handlers' waits) answers far too late. Here each request gets a client
(`bot.core.deadline.DeadlineClient`) whose every call may take only what is left of `BUDGET`;
past it a call raises `SlackTooSlow` at once, which callers that can do without Slack (a profile
refresh, a permalink) treat as Slack not answering, and the error handler turns into "Slack is
slow" where the user is.
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt import App, BoltContext

from bot.core.deadline import DeadlineClient

ARRIVED_AT = "throughline_arrived_at"  # the request context's key: time.monotonic() at arrival
BUDGET = 2.0  # seconds from arrival for the answer's Slack calls; the last second is for the work
# after them and the way back (a loaded host needs it)


def register(app: App) -> None:
    @app.middleware
    def bound_slack_calls(context: BoltContext, next: Any) -> Any:
        """Replace the request's client with one bounded by the request's deadline. The arrival
        time comes from the HTTP server (bot.app.server); in Socket Mode it is now."""
        arrived = context.get(ARRIVED_AT)
        if not isinstance(arrived, float):
            arrived = context[ARRIVED_AT] = time.monotonic()
        base = context.client
        context["client"] = DeadlineClient(
            deadline=arrived + BUDGET,
            token=base.token,
            base_url=base.base_url,
            ssl=base.ssl,
            proxy=base.proxy,
            headers=base.headers,
            team_id=context.team_id,
            logger=base.logger,
        )
        return next()

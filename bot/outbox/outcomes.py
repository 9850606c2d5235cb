"""What an answer from Slack means for an outbox row: sent, try again (transient, or bounded when
nobody knows whether it will pass), park it (permanent), wait, or unknown (Slack may have it)."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.outbox.pace import retry_after

# Errors that no retry can fix: the row is parked and the admins are told once.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "restricted_action",
        "channel_is_archived",
    }
)
# Errors about one destination (the admins are told once per destination); any other error is
# told once per workspace and error, however many messages it stops.
DESTINATION_ERRORS = PERMANENT_ERRORS - {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "restricted_action",
}
# Answers after which Slack may or may not have stored a post (besides any 5xx and connection error)
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})
# Errors that pass by themselves: retried as long as it takes. Any error not named here nor in
# PERMANENT_ERRORS (missing_scope, edit_window_closed, one Slack adds next year, ...) is tried a
# bounded number of times (delivery_max_attempts), then parked.
TRANSIENT_ERRORS = AMBIGUOUS_ERRORS | {"ratelimited"}


class Retry(Exception):
    def __init__(self, error: str, after: timedelta | None = None, *, transient: bool = True) -> None:
        super().__init__(error)
        self.error = error
        self.after = after
        self.transient = transient


class Park(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Wait(Exception):
    """The message it refers to has no ts yet."""


class Lost(Exception):
    """The claim ran out (or was taken over) before the send: someone else has the row."""


class Unknown(Exception):
    """The send may or may not have reached Slack."""

    def __init__(self, error: str, after: timedelta | None = None, *, transient: bool = True) -> None:
        super().__init__(error)
        self.error = error
        self.after = after
        self.transient = transient


def classify(exc: SlackApiError) -> Exception:
    """What an error answer to a send means (an ambiguous one is sorted out by the caller)."""
    response = exc.response
    error = str(response.get("error") or f"http_{response.status_code}")
    if response.status_code == 429 or error == "ratelimited":
        return Retry("ratelimited", retry_after(response.headers))
    if error in PERMANENT_ERRORS:
        return Park(error)
    return Retry(error, transient=response.status_code >= 500 or error in TRANSIENT_ERRORS)


def cause(error: str, where: str) -> str:
    """What the admins are told about once: the error, and for one about a destination, where."""
    return f"{error}:{where}" if error in DESTINATION_ERRORS else error

"""Finding a message whose send ended ambiguously: did Slack store it? (And the posting client
that never turns such an answer into a copy by retrying on its own.)

A post carries its outbox key in its metadata; it is looked for where it would be: the
conversation's history for a top-level post (Slack's `conversations.history` leaves thread replies
out), the thread (`conversations.replies`) for a reply. A file carries no metadata, so an upload is
looked for by its name and title among the files shared where it was going.

Those methods are Tier 3 for internal apps and, since 2025, one request a minute (15 objects) for
commercially distributed apps outside the Marketplace. So one delivery pass reads a conversation
(or a thread) once, from the oldest row it has to clear there, and every unknown row of that
conversation is cleared from that one read; after a 429 it reads nothing more in that pass, and the
rows stay unknown until Retry-After has passed. A lookup that cannot finish (an error, a 429, more
pages than it reads) proves nothing: the row stays unknown and is looked for again later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler

from bot.outbox.enqueue import METADATA_EVENT, UPLOAD
from bot.outbox.outcomes import TRANSIENT_ERRORS
from bot.outbox.pace import retry_after

MAX_PAGES = 20  # of 200 messages: beyond that a lookup proves nothing and is tried again later
# A row's created_at is the clock of the replica that enqueued it, which may run ahead of Slack's:
# a lookup reads from this much earlier, or a post stored "before it was made" would be missed
# and sent again.
CLOCK_MARGIN = timedelta(minutes=15)


def without_blind_retries(client: WebClient) -> WebClient:
    """The same client, minus retry handlers that would re-send a post after a 5xx or a dropped
    connection (the post may have been stored: a re-send is a copy). 429s are kept: Slack refuses
    those without storing anything."""
    handlers = [
        h
        for h in client.retry_handlers
        if not isinstance(h, ConnectionErrorRetryHandler | ServerErrorRetryHandler)
    ]
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=handlers,
    )


class LookupFailed(Exception):
    """The lookup could not prove either way; `after` is Slack's Retry-After if it was a 429."""

    def __init__(self, error: str, after: timedelta | None = None, *, transient: bool = True) -> None:
        super().__init__(error)
        self.error = error
        self.after = after
        # False: an answer that will not change by waiting (missing_scope, not_in_channel, ...)
        self.transient = transient


@dataclass(frozen=True)
class Wanted:
    """What one unknown row needs looked up: where (channel, or a user id for a DM; the parent's ts
    for a thread reply) and since when."""

    key: str
    method: str
    channel: str
    thread_ts: str | None
    since: datetime
    filename: str | None = None
    title: str | None = None


class Lookups:
    """One delivery pass's lookups. `plan` the rows first so that one read covers them all."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._oldest: dict[tuple[str, str | None], datetime] = {}
        self._read: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self._dm: dict[str, str] = {}
        self._limited: LookupFailed | None = None
        self.calls = 0

    def plan(self, wanted: Iterable[Wanted]) -> None:
        for item in wanted:
            place = (item.channel, item.thread_ts)
            self._oldest[place] = min(self._oldest.get(place, item.since), item.since)

    def find(self, item: Wanted) -> tuple[str, str] | None:
        """(conversation, ts or file id) if Slack has it, None if it proves Slack does not.
        Raises LookupFailed when it cannot tell."""
        conversation = self._conversation(item.channel)
        messages = self._messages(conversation, item)
        for message in messages:
            if item.method == UPLOAD:
                for file in message.get("files") or []:
                    if (
                        file.get("name") == item.filename
                        and file.get("title") == item.title
                        and file.get("id")
                    ):
                        return conversation, str(file["id"])
                continue
            metadata: dict[str, Any] = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and (metadata.get("event_payload") or {}).get("key") == item.key
            ):
                return conversation, str(message["ts"])
        return None

    def _conversation(self, channel: str) -> str:
        if channel[:1] not in ("U", "W"):
            return channel
        if channel not in self._dm:
            response = self._call(self.client.conversations_open, users=channel)
            self._dm[channel] = str(response["channel"]["id"])
        return self._dm[channel]

    def _messages(self, conversation: str, item: Wanted) -> list[dict[str, Any]]:
        place = (item.channel, item.thread_ts)
        read = self._read.get(place)
        if read is not None:
            return read
        since = min(self._oldest.get(place, item.since), item.since)
        args: dict[str, Any] = {"channel": conversation}
        method: Callable[..., Any] = self.client.conversations_history
        if item.thread_ts is not None:
            method, args["ts"] = self.client.conversations_replies, item.thread_ts
        oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
        messages: list[dict[str, Any]] = []
        cursor = None
        for _ in range(MAX_PAGES):
            page = self._call(
                method, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor, **args
            )
            messages += page.get("messages", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                self._read[place] = messages
                return messages
        raise LookupFailed(f"lookup: more than {MAX_PAGES} pages since the message was made", transient=False)

    def _call(self, method: Callable[..., Any], **args: Any) -> Any:
        if self._limited is not None:  # Slack said wait: nothing more this pass
            raise self._limited
        self.calls += 1
        try:
            return method(**args)
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error") or f"http_{response.status_code}")
            if response.status_code == 429 or error == "ratelimited":
                self._limited = LookupFailed("lookup: ratelimited", retry_after(response.headers))
                raise self._limited from None
            transient = response.status_code >= 500 or error in TRANSIENT_ERRORS
            raise LookupFailed(f"lookup: {error}", transient=transient) from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise LookupFailed(f"lookup: connection: {exc}") from None

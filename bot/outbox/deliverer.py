"""Durable delivery: every message the bot sends on its own is an outbox row first.

`enqueue` stores a message under an idempotency key (a second enqueue with the same key is a
no-op), in the caller's transaction: the message exists if and only if the change that caused it
was committed. A `Deliverer` then claims due rows, sends them with slack_sdk (whose retry handlers
already wait out 429 `Retry-After`, 5xx and connection errors for a few attempts), and marks them.

The one window: a process that dies after Slack accepted a post and before the row is marked
`sent` leaves the row `sending` with a lease. When the lease expires, the next deliverer does not
post blindly: it first looks in the conversation's history for a message carrying the row's key in
its metadata and, if it finds one, marks the row sent. A file (the digest chart) carries no
metadata, so for an upload it looks where the file was going (the thread, or the channel) for a
file of the row's name and title shared since the row was made. Everything is therefore sent at
most once even across a kill -9.

An ambiguous answer is the same window: a 5xx, a read timeout or a dropped connection after the
request went out may mean Slack stored the post (its docs say `internal_error` "may have partially
succeeded"). Such a row is marked `unconfirmed` and is looked for (bot/outbox/lookup.py) before any
re-send: found, it is marked sent; proven absent, it is sent; a lookup that fails or is
rate-limited leaves it unconfirmed, to be looked for again with backoff. The client that posts
does not retry a post on 5xx or connection errors by itself (only 429s, which Slack refuses
without storing).
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, aliased

from bot.core import mrkdwn
from bot.core.clock import Clock
from bot.core.config import WorkspaceSettings
from bot.core.workspaces import settings_for
from bot.outbox.enqueue import METADATA_EVENT, NOTICE_PREFIX, UPDATE, UPLOAD, enqueue
from bot.outbox.lookup import LookupFailed, Lookups, Wanted, without_blind_retries
from bot.outbox.pace import RATE_LIMIT_RETRIES, UNPACED, Pace, retry_after
from storage.db import Database, skip_locked
from storage.models import Outbox, OutboxState

log = logging.getLogger(__name__)


# Errors that no retry can fix: the row is parked and an admin is told once.
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
# Answers after which Slack may or may not have stored a post (besides any 5xx and connection error)
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})
MAX_BACKOFF = timedelta(hours=1)
_EARLIER = aliased(Outbox, name="earlier")  # another row of the outbox, in the claim's query


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    parked: int = 0
    waiting: int = 0  # rows whose referenced message is not sent yet
    unknown: int = 0  # rows whose send ended ambiguously, or whose lookup could not tell
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.retrying += other.retrying
        self.parked += other.parked
        self.waiting += other.waiting
        self.unknown += other.unknown
        self.errors += other.errors
        return self

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.parked + self.waiting + self.unknown


@dataclass(frozen=True)
class _Claim:
    id: int
    team_id: str
    key: str
    method: str
    channel: str | None
    ref_key: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    recovering: bool
    token: str
    claimed_at: datetime


class _Retry(Exception):
    def __init__(self, error: str, after: timedelta | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.after = after


class _Park(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _Wait(Exception):
    pass


class _Unknown(Exception):
    """The send may or may not have reached Slack."""

    def __init__(self, error: str, after: timedelta | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.after = after


class Deliverer:
    """Sends due outbox rows. Any number may run at once (threads, replicas): rows are claimed with
    a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) before they are sent.

    `client` should not retry 429 itself (the deliverer waits out Retry-After through `pace`, so
    every thread of the process holds back, not just the one that was told). Posts and uploads go
    through a copy of it that never re-sends on its own after a 5xx or a dropped connection."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        clock: Clock,
        defaults: WorkspaceSettings,
        *,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=120),
        pace: Pace = UNPACED,
    ) -> None:
        self.db = db
        self.client = client
        self.poster = without_blind_retries(client)
        self.clock = clock
        self.defaults = defaults
        self.batch = batch
        self.lease = lease
        self.pace = pace

    def drain(self, max_rounds: int = 1000) -> DeliveryReport:
        """Send everything that is due now; stops when a round finds nothing it can send."""
        total = DeliveryReport()
        for _ in range(max_rounds):
            report = self.run_once()
            total += report
            if report.sent + report.parked == 0:  # only retries and waits left: not due again yet
                break
        return total

    def run_once(self) -> DeliveryReport:
        report = DeliveryReport()
        claims = self._claim()
        lookups = Lookups(self.client)
        lookups.plan(w for w in (self._wanted(c) for c in claims if c.recovering) if w is not None)
        for claim in claims:
            self._deliver(claim, report, lookups)
        return report

    # -- claiming ---------------------------------------------------------------------------------

    def _claim(self) -> list[_Claim]:
        now = self.clock.now()
        with self.db.session() as session:
            due = sa.or_(
                sa.and_(Outbox.state == OutboxState.PENDING, Outbox.next_attempt_at <= now),
                sa.and_(Outbox.state == OutboxState.SENDING, Outbox.claimed_until < now),
            )
            # edits of one message go one at a time, in order: two deliverers sending two edits
            # at once could leave the older one showing
            earlier = _EARLIER
            edit_before = (
                sa.select(earlier.id)
                .where(
                    earlier.team_id == Outbox.team_id,
                    earlier.ref_key == Outbox.ref_key,
                    earlier.method == UPDATE,
                    earlier.id < Outbox.id,
                    earlier.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
                )
                .exists()
            )
            in_turn = sa.or_(Outbox.method != UPDATE, ~edit_before)
            statement = skip_locked(
                sa.select(Outbox).where(due, in_turn).order_by(Outbox.id).limit(self.batch), session
            )
            rows = session.scalars(statement).all()
            claims = []
            token = secrets.token_hex(8)
            for row in rows:
                claims.append(
                    _Claim(
                        id=row.id,
                        team_id=row.team_id,
                        key=row.key,
                        method=row.method,
                        channel=row.channel,
                        ref_key=row.ref_key,
                        payload=dict(row.payload),
                        attempts=row.attempts + 1,
                        created_at=row.created_at,
                        recovering=row.state == OutboxState.SENDING or row.unconfirmed,
                        token=token,
                        claimed_at=now,
                    )
                )
                if row.state == OutboxState.SENDING:  # a lease ran out mid-send: Slack may have it
                    row.unconfirmed = True
                row.state = OutboxState.SENDING
                row.claimed_until = now + self.lease
                row.claim_token = token
                row.attempts += 1
        return claims

    # -- sending ----------------------------------------------------------------------------------

    def _renew(self, claim: _Claim) -> bool:
        """Extend this claim's lease just before sending; False if another deliverer took the row
        over (our lease expired while earlier rows of the batch were slow to send). Within the first
        half of the lease nobody can have taken it, and half a lease is left for the send: no
        round trip then, which halves the database work of a message sent in a steady stream."""
        if self.clock.now() - claim.claimed_at < self.lease / 2:
            return True
        with self.db.session() as session:
            still_ours = session.execute(
                sa.update(Outbox)
                .where(
                    Outbox.id == claim.id,
                    Outbox.state == OutboxState.SENDING,
                    Outbox.claim_token == claim.token,
                )
                .values(claimed_until=self.clock.now() + self.lease)
                .returning(Outbox.id)
            ).first()
        return still_ours is not None

    def _deliver(self, claim: _Claim, report: DeliveryReport, lookups: Lookups | None = None) -> None:
        if not self._renew(claim):
            log.info("outbox %s was taken over by another deliverer; leaving it to them", claim.key)
            return
        try:
            channel, ts = self._send_paced(claim, lookups or Lookups(self.client))
        except _Unknown as unknown:
            self._reschedule(claim, unknown.error, unknown.after, unconfirmed=True)
            report.unknown += 1
            report.errors.append(
                f"{claim.key}: {unknown.error} (outcome unknown: looked for before any re-send)"
            )
        except _Wait:
            self._release(claim)
            report.waiting += 1
        except _Park as park:
            self._park(claim, park.error)
            report.parked += 1
            report.errors.append(f"{claim.key}: {park.error}")
        except _Retry as retry:
            self._reschedule(claim, retry.error, retry.after)
            report.retrying += 1
            report.errors.append(f"{claim.key}: {retry.error}")
        else:
            self._mark_sent(claim, channel, ts)
            report.sent += 1

    def _send_paced(self, claim: _Claim, lookups: Lookups) -> tuple[str | None, str | None]:
        """Send within the workspace's pace; a 429 pauses every sender for Retry-After and the same
        message is tried again after it (a few times, then it is rescheduled)."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self.pace.acquire()
            try:
                return self._send(claim, lookups)
            except _Retry as retry:
                if retry.error != "ratelimited" or attempt == RATE_LIMIT_RETRIES:
                    raise
                self.pace.pause((retry.after or timedelta(seconds=1)).total_seconds())
        raise AssertionError("unreachable")

    def _send(self, claim: _Claim, lookups: Lookups) -> tuple[str | None, str | None]:
        ref = self._reference(claim) if claim.ref_key else None
        if claim.method == UPDATE:  # an edit to the same text is harmless to repeat
            assert ref is not None
            try:
                response = self.client.chat_update(
                    channel=ref[0], ts=ref[1], text=claim.payload["text"], blocks=claim.payload.get("blocks")
                )
            except SlackApiError as exc:
                raise self._classify(exc) from None
            except (SlackClientError, OSError, TimeoutError) as exc:
                raise _Retry(f"connection: {exc}") from None
            return response.get("channel"), response.get("ts")
        if claim.recovering:
            wanted = self._wanted(claim, ref)
            assert wanted is not None
            try:
                found = lookups.find(wanted)
            except LookupFailed as failed:
                raise _Unknown(failed.error, failed.after) from None
            if found is not None:
                log.info("outbox %s was already sent (an unknown outcome or a crash); not again", claim.key)
                return found
        try:
            if claim.method == UPLOAD:
                return self._upload(claim, ref)
            response = self.poster.chat_postMessage(
                channel=claim.channel or "",
                text=claim.payload["text"],
                blocks=claim.payload.get("blocks"),
                thread_ts=ref[1] if ref and claim.payload.get("thread") else None,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": claim.key}},
                unfurl_links=False,
                unfurl_media=False,
            )
            return response.get("channel"), response.get("ts")
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            if exc.response.status_code >= 500 or error in AMBIGUOUS_ERRORS:
                raise _Unknown(error) from None
            raise self._classify(exc) from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise _Unknown(f"connection: {exc}") from None

    def _upload(self, claim: _Claim, ref: tuple[str, str] | None) -> tuple[str | None, str | None]:
        payload = claim.payload
        response = self.poster.files_upload_v2(
            channel=claim.channel,
            thread_ts=ref[1] if ref else None,
            content=base64.b64decode(payload["content"]),
            filename=payload["filename"],
            title=payload["title"],
            initial_comment=payload.get("comment"),
        )
        files = response.get("files") or [{}]
        return claim.channel, files[0].get("id")

    def _wanted(self, claim: _Claim, ref: tuple[str, str] | None = None) -> Wanted | None:
        """Where an unknown row's message would be, if Slack has it (None: an edit, nothing to find,
        or a reply whose parent is not known yet)."""
        if claim.method == UPDATE:
            return None
        if claim.ref_key and ref is None:
            try:
                ref = self._reference(claim)
            except (_Wait, _Park):
                return None
        threaded = ref is not None and (claim.method == UPLOAD or claim.payload.get("thread"))
        return Wanted(
            key=claim.key,
            method=claim.method,
            channel=ref[0] if threaded and ref else claim.channel or "",
            thread_ts=ref[1] if threaded and ref else None,
            since=claim.created_at,
            filename=claim.payload.get("filename"),
            title=claim.payload.get("title"),
        )

    def _reference(self, claim: _Claim) -> tuple[str, str]:
        with self.db.session() as session:
            ref = session.execute(
                sa.select(Outbox.state, Outbox.result_channel, Outbox.result_ts).where(
                    Outbox.team_id == claim.team_id, Outbox.key == claim.ref_key
                )
            ).one_or_none()
        if ref is None or ref.state == OutboxState.PARKED:
            raise _Park(f"the message it refers to ({claim.ref_key}) was not sent")
        if ref.state != OutboxState.SENT or not ref.result_ts:
            raise _Wait()
        return ref.result_channel, ref.result_ts

    def _classify(self, exc: SlackApiError) -> Exception:
        response = exc.response
        error = str(response.get("error") or f"http_{response.status_code}")
        if response.status_code == 429 or error == "ratelimited":
            return _Retry("ratelimited", retry_after(response.headers))
        if error in PERMANENT_ERRORS:
            return _Park(error)
        return _Retry(error)

    # -- marking ----------------------------------------------------------------------------------

    def _mark_sent(self, claim: _Claim, channel: str | None, ts: str | None) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            session.execute(
                sa.update(Outbox)
                .where(Outbox.id == claim.id)
                .values(
                    state=OutboxState.SENT,
                    sent_at=now,
                    claimed_until=None,
                    last_error=None,
                    unconfirmed=False,
                    result_channel=channel,
                    result_ts=ts,
                )
            )

    def _release(self, claim: _Claim) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            session.execute(
                sa.update(Outbox)
                .where(Outbox.id == claim.id, Outbox.claim_token == claim.token)
                .values(
                    state=OutboxState.PENDING,
                    claimed_until=None,
                    attempts=Outbox.attempts - 1,
                    next_attempt_at=now + timedelta(seconds=2),
                )
            )

    def _reschedule(
        self, claim: _Claim, error: str, after: timedelta | None, *, unconfirmed: bool = False
    ) -> None:
        now = self.clock.now()
        delay = (
            max(after, timedelta(seconds=1))
            if after is not None
            else min(MAX_BACKOFF, timedelta(seconds=15 * 2 ** min(claim.attempts - 1, 12)))
        )
        with self.db.session() as session:
            session.execute(
                sa.update(Outbox)
                .where(Outbox.id == claim.id, Outbox.claim_token == claim.token)
                .values(
                    state=OutboxState.PENDING,
                    claimed_until=None,
                    last_error=error[:500],
                    next_attempt_at=now + delay,
                    unconfirmed=unconfirmed or claim.recovering,
                )
            )
        log.warning("outbox %s: %s; retrying in %ss", claim.key, error, int(delay.total_seconds()))

    def _park(self, claim: _Claim, error: str) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            session.execute(
                sa.update(Outbox)
                .where(Outbox.id == claim.id, Outbox.claim_token == claim.token)
                .values(state=OutboxState.PARKED, claimed_until=None, last_error=error[:500])
            )
            if not claim.key.startswith(NOTICE_PREFIX):
                self._notify_admins(session, claim, error, now)
        log.error("outbox %s parked: %s", claim.key, error)

    def _notify_admins(self, session: Session, claim: _Claim, error: str, now: datetime) -> None:
        """Tell each admin once per (error, destination), not once per message."""
        admins = settings_for(session, claim.team_id, self.defaults).admins
        where = claim.channel or claim.ref_key or "?"
        shown = mrkdwn.channel(where) if where[:1] in ("C", "G") else mrkdwn.user(where)
        text = (
            f":warning: I couldn't deliver a message to {shown}: `{mrkdwn.escape(error)}`. "
            "Fix the cause (invite me to the channel, or change it in the App Home settings), then "
            "`throughline outbox retry` re-sends what is parked."
        )
        for admin in admins:
            enqueue(
                session,
                team_id=claim.team_id,
                key=f"{NOTICE_PREFIX}parked:{error}:{where}:{admin}",
                channel=admin,
                text=text,
                now=now,
            )

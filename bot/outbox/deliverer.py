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

Claims are fair and leased by the database's clock (bot/outbox/claims.py); a send is made only
after `hold` found the claim still ours, after any wait. An error that is neither known to pass
nor known to be permanent is tried `max_attempts` times, then parked, and the admins are told once
per cause (bot/outbox/notices.py).
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.clock import Clock
from bot.core.config import WorkspaceSettings
from bot.core.installs import Clients, Installs, NotInstalled
from bot.outbox.claims import PER_TARGET, Claim, claim_due, hold
from bot.outbox.enqueue import METADATA_EVENT, NOTICE_PREFIX, UPDATE, UPLOAD
from bot.outbox.lookup import LookupFailed, Lookups, Wanted, without_blind_retries
from bot.outbox.notices import tell_admins
from bot.outbox.outcomes import AMBIGUOUS_ERRORS, Lost, Park, Retry, Unknown, Wait, classify
from bot.outbox.pace import RATE_LIMIT_RETRIES, UNPACED, Pace
from storage.db import Database
from storage.models import Outbox, OutboxState

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 8  # for an error not known to pass: then the row is parked


@dataclass(frozen=True)
class _Voice:
    """Who speaks for a row's workspace: its token's client, and the copy that posts."""

    client: WebClient
    poster: WebClient


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    parked: int = 0
    waiting: int = 0  # rows whose referenced message is not sent yet
    unknown: int = 0  # rows whose send ended ambiguously, or whose lookup could not tell
    lost: int = 0  # claims that ran out before their send (another deliverer has them)
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.retrying += other.retrying
        self.parked += other.parked
        self.waiting += other.waiting
        self.unknown += other.unknown
        self.lost += other.lost
        self.errors += other.errors
        return self

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.parked + self.waiting + self.unknown


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
        max_attempts: int = MAX_ATTEMPTS,
        per_target: int = PER_TARGET,
        backoff: timedelta = timedelta(seconds=15),
        installs: Installs | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.poster = without_blind_retries(client)
        # each row is sent with its own workspace's token (without `installs`: `client`'s, for all)
        self.installs = installs
        self._clients = Clients(client)
        self._voices: dict[str, _Voice] = {}
        self.clock = clock
        self.defaults = defaults
        self.batch = batch
        self.lease = lease
        self.pace = pace
        self.max_attempts = max_attempts
        self.per_target = per_target
        self.backoff = backoff  # the first retry's wait; it doubles with each attempt

    def drain(self, max_rounds: int = 1000) -> DeliveryReport:
        """Send everything that is due now; stops when a round claims nothing it had not claimed
        before in this drain (what failed is not due again until its retry)."""
        total = DeliveryReport()
        seen: set[int] = set()
        for _ in range(max_rounds):
            claims = self._claim()
            total += self._deliver_all(claims)
            fresh = {c.id for c in claims} - seen
            if not fresh:
                break
            seen |= fresh
        return total

    def run_once(self) -> DeliveryReport:
        """One claim and its sends."""
        return self._deliver_all(self._claim())

    def _deliver_all(self, claims: list[Claim]) -> DeliveryReport:
        report = DeliveryReport()
        by_team: dict[str, list[Claim]] = {}
        for claim in claims:
            by_team.setdefault(claim.team_id, []).append(claim)
        voices: dict[str, _Voice | NotInstalled] = {}
        for team_id in by_team:
            try:
                voices[team_id] = self._voice(team_id)
            except NotInstalled as exc:
                voices[team_id] = exc
        lookups = {}
        for team_id, voice in voices.items():
            if isinstance(voice, _Voice):
                lookups[team_id] = Lookups(voice.client)
                lookups[team_id].plan(
                    w for w in (self._wanted(c) for c in by_team[team_id] if c.recovering) if w is not None
                )
        for claim in claims:  # in the claim's fair order
            voice = voices[claim.team_id]
            if isinstance(voice, NotInstalled):
                # never sent with another workspace's token; nobody to tell in a workspace without one
                self._park(claim, voice.reason, tell=False)
                report.parked += 1
                report.errors.append(f"{claim.key}: {voice.reason}")
                continue
            self._deliver(claim, report, lookups[claim.team_id], voice)
        return report

    def _voice(self, team_id: str) -> _Voice:
        """The client speaking for `team_id` (raises NotInstalled when none does)."""
        if self.installs is None:
            return _Voice(self.client, self.poster)
        token = self.installs.authorize(team_id).token
        if token == self.client.token:  # one bot token: the deliverer's own client, as before
            return _Voice(self.client, self.poster)
        voice = self._voices.get(token)
        if voice is None:
            client = self._clients.get(token)
            voice = _Voice(client, without_blind_retries(client))
            if len(self._voices) >= self._clients.limit:
                self._voices.clear()
            self._voices[token] = voice
        return voice

    # -- claiming ---------------------------------------------------------------------------------

    def _claim(self) -> list[Claim]:
        teams = self.installs.serves() if self.installs is not None else None
        if teams is not None and not teams:
            return []  # a single token whose workspace Slack has not named yet
        with self.db.session() as session:
            return claim_due(
                session,
                self.clock.now(),
                lease=self.lease,
                batch=self.batch,
                per_target=self.per_target,
                teams=teams,
            )

    def _hold(self, claim: Claim) -> None:
        """Just before a send, after any wait: is the claim still ours? Raises Lost if not."""
        with self.db.session() as session:
            if not hold(session, claim, self.lease):
                raise Lost()

    # -- sending ----------------------------------------------------------------------------------

    def _deliver(
        self,
        claim: Claim,
        report: DeliveryReport,
        lookups: Lookups | None = None,
        voice: _Voice | None = None,
    ) -> None:
        voice = voice or _Voice(self.client, self.poster)
        try:
            channel, ts = self._send_paced(claim, lookups or Lookups(voice.client), voice)
        except Lost:
            log.info("outbox %s: its claim ran out before the send; another deliverer has it", claim.key)
            report.lost += 1
        except Unknown as unknown:
            if not unknown.transient and claim.attempts >= self.max_attempts:
                self._give_up(claim, unknown.error, report, unconfirmed=True)
                return
            self._reschedule(claim, unknown.error, unknown.after, unconfirmed=True)
            report.unknown += 1
            report.errors.append(
                f"{claim.key}: {unknown.error} (outcome unknown: looked for before any re-send)"
            )
        except Wait:
            self._release(claim)
            report.waiting += 1
        except Park as park:
            self._park(claim, park.error)
            report.parked += 1
            report.errors.append(f"{claim.key}: {park.error}")
        except Retry as retry:
            if not retry.transient and claim.attempts >= self.max_attempts:
                self._give_up(claim, retry.error, report)
                return
            self._reschedule(claim, retry.error, retry.after)
            report.retrying += 1
            report.errors.append(f"{claim.key}: {retry.error}")
        else:
            self._mark_sent(claim, channel, ts)
            report.sent += 1

    def _give_up(
        self, claim: Claim, error: str, report: DeliveryReport, *, unconfirmed: bool = False
    ) -> None:
        """An error not known to pass, `max_attempts` times: park the row (an unconfirmed one stays
        unconfirmed: it is looked for, never sent blind, when re-queued)."""
        self._park(claim, error, note=f" (after {claim.attempts} attempts)", unconfirmed=unconfirmed)
        report.parked += 1
        report.errors.append(f"{claim.key}: {error} (parked after {claim.attempts} attempts)")

    def _send_paced(self, claim: Claim, lookups: Lookups, voice: _Voice) -> tuple[str | None, str | None]:
        """Send within the workspace's pace; a 429 pauses every sender for Retry-After and the same
        message is tried again after it (a few times, then it is rescheduled)."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self.pace.acquire()
            try:
                return self._send(claim, lookups, voice)
            except Retry as retry:
                if retry.error != "ratelimited" or attempt == RATE_LIMIT_RETRIES:
                    raise
                self.pace.pause((retry.after or timedelta(seconds=1)).total_seconds())
        raise AssertionError("unreachable")

    def _send(self, claim: Claim, lookups: Lookups, voice: _Voice) -> tuple[str | None, str | None]:
        ref = self._reference(claim) if claim.ref_key else None
        if claim.method == UPDATE:  # an edit to the same text is harmless to repeat
            assert ref is not None
            self._hold(claim)
            try:
                response = voice.client.chat_update(
                    channel=ref[0], ts=ref[1], text=claim.payload["text"], blocks=claim.payload.get("blocks")
                )
            except SlackApiError as exc:
                raise classify(exc) from None
            except (SlackClientError, OSError, TimeoutError) as exc:
                raise Retry(f"connection: {exc}") from None
            return response.get("channel"), response.get("ts")
        if claim.recovering:
            wanted = self._wanted(claim, ref)
            assert wanted is not None
            try:
                found = lookups.find(wanted)
            except LookupFailed as failed:
                raise Unknown(failed.error, failed.after, transient=failed.transient) from None
            if found is not None:
                log.info("outbox %s was already sent (an unknown outcome or a crash); not again", claim.key)
                return found
        self._hold(claim)
        try:
            if claim.method == UPLOAD:
                return self._upload(claim, ref, voice.poster)
            response = voice.poster.chat_postMessage(
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
                raise Unknown(error) from None
            raise classify(exc) from None
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise Unknown(f"connection: {exc}") from None

    def _upload(
        self, claim: Claim, ref: tuple[str, str] | None, poster: WebClient
    ) -> tuple[str | None, str | None]:
        payload = claim.payload
        channel = claim.channel
        if channel and channel[:1] in ("U", "W") and ref is None:
            # a file is shared into a conversation, not to a user: the DM's id (im:write)
            channel = str(poster.conversations_open(users=channel)["channel"]["id"])
        response = poster.files_upload_v2(
            channel=channel,
            thread_ts=ref[1] if ref else None,
            content=base64.b64decode(payload["content"]),
            filename=payload["filename"],
            title=payload["title"],
            initial_comment=payload.get("comment"),
        )
        files = response.get("files") or [{}]
        return claim.channel, files[0].get("id")

    def _wanted(self, claim: Claim, ref: tuple[str, str] | None = None) -> Wanted | None:
        """Where an unknown row's message would be, if Slack has it (None: an edit, nothing to find,
        or a reply whose parent is not known yet)."""
        if claim.method == UPDATE:
            return None
        if claim.ref_key and ref is None:
            try:
                ref = self._reference(claim)
            except (Wait, Park):
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

    def _reference(self, claim: Claim) -> tuple[str, str]:
        with self.db.session() as session:
            ref = session.execute(
                sa.select(Outbox.state, Outbox.result_channel, Outbox.result_ts).where(
                    Outbox.team_id == claim.team_id, Outbox.key == claim.ref_key
                )
            ).one_or_none()
        if ref is None or ref.state == OutboxState.PARKED:
            raise Park(f"the message it refers to ({claim.ref_key}) was not sent")
        if ref.state not in (OutboxState.SENT, OutboxState.PRUNED) or not ref.result_ts:
            raise Wait()
        return ref.result_channel, ref.result_ts

    # -- marking ----------------------------------------------------------------------------------

    def _mark_sent(self, claim: Claim, channel: str | None, ts: str | None) -> None:
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

    def _release(self, claim: Claim) -> None:
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
        self, claim: Claim, error: str, after: timedelta | None, *, unconfirmed: bool = False
    ) -> None:
        now = self.clock.now()
        delay = (
            max(after, timedelta(seconds=1))
            if after is not None
            else min(MAX_BACKOFF, self.backoff * 2 ** min(claim.attempts - 1, 12))
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

    def _park(
        self, claim: Claim, error: str, *, note: str = "", unconfirmed: bool = False, tell: bool = True
    ) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            parked = session.execute(
                sa.update(Outbox)
                .where(Outbox.id == claim.id, Outbox.claim_token == claim.token)
                .values(
                    state=OutboxState.PARKED,
                    claimed_until=None,
                    last_error=(error + note)[:500],
                    unconfirmed=unconfirmed or claim.recovering,
                )
                .returning(Outbox.id)
            ).first()
            if parked is not None and tell and not claim.key.startswith(NOTICE_PREFIX):
                tell_admins(
                    session,
                    self.defaults,
                    team_id=claim.team_id,
                    error=error,
                    where=claim.channel or claim.ref_key or "?",
                    attempts=claim.attempts,
                    now=now,
                )
        log.error("outbox %s parked: %s%s", claim.key, error, note)

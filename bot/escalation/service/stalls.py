"""The stall rules the escalation ladder climbs on (`stall_causes`), and the walk of what is held
up downstream of a stalled initiative."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.blockkit.health import HEALTH_WORDS
from bot.core import mrkdwn
from bot.core.calendar import Cadence, CadenceKind, zone
from bot.core.config import WorkspaceSettings
from bot.escalation.models import MAX_CHAIN_DEPTH, Stall, StallCause
from bot.trackers.models import Kind, LinkedFact
from storage.models import Dependency, DependencyState, Health, Initiative, InitiativeState

# the healths that, lasting, stall what waits on the provider
_TROUBLED = (Health.BLOCKED, Health.AT_RISK)


def stall_causes(
    dependency: Dependency,
    provider: Initiative | None,
    settings: WorkspaceSettings,
    now: datetime,
    linked: Sequence[LinkedFact] = (),
) -> list[Stall]:
    """Why `dependency` is stalled at `now` (empty: it is not). Pure: reads the rows it is given.

    - the provider is blocked or at risk, without a break, for more than `stall_blocked_days`
      business days (from `troubled_since` to the same time of day that many business days
      later, in the workspace's zone and calendar);
    - the provider's owner missed `stall_missed_checkins` check-ins in a row;
    - the needed-by date has passed (the dependency is open, so not met);
    - the provider had no check-in for `stall_silent_periods` cadence periods, counted from its last
      check-in or, if none, from when it became active;
    - an open item `linked` to the provider has been in one of `stall_tracker_statuses` for more
      than `stall_blocked_days` business days (as a blocked health would);
    - a linked epic or milestone, not done, has not moved (its status or its items done) for
      `stall_silent_periods` of the provider's cadence periods (as a silent owner would).
    Only an active provider initiative can stall by its own state; a team only by the date.
    """
    if dependency.state != DependencyState.OPEN:
        return []
    tz, calendar = zone(settings.timezone), settings.calendar()
    stalls: list[Stall] = []
    if provider is not None and provider.state == InitiativeState.ACTIVE:
        troubled_since = provider.troubled_since or provider.health_since
        if (
            provider.health in _TROUBLED
            and troubled_since is not None
            and now > calendar.add_working_days(troubled_since, settings.stall_blocked_days, tz)
        ):
            since = mrkdwn.date_text(troubled_since.astimezone(tz).date())
            now_word = HEALTH_WORDS[provider.health]
            text = (
                f"{provider.key} has been {now_word} since {since}"
                if provider.health_since is None or provider.health_since <= troubled_since
                else f"{provider.key} has been blocked or at risk since {since} ({now_word} now)"
            )
            stalls.append(Stall(StallCause.BLOCKED, text))
        if provider.consecutive_misses >= settings.stall_missed_checkins:
            stalls.append(
                Stall(
                    StallCause.MISSED,
                    f"{provider.key}'s owner missed {provider.consecutive_misses} check-ins in a row",
                )
            )
    today = now.astimezone(tz).date()
    if dependency.needed_by is not None and dependency.needed_by < today:
        stalls.append(
            Stall(
                StallCause.OVERDUE,
                f"it was needed by {mrkdwn.date_text(dependency.needed_by)} and is not met",
            )
        )
    if provider is not None and provider.state == InitiativeState.ACTIVE:
        since_at = provider.last_checkin_at or provider.decided_at or provider.created_at
        if now > silent_until(provider, since_at, settings):
            since = mrkdwn.date_text(since_at.astimezone(tz).date())
            what = "no check-in" if provider.last_checkin_at else "no check-in at all"
            started = "" if provider.last_checkin_at else " (it became active then)"
            stalls.append(Stall(StallCause.SILENT, f"{what} on {provider.key} since {since}{started}"))
        stalls += _linked_stalls(provider, linked, settings, now)
    return stalls


def _linked_stalls(
    provider: Initiative, linked: Sequence[LinkedFact], settings: WorkspaceSettings, now: datetime
) -> list[Stall]:
    tz, calendar = zone(settings.timezone), settings.calendar()
    blocked_words = {s.casefold() for s in settings.stall_tracker_statuses}
    stalls: list[Stall] = []
    for fact in linked:
        if fact.done:
            continue
        if fact.status.casefold() in blocked_words and now > calendar.add_working_days(
            fact.status_since, settings.stall_blocked_days, tz
        ):
            since = mrkdwn.date_text(fact.status_since.astimezone(tz).date())
            stalls.append(
                Stall(
                    StallCause.LINKED_BLOCKED,
                    f"{fact.label} ({provider.key}'s) has been {fact.status} since {since}",
                )
            )
        elif fact.kind in (Kind.EPIC, Kind.MILESTONE) and now > silent_until(
            provider, fact.moved_at, settings
        ):
            since = mrkdwn.date_text(fact.moved_at.astimezone(tz).date())
            noun = "epic" if fact.kind is Kind.EPIC else "milestone"
            stalls.append(
                Stall(
                    StallCause.LINKED_IDLE,
                    f"nothing moved in {provider.key}'s {noun} {fact.label} since {since}",
                )
            )
    return stalls


def describe_stalls(stalls: Iterable[Stall], limit: int = 200) -> str:
    """The stall reason as one sentence for `dependency.stall_reason` (plain text, ≤ `limit`)."""
    text = "; ".join(s.text for s in stalls)
    text = text[:1].upper() + text[1:]
    return mrkdwn.truncate(text, limit)


def silent_until(provider: Initiative, since: datetime, settings: WorkspaceSettings) -> datetime:
    """Until when a provider last heard from at `since` may stay silent before what waits on it
    stalls: `stall_silent_periods` periods of its cadence; for an every-working-day cadence,
    that many working days (a weekend is not silence)."""
    try:
        cadence = Cadence.parse(provider.cadence or settings.default_cadence)
    except ValueError:
        cadence = settings.cadence()
    if cadence.kind is CadenceKind.WORKDAYS:
        return settings.calendar().add_working_days(
            since, settings.stall_silent_periods, zone(settings.timezone)
        )
    return since + cadence.period() * settings.stall_silent_periods


def downstream(
    session: Session, team_id: str, start_ids: Iterable[int], *, max_depth: int = MAX_CHAIN_DEPTH
) -> list[int]:
    """Ids of the initiatives that wait on any of `start_ids` through open dependencies, directly
    or transitively (C ← B ← A gives B, then A), nearest first. One query per link of the chain,
    at most `max_depth`; circles (which `add` refuses) cannot loop."""
    seen = set(start_ids)
    frontier = set(seen)
    found: list[int] = []
    for _ in range(max_depth):
        if not frontier:
            break
        rows = session.scalars(
            sa.select(Dependency.waiter_id)
            .where(
                Dependency.team_id == team_id,
                Dependency.provider_id.in_(frontier),
                Dependency.state == DependencyState.OPEN,
            )
            .order_by(Dependency.waiter_id)
        ).all()
        fresh = [r for r in dict.fromkeys(rows) if r not in seen]
        seen.update(fresh)
        found.extend(fresh)
        frontier = set(fresh)
    return found

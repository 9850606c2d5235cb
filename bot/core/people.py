"""People: Slack users as Throughline knows them (name, email, time zone, out of office).

Profiles are cached in `person` and refreshed from `users.info` (at the edges: when someone
becomes an owner, on `user_change` events, and for stale profiles during a tick). The domain only
reads the cache, so it never waits on Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.core.calendar import check_zone, zone
from bot.core.config import WorkspaceSettings
from storage.db import insert_ignore
from storage.models import Person

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(days=7)
RETRY_FAILED_AFTER = timedelta(hours=1)


def ensure(session: Session, team_id: str, user_id: str, now: datetime) -> Person:
    """The person row for `user_id`, created empty on first mention."""
    found = session.scalar(sa.select(Person).where(Person.team_id == team_id, Person.user_id == user_id))
    if found is not None:
        return found
    insert_ignore(
        session, Person, {"team_id": team_id, "user_id": user_id, "created_at": now}, ["team_id", "user_id"]
    )
    return session.scalars(
        sa.select(Person).where(Person.team_id == team_id, Person.user_id == user_id)
    ).one()


def remember(
    session: Session,
    team_id: str,
    user_id: str,
    *,
    name: str | None,
    email: str | None,
    tz: str | None,
    now: datetime,
) -> Person:
    """Store what Slack told us about a user."""
    person = ensure(session, team_id, user_id, now)
    person.name = (name or person.name or "")[:200] or None
    person.email = (email or person.email or "")[:320] or None
    if tz:
        try:
            person.tz = check_zone(tz)
        except ValueError:
            log.warning("Slack gave %s an unknown time zone %r; keeping %r", user_id, tz, person.tz)
    person.profile_fetched_at = now
    return person


def name_of(session: Session, team_id: str, user_id: str) -> str | None:
    """The name we know a user by (from their Slack profile), or None."""
    return session.scalar(sa.select(Person.name).where(Person.team_id == team_id, Person.user_id == user_id))


def zone_of(person: Person | None, settings: WorkspaceSettings) -> ZoneInfo:
    """The person's own zone, or the workspace's when Slack gave none."""
    return zone(person.tz if person else None, settings.timezone)


def zones(
    session: Session, team_id: str, user_ids: Iterable[str], settings: WorkspaceSettings
) -> dict[str, ZoneInfo]:
    """Zones of many people in one query (no per-person round trips)."""
    ids = set(user_ids)
    found = (
        {
            p.user_id: p
            for p in session.scalars(
                sa.select(Person).where(Person.team_id == team_id, Person.user_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return {uid: zone_of(found.get(uid), settings) for uid in ids}


def is_out_of_office(person: Person | None, on: date) -> bool:
    return bool(person and person.ooo_until and on <= person.ooo_until)


def stale(session: Session, now: datetime, limit: int = 50) -> list[tuple[str, str]]:
    """(team, user) pairs whose profile was never fetched or is older than a week."""
    rows = session.execute(
        sa.select(Person.team_id, Person.user_id)
        .where(sa.or_(Person.profile_fetched_at.is_(None), Person.profile_fetched_at < now - STALE_AFTER))
        .order_by(Person.profile_fetched_at.is_not(None), Person.profile_fetched_at)
        .limit(limit)
    )
    return [(r.team_id, r.user_id) for r in rows]


# -- the edge: asking Slack ------------------------------------------------------------------------


def fetch_profile(client: WebClient, user_id: str) -> dict[str, str | None] | None:
    """users.info for one user: {name, email, tz}, or None when Slack cannot say."""
    try:
        user = client.users_info(user=user_id)["user"]
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("users.info %s failed: %s", user_id, exc)
        return None
    profile = user.get("profile") or {}
    return {
        "name": profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name"),
        "email": profile.get("email"),
        "tz": user.get("tz"),
    }


def refresh(client: WebClient, session: Session, team_id: str, user_id: str, now: datetime) -> Person:
    """Fetch a user's profile from Slack into the cache; keeps the old one if Slack fails."""
    profile = fetch_profile(client, user_id)
    if profile is None:
        # keep what we had, and try again in an hour rather than on every tick: a profile Slack
        # will not give must not crowd out the ones it will
        person = ensure(session, team_id, user_id, now)
        person.profile_fetched_at = now - STALE_AFTER + RETRY_FAILED_AFTER
        return person
    return remember(
        session, team_id, user_id, name=profile["name"], email=profile["email"], tz=profile["tz"], now=now
    )

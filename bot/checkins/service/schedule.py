"""Check-in schedules: each initiative's cadence, in its owner's zone, off weekends and holidays.

When `next_checkin_at` has come, the tick asks about the latest slot that has passed (so after
downtime only the latest is asked, never a burst), and schedules the next slot. The directory
pass keeps owners' zones fresh; a zone that moved reschedules what they own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.checkins.models import OWNER_BATCH, PROFILE_AHEAD
from bot.core import people
from bot.core.calendar import Cadence, WorkCalendar, next_slot
from bot.core.config import WorkspaceSettings
from bot.core.workspaces import settings_for
from storage.models import Initiative, InitiativeState, Person

log = logging.getLogger(__name__)


def cadence_of(initiative: Initiative, settings: WorkspaceSettings) -> Cadence:
    """The initiative's own cadence, or the workspace default (also if a stored one no longer parses)."""
    if initiative.cadence:
        try:
            return Cadence.parse(initiative.cadence)
        except ValueError:
            log.warning(
                "%s has an unreadable cadence %r; using the default", initiative.key, initiative.cadence
            )
    return settings.cadence()


def cached_person(session: Session, team_id: str, user_id: str) -> Person | None:
    """The `person` row we keep of a user, if we met them."""
    return session.scalar(sa.select(Person).where(Person.team_id == team_id, Person.user_id == user_id))


def zone_of_user(session: Session, team_id: str, user_id: str, settings: WorkspaceSettings) -> ZoneInfo:
    """A user's zone from the cache, or the workspace's when Slack gave none."""
    return people.zone_of(cached_person(session, team_id, user_id), settings)


def schedule_in_zone(
    initiative: Initiative,
    settings: WorkspaceSettings,
    tz: ZoneInfo,
    calendar: WorkCalendar,
    after: datetime,
) -> datetime:
    """Set `initiative.next_checkin_at` to its first slot strictly after `after`, in `tz`."""
    slot = next_slot(cadence_of(initiative, settings), after, tz, calendar)
    initiative.next_checkin_at = slot
    return slot


def schedule_next(
    session: Session, initiative: Initiative, settings: WorkspaceSettings, after: datetime
) -> datetime:
    """Set `initiative.next_checkin_at` to its owner's first slot strictly after `after`.

    The cadence is the initiative's own or the workspace default; the slot is in the owner's zone
    (the workspace's when Slack gave none), off weekends and the workspace's holidays.
    Raises ValueError if the initiative has no owner.
    """
    if initiative.owner_id is None:
        raise ValueError(f"{initiative.key} has no owner to check in with")
    tz = zone_of_user(session, initiative.team_id, initiative.owner_id, settings)
    return schedule_in_zone(initiative, settings, tz, settings.calendar(), after)


def reschedule_owner(
    session: Session, team_id: str, owner_id: str, settings: WorkspaceSettings, now: datetime
) -> int:
    """Recompute the next slot of every active initiative `owner_id` owns (their zone changed).

    Slots already due are left for the tick to ask. Returns how many moved."""
    tz = zone_of_user(session, team_id, owner_id, settings)
    calendar = settings.calendar()
    moved = 0
    for initiative in session.scalars(
        sa.select(Initiative).where(
            Initiative.team_id == team_id,
            Initiative.owner_id == owner_id,
            Initiative.state == InitiativeState.ACTIVE,
            sa.or_(Initiative.next_checkin_at.is_(None), Initiative.next_checkin_at > now),
        )
    ):
        before = initiative.next_checkin_at
        if schedule_in_zone(initiative, settings, tz, calendar, now) != before:
            moved += 1
    return moved


def is_user_id(user_id: str) -> bool:
    """Looks like a Slack user id (U… or W…)."""
    return bool(user_id) and user_id[:1] in ("U", "W") and user_id.isascii() and user_id.isalnum()


# -- the tick: directory -------------------------------------------------------------------------


def ensure_owner_people(session: Session, now: datetime, limit: int = OWNER_BATCH) -> int:
    """Create the missing `person` rows of the owners asked within the next hour (or never
    scheduled), so the directory pass fetches their zone before their slot. Only initiatives near
    their slot are looked at (an index range), not every active one: the tick stays as cheap with
    100,000 initiatives as with 1,000. Returns how many were created."""
    missing = session.execute(
        sa.select(Initiative.team_id, Initiative.owner_id)
        .outerjoin(
            Person, sa.and_(Person.team_id == Initiative.team_id, Person.user_id == Initiative.owner_id)
        )
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            sa.or_(Initiative.next_checkin_at.is_(None), Initiative.next_checkin_at <= now + PROFILE_AHEAD),
            Initiative.owner_id.is_not(None),
            Person.id.is_(None),
        )
        .distinct()
        .limit(limit)
    ).all()
    for team_id, owner_id in missing:
        if owner_id:
            people.ensure(session, team_id, owner_id, now)
    return len(missing)


def schedule_unscheduled(
    session: Session, defaults: WorkspaceSettings, now: datetime, limit: int = OWNER_BATCH
) -> int:
    """Give every active, owned initiative without a next check-in its next slot."""
    rows = session.scalars(
        sa.select(Initiative)
        .where(
            Initiative.state == InitiativeState.ACTIVE,
            Initiative.next_checkin_at.is_(None),
            Initiative.owner_id.is_not(None),
        )
        .limit(limit)
    ).all()
    for initiative in rows:
        schedule_next(session, initiative, settings_for(session, initiative.team_id, defaults), now)
    return len(rows)


def cached_zones(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The cached zone of each (team, user)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(Person.team_id, Person.user_id, Person.tz).where(
            Person.user_id.in_({user for _, user in wanted})
        )
    ).all()
    return {(r.team_id, r.user_id): r.tz for r in rows if (r.team_id, r.user_id) in wanted}


def profile_changed(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    name: str | None,
    email: str | None,
    tz: str | None,
    settings: WorkspaceSettings,
    now: datetime,
) -> int:
    """Store what Slack says changed about a user we know (`user_change`; Slack sends it for
    everyone in the workspace, and people we never met are not cached); if their zone moved,
    reschedule the initiatives they own. Returns how many check-ins moved."""
    before = cached_person(session, team_id, user_id)
    if before is None:
        return 0
    old_tz = before.tz
    person = people.remember(session, team_id, user_id, name=name, email=email, tz=tz, now=now)
    if person.tz == old_tz:
        return 0
    return reschedule_owner(session, team_id, user_id, settings, now)

"""Escalation episodes: opening one (safe under concurrency), the level it is due at, why one
resolved by itself, finding the open one of a dependency, the batches the tick evaluates, the
checks before a person handles one, and reading the stalls of a workspace.

One `escalation` row per stall episode (a partial unique index allows one open row per
dependency). Levels are counted in business days of the workspace calendar from `opened_at`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.blockkit.health import HEALTH_WORDS
from bot.core import authz, mrkdwn
from bot.core.authz import Action
from bot.core.calendar import zone
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotFound
from bot.core.text import clean
from bot.core.workspaces import served
from bot.escalation.models import (
    BATCH,
    HOW_LIMIT,
    MAX_SNOOZE_DAYS,
    SNOOZE_REASON_LIMIT,
    EscalationCard,
    StallLine,
    governance_key,
)
from bot.escalation.service.card import build_card
from bot.initiatives.service import dependency_subject, workspace_today
from storage.aliases import PROVIDER, WAITER
from storage.db import insert_ignore, skip_locked
from storage.models import (
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
    Outbox,
)


def open_episode(
    session: Session, dependency: Dependency, reason: str, now: datetime
) -> tuple[Escalation, bool]:
    """The open escalation of `dependency`, created now unless one exists (safe under concurrency)."""
    opened = insert_ignore(
        session,
        Escalation,
        {
            "team_id": dependency.team_id,
            "dependency_id": dependency.id,
            "level": 1,
            "reason": reason[:200],
            "opened_at": now,
            "level_at": now,
        },
        ["dependency_id"],
        where=Escalation.resolved_at.is_(None),
    )
    escalation = session.scalars(
        sa.select(Escalation).where(
            Escalation.dependency_id == dependency.id, Escalation.resolved_at.is_(None)
        )
    ).one()
    return escalation, opened


def open_escalation(session: Session, dependency: Dependency) -> Escalation | None:
    return session.scalars(
        sa.select(Escalation).where(
            Escalation.dependency_id == dependency.id, Escalation.resolved_at.is_(None)
        )
    ).first()


def due_level(escalation: Escalation, settings: WorkspaceSettings, now: datetime) -> int:
    """The level `escalation` should stand at, at `now` (never below the one it reached)."""
    # N business days after the stall, at the time of day it stalled (not at the midnight that
    # makes the date N business days later: that would wake people at night, hours early)
    calendar, tz = settings.calendar(), zone(settings.timezone)
    target = escalation.level
    if now >= calendar.add_working_days(escalation.opened_at, settings.escalate_level3_days, tz):
        target = max(target, 3)
    elif now >= calendar.add_working_days(escalation.opened_at, settings.escalate_level2_days, tz):
        target = max(target, 2)
    return target


def recovery(dependency: Dependency, provider: Initiative | None, settings: WorkspaceSettings) -> str:
    """Why an escalation resolved by itself: the facts as they stand now, in plain words."""
    tz = zone(settings.timezone)
    parts: list[str] = []
    if provider is not None:
        if provider.state != InitiativeState.ACTIVE:
            parts.append(f"{provider.key} is {provider.state.value}")
        else:
            health = HEALTH_WORDS[provider.health or Health.ON_TRACK]
            checked = (
                f", last check-in {mrkdwn.date_text(provider.last_checkin_at.astimezone(tz).date())}"
                if provider.last_checkin_at
                else ""
            )
            parts.append(f"{provider.key} is {health}{checked}")
    if dependency.needed_by is not None:
        parts.append(f"needed by {mrkdwn.date_text(dependency.needed_by)}")
    return "no longer stalled" + (": " + "; ".join(parts) if parts else "")


def posted(session: Session, escalation: Escalation) -> bool:
    """Was a governance post enqueued for this escalation (so it can be edited in place)?"""
    found = session.scalar(
        sa.select(Outbox.id).where(
            Outbox.team_id == escalation.team_id, Outbox.key == governance_key(escalation.id)
        )
    )
    return found is not None


# -- what the tick and a changed provider evaluate ----------------------------------------------------


def claim_open_dependencies(
    session: Session, after_id: int
) -> tuple[list[Dependency], dict[int, Initiative], dict[int, Escalation]]:
    """The next batch of open dependencies after `after_id`, claimed (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL, so replicas share the work), with their providers and open escalations by id."""
    statement = (
        sa.select(Dependency)
        .where(Dependency.state == DependencyState.OPEN, Dependency.id > after_id, served(Dependency.team_id))
        .order_by(Dependency.id)
        .limit(BATCH)
    )
    batch = list(session.scalars(skip_locked(statement, session, of=Dependency)))
    if not batch:
        return [], {}, {}
    provider_ids = {d.provider_id for d in batch if d.provider_id is not None}
    providers = (
        {i.id: i for i in session.scalars(sa.select(Initiative).where(Initiative.id.in_(provider_ids)))}
        if provider_ids
        else {}
    )
    return batch, providers, _open_escalations_of(session, batch)


def _open_escalations_of(session: Session, dependencies: list[Dependency]) -> dict[int, Escalation]:
    return {
        e.dependency_id: e
        for e in session.scalars(
            sa.select(Escalation).where(
                Escalation.dependency_id.in_([d.id for d in dependencies]), Escalation.resolved_at.is_(None)
            )
        )
    }


def waiting_on(session: Session, provider: Initiative) -> tuple[list[Dependency], dict[int, Escalation]]:
    """The open dependencies on `provider`, locked (PostgreSQL) as the tick locks them, with their
    open escalations by dependency id."""
    found = list(
        session.scalars(
            sa.select(Dependency)
            .where(
                Dependency.team_id == provider.team_id,
                Dependency.provider_id == provider.id,
                Dependency.state == DependencyState.OPEN,
            )
            .order_by(Dependency.id)
            .with_for_update()
        )
    )
    if not found:
        return [], {}
    return found, _open_escalations_of(session, found)


def orphaned(session: Session) -> list[Escalation]:
    """Open escalations of dependencies closed by some other path (a batch, claimed)."""
    statement = (
        sa.select(Escalation)
        .join(Dependency, Dependency.id == Escalation.dependency_id)
        .where(Escalation.resolved_at.is_(None), Dependency.state != DependencyState.OPEN)
        .limit(BATCH)
    )
    return list(session.scalars(skip_locked(statement, session, of=Escalation)).all())


# -- what people do with an escalation --------------------------------------------------------------


def load_for_handling(
    session: Session, team_id: str, escalation_id: int, actor_id: str, settings: WorkspaceSettings
) -> tuple[Escalation, Dependency]:
    """The open escalation `escalation_id` and its dependency (locked), for `actor_id` to handle.
    Raises NotFound, NotAllowed (Action.HANDLE_ESCALATION), Conflict (resolved)."""
    dependency_id = session.scalar(
        sa.select(Escalation.dependency_id).where(
            Escalation.id == escalation_id, Escalation.team_id == team_id
        )
    )
    if dependency_id is None:
        raise NotFound("That escalation no longer exists.")
    # lock the dependency first, as the tick does, then read the escalation fresh
    dependency = session.scalars(
        sa.select(Dependency).where(Dependency.id == dependency_id).with_for_update()
    ).one()
    escalation = session.scalars(
        sa.select(Escalation).where(Escalation.id == escalation_id).execution_options(populate_existing=True)
    ).one()
    authz.require(
        Action.HANDLE_ESCALATION, actor_id, settings, dependency_subject(session, dependency, settings)
    )
    if escalation.resolved_at is not None:
        raise Conflict("This escalation is already resolved. Nothing was changed.")
    return escalation, dependency


def for_handling(
    session: Session,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> EscalationCard:
    """The card of an open escalation `actor_id` may handle (before the resolve or snooze modal
    opens). Raises NotFound, NotAllowed (Action.HANDLE_ESCALATION), Conflict (resolved)."""
    escalation, dependency = load_for_handling(session, team_id, escalation_id, actor_id, settings)
    return build_card(session, escalation, dependency, settings, now)


def check_how(how: str) -> str:
    """How a person says the escalation was resolved, cleaned; raises InvalidFields on `resolve_how`."""
    how = clean(how)
    if not how:
        raise InvalidFields({"resolve_how": "Say how it was resolved: the waiting side will read it."})
    if len(how) > HOW_LIMIT:
        raise InvalidFields({"resolve_how": f"Keep it under {HOW_LIMIT} characters."})
    return how


def check_snooze(
    settings: WorkspaceSettings, now: datetime, until: date | None, reason: str
) -> tuple[datetime, str]:
    """When a snooze until the start of `until` (workspace zone) ends, and its reason, cleaned.
    Raises InvalidFields on `snooze_until` / `snooze_reason`."""
    today = workspace_today(settings, now)
    reason = clean(reason)
    errors: dict[str, str] = {}
    if until is None:
        errors["snooze_until"] = "Pick the day the escalation resumes."
    elif until <= today:
        errors["snooze_until"] = "Pick a day after today."
    elif until > today + timedelta(days=MAX_SNOOZE_DAYS):
        errors["snooze_until"] = f"Snooze for at most {MAX_SNOOZE_DAYS} days."
    if not reason:
        errors["snooze_reason"] = "Say why it can wait: the post will show it."
    elif len(reason) > SNOOZE_REASON_LIMIT:
        errors["snooze_reason"] = f"Keep it under {SNOOZE_REASON_LIMIT} characters."
    if errors:
        raise InvalidFields(errors)
    assert until is not None
    return datetime.combine(until, time(0), tzinfo=zone(settings.timezone)), reason


# -- reading ---------------------------------------------------------------------------------------


def stalled(
    session: Session, team_id: str, settings: WorkspaceSettings, now: datetime, *, limit: int = 40
) -> list[StallLine]:
    """Current stalls in the workspace, highest level first, then oldest; one statement."""
    waiter = WAITER
    provider = PROVIDER
    rows = session.execute(
        sa.select(
            Dependency.id,
            Escalation.id,
            waiter.key,
            waiter.title,
            provider.key,
            provider.title,
            Dependency.provider_team,
            Dependency.stall_reason,
            Dependency.stalled_since,
            Escalation.level,
            Escalation.acknowledged_by,
            Escalation.snoozed_until,
        )
        .select_from(Dependency)
        .join(waiter, waiter.id == Dependency.waiter_id)
        .outerjoin(provider, provider.id == Dependency.provider_id)
        .outerjoin(
            Escalation, sa.and_(Escalation.dependency_id == Dependency.id, Escalation.resolved_at.is_(None))
        )
        .where(
            Dependency.team_id == team_id,
            Dependency.state == DependencyState.OPEN,
            Dependency.stalled_since.is_not(None),
        )
        .order_by(Escalation.level.desc().nulls_last(), Dependency.stalled_since, Dependency.id)
        .limit(limit)
    ).all()
    calendar, tz = settings.calendar(), zone(settings.timezone)
    return [
        StallLine(
            dependency_id=r[0],
            escalation_id=r[1],
            waiter_key=r[2],
            waiter_title=r[3],
            provider_key=r[4],
            provider_title=r[5],
            provider_team=r[6],
            reason=r[7] or "",
            stalled_since=r[8] or now,
            age_days=calendar.working_days_between(r[8] or now, now, tz),
            level=r[9],
            acknowledged_by=r[10],
            snoozed_until=r[11] if r[11] is not None and r[11] > now else None,
        )
        for r in rows
    ]


def open_escalations(session: Session, team_id: str) -> list[Escalation]:
    """The workspace's open escalations (indexed by team and resolved_at), oldest first."""
    return list(
        session.scalars(
            sa.select(Escalation)
            .where(Escalation.team_id == team_id, Escalation.resolved_at.is_(None))
            .order_by(Escalation.opened_at, Escalation.id)
        )
    )

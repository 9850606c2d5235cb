"""Initiatives as every capability finds them: by key, by what was typed into a select menu, and the
people who stand around one (or around a dependency between two), for authorisation and for who is
told."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, history, mrkdwn
from bot.core.calendar import zone
from bot.core.config import WorkspaceSettings
from bot.core.errors import NotFound
from bot.initiatives.models import SEARCH_LIMIT, SEARCH_TEXT_LIMIT, SEARCH_WORDS, InitiativeChoice
from storage.models import OPEN_STATES, Dependency, Initiative, InitiativeState, Okr


def has_key(team_id: str, key: str) -> sa.ColumnElement[bool]:
    """The one rule for a key someone typed: the initiative of that key in their workspace, in
    any case, surrounding space ignored. Queries that read more than the row (the status card)
    select through it too."""
    return sa.and_(Initiative.team_id == team_id, Initiative.key == key.strip().upper())


def find_initiative(session: Session, team_id: str, key: str, *, lock: bool = False) -> Initiative:
    """The initiative `key` (any case) in this workspace; raises NotFound."""
    statement = sa.select(Initiative).where(has_key(team_id, key))
    found = session.scalar(statement.with_for_update() if lock else statement)
    if found is None:
        raise NotFound(
            f"There's no {mrkdwn.escape(key.strip().upper())} in this workspace. `/initiative` lists yours."
        )
    return found


def search_initiatives(
    session: Session,
    team_id: str,
    query: str = "",
    *,
    states: Collection[InitiativeState] = OPEN_STATES,
    exclude_key: str | None = None,
    limit: int = 20,
) -> list[InitiativeChoice]:
    """Initiatives in `states` (open ones: proposed or active, by default) whose key or title
    contains every word of `query`, in any case and in any order ("limits rate" finds "Rate
    limits"); LIKE wildcards typed are literal. Newest first, at most `limit` (and Slack's 100),
    without `exclude_key` (the initiative the menu is about). An empty query offers them all.
    Reads the first `SEARCH_TEXT_LIMIT` characters and `SEARCH_WORDS` words of what was typed."""
    statement = sa.select(Initiative.id, Initiative.key, Initiative.title).where(
        Initiative.team_id == team_id, Initiative.state.in_(states)
    )
    if exclude_key:
        statement = statement.where(Initiative.key != exclude_key.strip().upper())
    for word in " ".join((query or "").split())[:SEARCH_TEXT_LIMIT].split()[:SEARCH_WORDS]:
        statement = statement.where(
            sa.or_(
                Initiative.key.icontains(word, autoescape=True),
                Initiative.title.icontains(word, autoescape=True),
            )
        )
    rows = session.execute(
        statement.order_by(Initiative.number.desc()).limit(max(0, min(limit, SEARCH_LIMIT)))
    )
    return [InitiativeChoice(r.id, r.key, r.title) for r in rows]


def workspace_today(settings: WorkspaceSettings, now: datetime) -> date:
    """Today's date in the workspace's time zone."""
    return now.astimezone(zone(settings.timezone)).date()


def initiative_subject(session: Session, initiative: Initiative) -> authz.Subject:
    """The people who stand in a relation to `initiative`, for authorisation."""
    okr_owners: list[str] = []
    okr = session.get(Okr, initiative.okr_id)
    while okr is not None:
        if okr.owner_id:
            okr_owners.append(okr.owner_id)
        okr = session.get(Okr, okr.parent_id) if okr.parent_id else None
    return authz.Subject(
        label=initiative.key,
        requester_id=initiative.requester_id,
        owner_id=initiative.owner_id,
        okr_owner_ids=tuple(okr_owners),
    )


def okr_chain(session: Session, okr_id: int | None) -> list[Okr]:
    """The OKR and its parents, nearest first (a key result, then its objective)."""
    chain: list[Okr] = []
    seen: set[int] = set()
    while okr_id is not None and okr_id not in seen:
        seen.add(okr_id)
        okr = session.get(Okr, okr_id)
        if okr is None:
            break
        chain.append(okr)
        okr_id = okr.parent_id
    return chain


def provider_team_name(dependency: Dependency, provider: Initiative | None) -> str | None:
    """The team that provides: the one named on the dependency, else the one the provider
    initiative asked (`team_asked`)."""
    if provider is None:
        return dependency.provider_team
    return provider.team_asked


def team_lead(settings: WorkspaceSettings, dependency: Dependency, provider: Initiative | None) -> str | None:
    """The configured lead (`settings.teams`) of the providing team, if there is one."""
    team = provider_team_name(dependency, provider)
    return settings.teams.get(team) if team else None


def dependency_sides(session: Session, dependency: Dependency) -> tuple[Initiative, Initiative | None]:
    """The waiting initiative and the providing one (None: the dependency waits on a team)."""
    waiter = session.get(Initiative, dependency.waiter_id)
    assert waiter is not None
    provider = session.get(Initiative, dependency.provider_id) if dependency.provider_id else None
    return waiter, provider


def record_on_both_sides(
    session: Session,
    dependency: Dependency,
    *,
    kind: str,
    now: datetime,
    actor_id: str | None,
    **data: object,
) -> int:
    """One event on each side's history (the waiting and the providing initiative), so both
    initiatives' histories show it; returns the first one's id (for update keys)."""
    first = 0
    for initiative_id in filter(None, (dependency.waiter_id, dependency.provider_id)):
        event = history.record(
            session,
            team_id=dependency.team_id,
            subject=f"dependency:{dependency.id}",
            kind=kind,
            at=now,
            actor_id=actor_id,
            initiative_id=initiative_id,
            **data,
        )
        session.flush()
        first = first or event.id
    return first


def waiter_person(waiter: Initiative) -> str:
    """Who speaks for the waiting side: its owner, or its requester while it has none."""
    return waiter.owner_id or waiter.requester_id


def provider_people(
    dependency: Dependency, provider: Initiative | None, settings: WorkspaceSettings
) -> list[str]:
    """Who speaks for the providing side: its owner and the named contact; for a team with neither,
    the team's lead."""
    people = [p for p in (provider.owner_id if provider else None, dependency.provider_contact_id) if p]
    if not people:
        lead = team_lead(settings, dependency, provider)
        if lead:
            people.append(lead)
    return list(dict.fromkeys(people))


def dependency_subject(
    session: Session, dependency: Dependency, settings: WorkspaceSettings
) -> authz.Subject:
    """The people who stand in a relation to a dependency (and its escalation), for authorisation:
    involved = both sides' owners and contacts (and the providing team's lead, who is asked at
    level 2); OKR owners = the owners of both initiatives' OKRs and their objectives."""
    waiter = session.get(Initiative, dependency.waiter_id)
    if waiter is None:  # the foreign key makes this impossible; keep mypy and readers honest
        raise NotFound("That dependency's initiative no longer exists.")
    provider = session.get(Initiative, dependency.provider_id) if dependency.provider_id else None
    involved = [
        waiter.owner_id,
        waiter.requester_id if waiter.owner_id is None else None,
        *provider_people(dependency, provider, settings),
        team_lead(settings, dependency, provider),
    ]
    okr_owners = [
        okr.owner_id
        for item in filter(None, (waiter, provider))
        for okr in okr_chain(session, item.okr_id)
        if okr.owner_id
    ]
    return authz.Subject(
        label=f"{waiter.key} → {provider.key if provider else dependency.provider_team}",
        involved_ids=tuple(dict.fromkeys(p for p in involved if p)),
        okr_owner_ids=tuple(dict.fromkeys(okr_owners)),
    )


def load_dependency(session: Session, team_id: str, dependency_id: int, *, lock: bool = False) -> Dependency:
    """The dependency `dependency_id` of workspace `team_id`; with `lock`, the row is locked for the
    rest of the transaction (PostgreSQL), so a button and a tick never change it at once.
    Raises NotFound."""
    statement = sa.select(Dependency).where(Dependency.id == dependency_id, Dependency.team_id == team_id)
    if lock:
        statement = statement.with_for_update()
    found = session.scalars(statement).first()
    if found is None:
        raise NotFound("That dependency no longer exists.")
    return found

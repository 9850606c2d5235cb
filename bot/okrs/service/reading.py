"""Reading the registry: one OKR by key or link, the active ones for a select or `/okr`, every
one for an export, and the day it is for a person."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import people
from bot.core.config import WorkspaceSettings
from bot.core.mrkdwn import truncate
from bot.okrs.models import OPTION_LIMIT, OPTION_TEXT_LIMIT, Choice, OkrGroup
from bot.okrs.service.links import normalise_url
from storage.aliases import PARENT_OKR
from storage.models import Okr, OkrKind


def selectable(okr: Okr, parent: Okr | None) -> bool:
    """May a new request link to `okr`? Not when it, or its objective, is archived."""
    return okr.archived_at is None and (parent is None or parent.archived_at is None)


def find(session: Session, team_id: str, key: str) -> Okr | None:
    return session.scalar(sa.select(Okr).where(Okr.team_id == team_id, Okr.key == key.strip().upper()))


def find_by_url(session: Session, team_id: str, url: str) -> Okr | None:
    """The OKR registered under this link (compared normalised)."""
    return session.scalars(
        sa.select(Okr).where(Okr.team_id == team_id, Okr.url == normalise_url(url)).order_by(Okr.id)
    ).first()


def natural_key(key: str) -> tuple[Any, ...]:
    """Sort `O2` before `O10`, and `O1` before `O1-KR1`."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key))


def _active(team_id: str) -> tuple[sa.Select[Any], Any]:
    parent = PARENT_OKR
    statement = (
        sa.select(Okr)
        .outerjoin(parent, parent.id == Okr.parent_id)
        .where(
            Okr.team_id == team_id,
            Okr.archived_at.is_(None),
            sa.or_(Okr.parent_id.is_(None), parent.archived_at.is_(None)),
        )
    )
    return statement, parent


def choices(session: Session, team_id: str, query: str = "", limit: int = OPTION_LIMIT) -> list[Choice]:
    """Active OKRs (objectives and key results) whose key or title, or whose objective's title,
    contains every word of `query`; at most `limit` (≤ 100), sorted by key, text ≤ 75 characters."""
    statement, parent = _active(team_id)
    for word in query.split()[:8]:
        statement = statement.where(
            sa.or_(
                Okr.key.icontains(word, autoescape=True),
                Okr.title.icontains(word, autoescape=True),
                parent.title.icontains(word, autoescape=True),
            )
        )
    limit = max(0, min(limit, OPTION_LIMIT))
    rows = session.scalars(statement.order_by(Okr.key).limit(limit)).all()
    return [
        Choice(str(o.id), truncate(f"{o.key} · {o.title}", OPTION_TEXT_LIMIT))
        for o in sorted(rows, key=lambda o: natural_key(o.key))
    ]


def search(session: Session, team_id: str, text: str = "") -> list[OkrGroup]:
    """Active OKRs grouped objective → key results. With `text`, objectives whose key or title
    contain every word (with all their key results) and key results that do (with their objective)."""
    statement, _ = _active(team_id)
    rows = list(session.scalars(statement))
    words = [w.lower() for w in text.split()]

    def hit(okr: Okr) -> bool:
        haystack = f"{okr.key} {okr.title}".lower()
        return all(w in haystack for w in words)

    objectives = {o.id: o for o in rows if o.kind is OkrKind.OBJECTIVE}
    krs: dict[int, list[Okr]] = {}
    for okr in rows:
        if okr.kind is OkrKind.KEY_RESULT and okr.parent_id in objectives:
            krs.setdefault(okr.parent_id, []).append(okr)
    groups = []
    for objective in objectives.values():
        children = sorted(krs.get(objective.id, []), key=lambda o: natural_key(o.key))
        if not words or hit(objective):
            groups.append(OkrGroup(objective, children))
        else:
            matching = [kr for kr in children if hit(kr)]
            if matching:
                groups.append(OkrGroup(objective, matching))
    return sorted(groups, key=lambda g: natural_key(g.objective.key))


def export_rows(session: Session, team_id: str) -> list[dict[str, Any]]:
    """Every OKR of the workspace (archived too), objectives each followed by their key results,
    as rows of `COLUMNS` that `plan` reads back unchanged."""
    okrs = list(session.scalars(sa.select(Okr).where(Okr.team_id == team_id)))
    keys = {o.id: o.key for o in okrs}

    def parent_key(okr: Okr) -> str | None:
        return keys[okr.parent_id] if okr.parent_id is not None else None

    order = sorted(
        okrs,
        key=lambda o: (
            natural_key(parent_key(o) or o.key),
            o.parent_id is not None,
            natural_key(o.key),
        ),
    )
    return [
        {
            "key": o.key,
            "title": o.title,
            "parent": parent_key(o),
            "owner": o.owner_id,
            "period": o.period,
            "url": o.url,
            "priority": o.priority,
            "metric_unit": o.metric_unit,
            "metric_start": o.metric_start,
            "metric_target": o.metric_target,
            "metric_current": o.metric_current,
            "governance_channel": o.governance_channel,
            "archived": o.archived_at is not None,
        }
        for o in order
    ]


def effective_owner(okr: Okr, parent: Okr | None) -> str | None:
    return okr.owner_id or (parent.owner_id if parent is not None else None)


def today_in(settings: WorkspaceSettings, now: datetime, person: Any = None) -> date:
    """The date at `now` for a person (their zone) or the workspace."""
    return now.astimezone(people.zone_of(person, settings)).date()

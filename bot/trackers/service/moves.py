"""What moved in an initiative's linked work over a stretch of time, from its history (the
`tracker.moved` and `tracker.gone` events links.apply and links.mark_gone append)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.trackers.models import Move
from storage.models import Event

KINDS = ("tracker.moved", "tracker.gone")
Window = tuple[int, datetime | None, datetime]  # initiative id, after (exclusive), until (inclusive)


def moved(session: Session, team_id: str, windows: Mapping[int, Window]) -> dict[int, list[Move]]:
    """For each key of `windows` (a check-in, say), the net moves of its initiative's linked items
    in its window: each item once, from its first value to its last; an item that went and came
    back to where it was is left out. One statement, however many windows."""
    if not windows:
        return {}
    initiative_ids = {w[0] for w in windows.values()}
    afters = [w[1] for w in windows.values()]
    statement = (
        sa.select(Event.initiative_id, Event.kind, Event.data, Event.at)
        .where(
            Event.team_id == team_id,
            Event.initiative_id.in_(initiative_ids),
            Event.kind.in_(KINDS),
            Event.at <= max(w[2] for w in windows.values()),
        )
        .order_by(Event.at, Event.id)
    )
    if all(after is not None for after in afters):
        statement = statement.where(Event.at > min(a for a in afters if a is not None))
    rows = session.execute(statement).all()
    found: dict[int, list[Move]] = {}
    for key, (initiative_id, after, until) in windows.items():
        found[key] = _net(
            [
                r
                for r in rows
                if r.initiative_id == initiative_id and (after is None or r.at > after) and r.at <= until
            ]
        )
    return found


def _net(rows: list[sa.Row[tuple[int | None, str, dict[str, object], datetime]]]) -> list[Move]:
    items: dict[str, dict[str, list[object]]] = {}
    urls: dict[str, str] = {}
    gone: set[str] = set()
    for row in rows:
        data = row.data if isinstance(row.data, dict) else {}
        label = str(data.get("link") or "")
        if not label:
            continue
        if row.kind == "tracker.gone":
            gone.add(label)
            items.setdefault(label, {})
            continue
        gone.discard(label)
        urls[label] = str(data.get("url") or "")
        fields = items.setdefault(label, {})
        changed = data.get("moved")
        for name, change in (changed if isinstance(changed, dict) else {}).items():
            if not isinstance(change, list) or len(change) != 2:
                continue
            if name in fields:
                fields[name][1] = change[1]
            else:
                fields[name] = [change[0], change[1]]
    moves = []
    for label, fields in items.items():
        changes = {name: (old, new) for name, (old, new) in fields.items() if old != new and name != "title"}
        if changes or label in gone:
            moves.append(Move(label, urls.get(label, ""), changes, gone=label in gone))
    return moves

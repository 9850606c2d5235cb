"""Everything a workspace holds, out: one file per kind (`throughline export`, the App Home's
*Export data*), with stable column names (docs/export-and-audit.md lists them).

Rows are streamed from the database (`yield_per`: a server-side cursor on PostgreSQL) straight
into the file, so memory stays flat however many rows there are. CSV cells that a spreadsheet
would run as a formula are neutralised (bot/core/csvsafe.py); JSON Lines keeps native values.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bot.core.csvsafe import neutralise
from storage.models import (
    Checkin,
    CheckinUpdate,
    Dependency,
    Escalation,
    Event,
    Initiative,
    Okr,
)

FORMATS = ("jsonl", "csv")
Select = Any  # a select() of some columns: SQLAlchemy types each one's columns
BATCH = 2000


@dataclass(frozen=True)
class Kind:
    """One exported file: its columns (names are the contract), the query that gives them in that
    order, and how `since` narrows it."""

    name: str
    columns: tuple[str, ...]
    query: Callable[[str | None, datetime | None], Select]
    # a value of this column, parsed (a JSON column); applied after the query
    parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _team(statement: Select, column: Any, team_id: str | None) -> Select:
    return statement.where(column == team_id) if team_id is not None else statement


def _since(statement: Select, since: datetime | None, *columns: Any) -> Select:
    if since is None:
        return statement
    return statement.where(sa.or_(*(c >= since for c in columns)))


def _initiatives(team_id: str | None, since: datetime | None) -> Select:
    i, o = Initiative, Okr
    statement = (
        sa.select(
            i.team_id,
            i.id,
            i.key,
            i.title,
            i.description,
            i.state,
            i.health,
            i.health_since,
            o.key.label("okr_key"),
            i.requester_id,
            i.owner_id,
            i.impact_level,
            i.impact,
            i.needed_by,
            i.due_date,
            i.forecast_date,
            i.progress_pct,
            i.cadence,
            i.team_asked,
            i.decided_by,
            i.decided_at,
            i.decline_reason,
            i.done_at,
            i.source_link,
            i.created_at,
            i.updated_at,
        )
        .join(o, o.id == i.okr_id)
        .order_by(i.id)
    )
    return _since(_team(statement, i.team_id, team_id), since, i.created_at, i.updated_at)


def _checkins(team_id: str | None, since: datetime | None) -> Select:
    c, i = Checkin, Initiative
    statement = (
        sa.select(
            c.team_id,
            c.id,
            i.key.label("initiative_key"),
            c.owner_id,
            c.slot_at,
            c.prompted_at,
            c.reminded_at,
            c.status,
            c.closed_at,
            c.note,
        )
        .join(i, i.id == c.initiative_id)
        .order_by(c.id)
    )
    return _since(_team(statement, c.team_id, team_id), since, c.slot_at, c.closed_at)


def _answers(team_id: str | None, since: datetime | None) -> Select:
    u, i = CheckinUpdate, Initiative
    statement = (
        sa.select(
            u.team_id,
            u.id,
            i.key.label("initiative_key"),
            u.checkin_id,
            u.author_id,
            u.created_at.label("answered_at"),
            u.health,
            u.done,
            u.progress_pct,
            u.metric_value,
            u.moved,
            u.blockers,
            u.blocked_on_id,
            u.next_milestone,
        )
        .join(i, i.id == u.initiative_id)
        .order_by(u.id)
    )
    return _since(_team(statement, u.team_id, team_id), since, u.created_at)


def _dependencies(team_id: str | None, since: datetime | None) -> Select:
    d, waiter, provider = Dependency, aliased(Initiative), aliased(Initiative)
    statement = (
        sa.select(
            d.team_id,
            d.id,
            waiter.key.label("waiter_key"),
            provider.key.label("provider_key"),
            d.provider_team,
            d.provider_contact_id,
            d.what,
            d.needed_by,
            d.state,
            d.created_by,
            d.created_at,
            d.met_at,
            d.stalled_since,
            d.stall_reason,
        )
        .join(waiter, waiter.id == d.waiter_id)
        .outerjoin(provider, provider.id == d.provider_id)
        .order_by(d.id)
    )
    return _since(_team(statement, d.team_id, team_id), since, d.created_at, d.met_at, d.stalled_since)


def _escalations(team_id: str | None, since: datetime | None) -> Select:
    e, d, waiter, provider = Escalation, Dependency, aliased(Initiative), aliased(Initiative)
    statement = (
        sa.select(
            e.team_id,
            e.id,
            e.dependency_id,
            waiter.key.label("waiter_key"),
            provider.key.label("provider_key"),
            e.reason,
            e.level,
            e.opened_at,
            e.level_at,
            e.acknowledged_by,
            e.acknowledged_at,
            e.snoozed_until,
            e.snooze_reason,
            e.resolved_at,
            e.resolved_by,
            e.resolution,
        )
        .join(d, d.id == e.dependency_id)
        .join(waiter, waiter.id == d.waiter_id)
        .outerjoin(provider, provider.id == d.provider_id)
        .order_by(e.id)
    )
    return _since(
        _team(statement, e.team_id, team_id), since, e.opened_at, e.level_at, e.acknowledged_at, e.resolved_at
    )


def _events_of(team_id: str | None, since: datetime | None, kinds: str | None = None) -> Select:
    ev, i = Event, Initiative
    statement = (
        sa.select(
            ev.team_id,
            ev.id,
            ev.seq,
            ev.at,
            ev.subject,
            ev.kind,
            ev.actor_id,
            i.key.label("initiative_key"),
            ev.data,
            ev.prev_hash,
            ev.hash,
        )
        .outerjoin(i, i.id == ev.initiative_id)
        # chain order, read straight off the (team_id, seq) index: no sort, however many events
        .order_by(ev.team_id, ev.seq, ev.id)
    )
    if kinds is not None:
        statement = statement.where(ev.kind.like(kinds))
    return _since(_team(statement, ev.team_id, team_id), since, ev.at)


def _steps(team_id: str | None, since: datetime | None) -> Select:
    return _events_of(team_id, since, "escalation.%")


def _step(row: dict[str, Any]) -> dict[str, Any]:
    data = row["data"] or {}
    return {
        "team_id": row["team_id"],
        "event_id": row["id"],
        "escalation_id": data.get("escalation"),
        "step": row["kind"].removeprefix("escalation."),
        "level": data.get("level"),
        "initiative_key": row["initiative_key"],
        "actor_id": row["actor_id"],
        "at": row["at"],
        "detail": data,
    }


def _okrs(team_id: str | None, since: datetime | None) -> Select:
    o, parent = Okr, aliased(Okr)
    statement = (
        sa.select(
            o.team_id,
            o.id,
            o.key,
            o.kind,
            parent.key.label("parent_key"),
            o.title,
            o.owner_id,
            o.period,
            o.url,
            o.priority,
            o.metric_unit,
            o.metric_start,
            o.metric_target,
            o.metric_current,
            o.governance_channel,
            o.archived_at,
            o.created_at,
            o.updated_at,
        )
        .outerjoin(parent, parent.id == o.parent_id)
        .order_by(o.id)
    )
    return _since(_team(statement, o.team_id, team_id), since, o.created_at, o.updated_at)


def _columns(query: Callable[[str | None, datetime | None], Select]) -> tuple[str, ...]:
    return tuple(str(c.key) for c in query(None, None).selected_columns)


STEP_COLUMNS = (
    "team_id",
    "event_id",
    "escalation_id",
    "step",
    "level",
    "initiative_key",
    "actor_id",
    "at",
    "detail",
)

KINDS: tuple[Kind, ...] = (
    Kind("initiatives", _columns(_initiatives), _initiatives),
    Kind("checkins", _columns(_checkins), _checkins),
    Kind("checkin_answers", _columns(_answers), _answers),
    Kind("dependencies", _columns(_dependencies), _dependencies),
    Kind("escalations", _columns(_escalations), _escalations),
    Kind("escalation_steps", STEP_COLUMNS, _steps, _step),
    Kind("okrs", _columns(_okrs), _okrs),
    Kind("events", _columns(_events_of), _events_of),
)


def rows(
    session: Session, kind: Kind, team_id: str | None, since: datetime | None
) -> Iterator[tuple[Any, ...]]:
    """The rows of `kind`, streamed, as tuples of values in `kind.columns`' order."""
    statement = kind.query(team_id, since).execution_options(yield_per=BATCH)
    # Core, not the ORM's result machinery: the same rows at a fraction of the cost per row
    result = session.connection().execute(statement)
    if kind.parse is None:
        yield from result
        return
    for row in result:
        values = kind.parse(dict(row._mapping))
        yield tuple(values[c] for c in kind.columns)


def plain(value: Any) -> Any:
    """A value as exported: times in ISO 8601 UTC, dates ISO, enums by their value."""
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def _instant(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_RISKY_START = frozenset("=+-@\t\r'")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: empty for none, true/false, JSON for a document, text neutralised."""
    kind = type(value)
    if kind is str:  # the common case first: most text starts with nothing a spreadsheet runs
        return value if not value or value[0] not in _RISKY_START else neutralise(value)
    if value is None:
        return ""
    if kind is int:
        return str(value)  # a number, never a formula
    if kind is bool:
        return "true" if value else "false"
    if kind is datetime:
        return _instant(value)
    value = plain(value)
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return neutralise(str(value))


def write(
    session: Session, kind: Kind, out: IO[str], fmt: str, team_id: str | None, since: datetime | None
) -> int:
    """Write `kind` to `out` in `fmt`; returns the rows written."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(kind.columns)
        for row in rows(session, kind, team_id, since):
            writer.writerow([csv_cell(v) for v in row])
            count += 1
        return count
    columns = kind.columns
    for row in rows(session, kind, team_id, since):
        out.write(json.dumps(dict(zip(columns, map(plain, row), strict=True)), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def to_directory(
    session: Session, out_dir: Path, fmt: str, team_id: str | None, since: datetime | None
) -> dict[str, int]:
    """One file per kind in `out_dir` (created), e.g. initiatives.csv. Returns rows per file name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in KINDS:
        name = f"{kind.name}.{fmt}"
        with (out_dir / name).open("w", encoding="utf-8", newline="") as out:
            written[name] = write(session, kind, out, fmt, team_id, since)
    return written


def to_zip(
    session: Session, target: IO[bytes], fmt: str, team_id: str | None, since: datetime | None
) -> dict[str, int]:
    """The same files, in one zip written to `target`."""
    written = {}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in KINDS:
            name = f"{kind.name}.{fmt}"
            with (
                archive.open(name, "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
            ):
                written[name] = write(session, kind, out, fmt, team_id, since)
    return written

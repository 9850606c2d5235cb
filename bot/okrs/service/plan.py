"""Planning a change to the registry (every row checked against the others and what is
registered, every problem collected with its line) and writing a plan that has no errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import history, urlpattern
from bot.core.mrkdwn import truncate
from bot.core.workspaces import ensure_workspace
from bot.okrs.models import DEFAULT_PRIORITY, Change, ChangeKind, Plan, RowError, SourceRow
from bot.okrs.service.periods import parse_period
from bot.okrs.service.rows import _Fields, _parse_fields
from storage.models import Okr, OkrKind


def plan(
    session: Session,
    team_id: str,
    rows: Sequence[SourceRow],
    owners: Mapping[str, str | None],
    today: date,
    url_patterns: Sequence[str] = (),
) -> Plan:
    """Check every row against the others and the registry and say what writing them would do.

    `owners` maps each owner reference (see `owners_to_resolve`) to a Slack user id, or None when
    Slack knows no such user. Every problem is collected (never just the first), with its line.
    Keys are matched case-insensitively; a key already registered is updated, never duplicated.
    With `url_patterns` (the workspace's `okr_url_patterns`), an OKR's link must match one of them.
    """
    result = Plan(team_id)
    existing = {o.key: o for o in session.scalars(sa.select(Okr).where(Okr.team_id == team_id))}
    by_id = {o.id: o for o in existing.values()}
    parsed: list[tuple[SourceRow, _Fields, dict[str, str]]] = []
    first_line: dict[str, int] = {}

    for row in rows:
        fields, errors = _parse_fields(row.values)
        if fields.key and "key" not in errors:
            if fields.key in first_line:
                errors["key"] = f"{fields.key} is already on line {first_line[fields.key]}"
            else:
                first_line[fields.key] = row.line
        if fields.owner_ref and fields.owner_ref in owners and owners[fields.owner_ref] is None:
            errors["owner"] = f'owner "{fields.owner_given}" is not a Slack user'
        if (
            fields.url
            and url_patterns
            and "url" not in errors
            and not urlpattern.matches_any(url_patterns, fields.url)
        ):
            errors["url"] = (
                f'url "{truncate(fields.url, 60)}" is not in your OKR tool '
                f"(THROUGHLINE_OKR_URL_PATTERNS: {', '.join(url_patterns)})"
            )
        parsed.append((row, fields, errors))

    in_file = {f.key: f for _, f, e in parsed if f.key and "key" not in e}
    # url -> (key, line in this file or None when registered)
    urls: dict[str, tuple[str, int | None]] = {o.url: (o.key, None) for o in existing.values() if o.url}
    for row, fields, errors in parsed:
        _check_against_others(fields, errors, row, in_file, existing, urls, today)
        for column, message in errors.items():
            result.errors.append(RowError(row.line, column, message))
        if not fields.key or errors:
            continue
        result.changes.append(_change(row, fields, in_file, existing, by_id, owners))
    result.errors.sort(key=lambda e: e.line)
    return result


def _check_against_others(
    fields: _Fields,
    errors: dict[str, str],
    row: SourceRow,
    in_file: Mapping[str, _Fields],
    existing: Mapping[str, Okr],
    urls: dict[str, tuple[str, int | None]],
    today: date,
) -> None:
    if not fields.key:
        return
    current = existing.get(fields.key)
    kind = OkrKind.KEY_RESULT if fields.parent else OkrKind.OBJECTIVE
    if fields.parent and "parent" not in errors:
        parent_fields, parent_row = in_file.get(fields.parent), existing.get(fields.parent)
        if parent_fields is None and parent_row is None:
            errors["parent"] = f"objective {fields.parent} is neither in this file nor registered"
        elif (parent_fields.parent if parent_fields is not None else None) or (
            parent_fields is None and parent_row is not None and parent_row.kind is OkrKind.KEY_RESULT
        ):
            errors["parent"] = f"{fields.parent} is a key result; a key result belongs to an objective"
    if current is not None and current.kind is not kind:
        was = "an objective" if current.kind is OkrKind.OBJECTIVE else "a key result"
        errors.setdefault("parent", f"{fields.key} is registered as {was}; it can't change kind")
    if kind is OkrKind.OBJECTIVE:
        if not fields.owner_given:
            errors.setdefault("owner", f"objective {fields.key} needs an owner (a Slack user ID or email)")
        if not fields.period:
            errors.setdefault("period", f"objective {fields.key} needs a period, e.g. 2026-Q1")
    if fields.url and "url" not in errors:
        other = urls.get(fields.url)
        if other is not None and other[0] != fields.key:
            where = f"line {other[1]}" if other[1] is not None else "registered"
            errors["url"] = f"url is already {other[0]}'s ({where})"
        elif other is None or other[1] is None:
            urls[fields.url] = (fields.key, row.line)
    if fields.archived and not (current is not None and current.archived_at is not None):
        period = fields.period or _parent_value(fields, in_file, existing, "period")
        try:
            over = period is None or parse_period(period).is_over(today)
        except ValueError:
            over = True
        if not over:
            errors.setdefault("archived", f"{fields.key} can't be archived: its period {period} is not over")


def _parent_value(
    fields: _Fields, in_file: Mapping[str, _Fields], existing: Mapping[str, Okr], name: str
) -> Any:
    """A key result's missing priority or period, from its objective (in the file, else registered)."""
    if not fields.parent:
        return None
    if fields.parent in in_file:
        value = getattr(in_file[fields.parent], name)
        return DEFAULT_PRIORITY if value is None and name == "priority" else value
    parent = existing.get(fields.parent)
    return getattr(parent, name) if parent is not None else None


def _change(
    row: SourceRow,
    fields: _Fields,
    in_file: Mapping[str, _Fields],
    existing: Mapping[str, Okr],
    by_id: Mapping[int, Okr],
    owners: Mapping[str, str | None],
) -> Change:
    values: dict[str, Any] = {
        "kind": OkrKind.KEY_RESULT if fields.parent else OkrKind.OBJECTIVE,
        "title": fields.title,
        "owner_id": owners.get(fields.owner_ref) if fields.owner_ref else None,
        "period": fields.period or _parent_value(fields, in_file, existing, "period"),
        "url": fields.url,
        "priority": fields.priority
        or _parent_value(fields, in_file, existing, "priority")
        or DEFAULT_PRIORITY,
        "metric_unit": fields.metric_unit,
        "metric_start": fields.metric_start,
        "metric_target": fields.metric_target,
        "metric_current": fields.metric_current,
        "governance_channel": fields.governance_channel,
    }
    if fields.archived is not None:
        values["archived"] = fields.archived
    current = existing.get(fields.key)
    if current is None:
        return Change(row.line, fields.key, ChangeKind.CREATE, fields.parent, values)
    old_parent = by_id[current.parent_id].key if current.parent_id is not None else None
    changed = [name for name, value in values.items() if _current_value(current, name) != value]
    if fields.parent != old_parent:
        changed.append("parent")
    kind = ChangeKind.UPDATE if changed else ChangeKind.UNCHANGED
    return Change(row.line, fields.key, kind, fields.parent, values, changed)


def _current_value(okr: Okr, name: str) -> Any:
    if name == "archived":
        return okr.archived_at is not None
    return getattr(okr, name)


def apply(
    session: Session, planned: Plan, now: datetime, actor_id: str | None = None, via: str = "import"
) -> None:
    """Write a plan made by `plan`, recording an event per OKR created or changed. Refuses
    (ValueError) a plan with errors: then nothing is written."""
    if planned.errors:
        raise ValueError("a plan with errors can't be applied")
    ensure_workspace(session, planned.team_id, now)
    keys = {c.key for c in planned.changes} | {c.parent_key for c in planned.changes if c.parent_key}
    rows = {
        o.key: o
        for o in session.scalars(sa.select(Okr).where(Okr.team_id == planned.team_id, Okr.key.in_(keys)))
    }
    # objectives first, so their key results can point at them
    for change in sorted(planned.changes, key=lambda c: (c.parent_key is not None, c.line)):
        if change.kind is ChangeKind.UNCHANGED:
            continue
        values = dict(change.values)
        archived = values.pop("archived", None)
        parent = rows.get(change.parent_key) if change.parent_key else None
        values["parent_id"] = parent.id if parent is not None else None
        okr = rows.get(change.key)
        if okr is None:
            okr = Okr(team_id=planned.team_id, key=change.key, created_at=now, updated_at=now, **values)
            okr.archived_at = now if archived else None
            session.add(okr)
            session.flush()
            rows[change.key] = okr
            kind = "okr.created"
        else:
            for name, value in values.items():
                setattr(okr, name, value)
            if archived is True and okr.archived_at is None:
                okr.archived_at = now
            elif archived is False:
                okr.archived_at = None
            okr.updated_at = now
            kind = "okr.updated"
        history.record(
            session,
            team_id=planned.team_id,
            subject=f"okr:{okr.id}",
            kind=kind,
            at=now,
            actor_id=actor_id,
            key=okr.key,
            via=via,
            changed=change.changed,
        )
    session.flush()

"""The OKR registry: objectives and their key results, per workspace.

Requests must name one of these. OKRs come from a file (`throughline okr import`, validated as a
whole: one bad row and nothing is written) or one at a time from `/okr add`; both go through the
same row validation (`plan`). An OKR whose period is over can be archived: it stays in history and
on the initiatives that link to it, but can no longer be picked for a new request.

Priority: 1 (low) to 5 (highest). A key result given no priority, period or owner of its own takes
its objective's priority and period when it is written (so re-import the file after changing an
objective's); its owner stays empty and its objective's owner answers for it.
"""

from __future__ import annotations

import fnmatch
import re
from calendar import monthrange
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, history, people
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotFound
from bot.core.mrkdwn import escape, truncate
from bot.core.workspaces import ensure_workspace
from storage.aliases import PARENT_OKR
from storage.models import Okr, OkrKind

# The columns of an OKR file, in the order `export` writes them.
COLUMNS = (
    "key",
    "title",
    "parent",
    "owner",
    "period",
    "url",
    "priority",
    "metric_unit",
    "metric_start",
    "metric_target",
    "metric_current",
    "governance_channel",
    "archived",
)
REQUIRED_COLUMNS = ("key", "title")
TITLE_LIMIT = 300
KEY_LIMIT = 40
URL_LIMIT = 2000
UNIT_LIMIT = 40
DEFAULT_PRIORITY = 3
OPTION_LIMIT = 100  # Slack shows at most 100 options in a select
OPTION_TEXT_LIMIT = 75

_KEY = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
_KR_KEY = re.compile(r"^(?P<parent>.+)-KR\d+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<q>[1-4])|H(?P<h>[12])|(?P<m>0[1-9]|1[0-2])))?$")
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n"}


# -- periods and links ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """`2026-Q1`, `2026-H2`, `2026-03` or `2026`: the days it covers, both ends included."""

    text: str
    start: date
    end: date

    def is_over(self, today: date) -> bool:
        return self.end < today


def parse_period(text: str) -> Period:
    """Parse a period; raises ValueError saying which forms are accepted."""
    value = (text or "").strip().upper()
    match = _PERIOD.match(value)
    if not match:
        raise ValueError(f'period "{text}" should look like 2026-Q1, 2026-H2, 2026-03 or 2026')
    year = int(match["year"])
    if year < 1900:
        raise ValueError(f'period "{text}" is not a year we can use')
    if match["q"]:
        first = 3 * (int(match["q"]) - 1) + 1
        months = (first, first + 2)
    elif match["h"]:
        first = 6 * (int(match["h"]) - 1) + 1
        months = (first, first + 5)
    elif match["m"]:
        months = (int(match["m"]), int(match["m"]))
    else:
        months = (1, 12)
    end = date(year, months[1], monthrange(year, months[1])[1])
    return Period(value, date(year, months[0], 1), end)


def quarter_of(day: date) -> str:
    """The quarter `day` is in, as a period: `2026-Q1`."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def normalise_url(url: str) -> str:
    """A link in the one form we store and compare: scheme and host in lower case, no trailing
    slash on the path, query and fragment kept as they are."""
    parts = urlsplit((url or "").strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, parts.fragment)
    )


def is_link(url: str) -> bool:
    parts = urlsplit((url or "").strip())
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() for c in url.strip())
        and len(url) <= URL_LIMIT
    )


def url_allowed(settings: WorkspaceSettings, url: str) -> bool:
    """Is `url` in one of the workspace's OKR tools (`okr_url_patterns`, compared normalised)?"""
    normalised = normalise_url(url)
    return any(_pattern_matches(pattern, normalised) for pattern in settings.okr_url_patterns)


def _pattern_matches(pattern: str, normalised_url: str) -> bool:
    """Shell-style match (`https://okr.example.com/*`), the pattern's scheme and host lower-cased."""
    scheme, sep, rest = pattern.strip().partition("://")
    host, slash, path = rest.partition("/")
    return fnmatch.fnmatchcase(normalised_url, f"{scheme.lower()}{sep}{host.lower()}{slash}{path}")


def allowed_hosts(settings: WorkspaceSettings) -> list[str]:
    return sorted({urlsplit(p).netloc.lower() for p in settings.okr_url_patterns if urlsplit(p).netloc})


# -- what an OKR is allowed to be ----------------------------------------------------------------


def selectable(okr: Okr, parent: Okr | None) -> bool:
    """May a new request link to `okr`? Not when it, or its objective, is archived."""
    return okr.archived_at is None and (parent is None or parent.archived_at is None)


def subject(okr: Okr, parent: Okr | None) -> authz.Subject:
    """For MANAGE_OKRS: the OKR's owner and its objective's owner."""
    owners = tuple(o.owner_id for o in (okr, parent) if o is not None and o.owner_id)
    return authz.Subject(label=okr.key, okr_owner_ids=owners)


def infer_parent(key: str) -> str | None:
    """`O1-KR2` is a key result of `O1`."""
    match = _KR_KEY.match(key)
    return match["parent"] if match else None


def owner_reference(text: str) -> str | None:
    """How an owner cell is looked up: a user id as is, an email in lower case; None if neither."""
    value = (text or "").strip()
    if _USER_ID.match(value):
        return value
    if _EMAIL.match(value):
        return value.lower()
    return None


# -- one row, as written by a person -------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One OKR as given in a file or the `/okr add` form: column -> text ("" when blank). A
    column missing from the source is absent from `values`."""

    line: int
    values: Mapping[str, str]


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class _Fields:
    key: str
    title: str
    parent: str | None
    owner_ref: str | None
    owner_given: str
    period: str | None
    url: str | None
    priority: int | None
    metric_unit: str | None
    metric_start: float | None
    metric_target: float | None
    metric_current: float | None
    governance_channel: str | None
    archived: bool | None  # None: leave as it is


def _text(values: Mapping[str, Any], column: str) -> str:
    value = values.get(column)
    return "" if value is None else str(value).strip()


def _number(values: Mapping[str, Any], column: str, errors: dict[str, str]) -> float | None:
    text = _text(values, column)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        errors[column] = f'{column} "{text}" is not a number'
        return None
    if number != number or number in (float("inf"), float("-inf")):
        errors[column] = f'{column} "{text}" is not a number'
        return None
    return number


def _parse_fields(values: Mapping[str, Any]) -> tuple[_Fields, dict[str, str]]:
    """Check one row on its own; errors by column, written for the person who wrote the row."""
    errors: dict[str, str] = {}
    key = _text(values, "key").upper()
    if not key:
        errors["key"] = "key is missing (e.g. O1 for an objective, O1-KR2 for one of its key results)"
    elif len(key) > KEY_LIMIT or not _KEY.match(key):
        errors["key"] = (
            f'key "{truncate(key, 50)}" should be letters, digits, "-", "." or "_" '
            f"(at most {KEY_LIMIT}), e.g. O1 or O1-KR2"
        )
    title = " ".join(_text(values, "title").split())
    if not title:
        errors["title"] = "title is missing"
    elif len(title) > TITLE_LIMIT:
        errors["title"] = f"title is {len(title)} characters; keep it under {TITLE_LIMIT}"
    parent = _text(values, "parent").upper() or (infer_parent(key) if key else None)
    if parent and parent == key:
        errors["parent"] = f"{key} can't be its own objective"
    owner_given = _text(values, "owner")
    owner_ref = owner_reference(owner_given) if owner_given else None
    if owner_given and owner_ref is None:
        errors["owner"] = f'owner "{truncate(owner_given, 60)}" should be a Slack user ID (U…) or an email'
    period = _text(values, "period").upper() or None
    if period:
        try:
            period = parse_period(period).text
        except ValueError as exc:
            errors["period"] = str(exc)
    url = _text(values, "url") or None
    if url:
        if not is_link(url):
            errors["url"] = f'url "{truncate(url, 60)}" should be an https:// link'
        else:
            url = normalise_url(url)
    priority: int | None = None
    priority_text = _text(values, "priority")
    if priority_text:
        try:
            priority = int(priority_text)
        except ValueError:
            priority = None
        if priority is None or not 1 <= priority <= 5:
            errors["priority"] = (
                f'priority "{priority_text}" should be a whole number from 1 (low) to 5 (highest)'
            )
            priority = None
    unit = _text(values, "metric_unit") or None
    if unit and len(unit) > UNIT_LIMIT:
        errors["metric_unit"] = f"metric_unit is longer than {UNIT_LIMIT} characters"
    start = _number(values, "metric_start", errors)
    target = _number(values, "metric_target", errors)
    current = _number(values, "metric_current", errors)
    channel = _text(values, "governance_channel") or None
    if channel and not _CHANNEL_ID.match(channel):
        errors["governance_channel"] = (
            f'governance_channel "{truncate(channel, 40)}" should be a channel ID (C…)'
        )
    archived: bool | None = None
    flag = _text(values, "archived").lower()
    if flag in _TRUE:
        archived = True
    elif flag in _FALSE:
        archived = False
    elif flag:
        errors["archived"] = f'archived "{truncate(flag, 20)}" should be yes or no (or empty to leave it)'
    fields = _Fields(
        key=key,
        title=title,
        parent=parent or None,
        owner_ref=owner_ref,
        owner_given=owner_given,
        period=period,
        url=url,
        priority=priority,
        metric_unit=unit,
        metric_start=start,
        metric_target=target,
        metric_current=current,
        governance_channel=channel,
        archived=archived,
    )
    return fields, errors


# -- planning a change to the registry ------------------------------------------------------------


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass
class Change:
    line: int
    key: str
    kind: ChangeKind
    parent_key: str | None
    values: dict[str, Any]  # the okr columns to write
    changed: list[str] = field(default_factory=list)


@dataclass
class Plan:
    team_id: str
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind is kind)

    @property
    def ok(self) -> bool:
        return not self.errors


def owners_to_resolve(rows: Iterable[SourceRow]) -> set[str]:
    """The owner references (user ids, lower-case emails) a file names: the caller asks Slack."""
    found = set()
    for row in rows:
        ref = owner_reference(str(row.values.get("owner") or ""))
        if ref:
            found.add(ref)
    return found


def plan(
    session: Session,
    team_id: str,
    rows: Sequence[SourceRow],
    owners: Mapping[str, str | None],
    today: date,
) -> Plan:
    """Check every row against the others and the registry and say what writing them would do.

    `owners` maps each owner reference (see `owners_to_resolve`) to a Slack user id, or None when
    Slack knows no such user. Every problem is collected (never just the first), with its line.
    Keys are matched case-insensitively; a key already registered is updated, never duplicated.
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


# -- /okr add -------------------------------------------------------------------------------------


def may_add(session: Session, team_id: str, user_id: str, settings: WorkspaceSettings) -> bool:
    """Can `user_id` add OKRs at all: an admin, or the owner of an active objective (for its KRs)."""
    if authz.can(Action.MANAGE_OKRS, user_id, settings):
        return True
    owned = session.scalar(
        sa.select(Okr.id)
        .where(
            Okr.team_id == team_id,
            Okr.kind == OkrKind.OBJECTIVE,
            Okr.owner_id == user_id,
            Okr.archived_at.is_(None),
        )
        .limit(1)
    )
    return owned is not None


def require_may_add(session: Session, team_id: str, user_id: str, settings: WorkspaceSettings) -> None:
    """Raise NotAllowed unless `user_id` may open the "add an OKR" form."""
    if not may_add(session, team_id, user_id, settings):
        authz.require(Action.MANAGE_OKRS, user_id, settings)


def add(
    session: Session,
    *,
    team_id: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    values: Mapping[str, str],
    today: date,
) -> Okr:
    """Register one new OKR from the `/okr add` form (`values` by column; `owner` a user id).

    Raises InvalidFields keyed by column name, or NotAllowed: objectives are added by admins, key
    results by admins and their objective's owner.
    """
    values = dict(values)
    key = (values.get("key") or "").strip().upper()
    is_objective = not (values.get("parent") or "").strip() and not (key and infer_parent(key))
    if is_objective and not (values.get("period") or "").strip():
        values["period"] = quarter_of(today)  # an objective needs one; a key result inherits
    row = SourceRow(1, {**values, "archived": ""})
    owner = (values.get("owner") or "").strip()
    planned = plan(session, team_id, [row], {owner: owner} if owner else {}, today)
    errors = {e.column: e.message for e in planned.errors}
    fields, _ = _parse_fields(row.values)
    if fields.key and find(session, team_id, fields.key) is not None:
        errors["key"] = f"{fields.key} already exists; change it by re-importing the OKR file"
    if "key" in errors or "parent" in errors:
        raise InvalidFields(errors)  # what it is must be clear before we can say who may add it
    parent = find(session, team_id, fields.parent) if fields.parent else None
    owners = (parent.owner_id,) if parent is not None and parent.owner_id else ()
    authz.require(
        Action.MANAGE_OKRS, actor_id, settings, authz.Subject(label=fields.key, okr_owner_ids=owners)
    )
    if parent is not None and parent.archived_at is not None:
        errors.setdefault("parent", f"{parent.key} is archived; add key results to a current objective")
    if errors:
        raise InvalidFields(errors)
    apply(session, planned, now, actor_id=actor_id, via="slack")
    return session.scalars(sa.select(Okr).where(Okr.team_id == team_id, Okr.key == fields.key)).one()


# -- archiving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Archived:
    key: str
    title: str
    key_results: list[str]


def archive(
    session: Session,
    *,
    team_id: str,
    key: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    today: date,
) -> Archived:
    """Archive an OKR whose period is over (an objective takes its key results with it).

    Raises NotFound, NotAllowed (admins, the OKR's owner, its objective's owner), Conflict (already
    archived), or InvalidFields {"period": ...} while its period is still running.
    """
    okr = find(session, team_id, key)
    if okr is None:
        shown = escape(truncate(key.strip().upper(), KEY_LIMIT))
        raise NotFound(f"There is no OKR {shown}. `/okr` lists them.")
    parent = session.get(Okr, okr.parent_id) if okr.parent_id else None
    authz.require(Action.MANAGE_OKRS, actor_id, settings, subject(okr, parent))
    if okr.archived_at is not None:
        raise Conflict(f"{okr.key} is already archived.")
    try:
        period = parse_period(okr.period) if okr.period else None
    except ValueError:
        period = None
    if period is not None and not period.is_over(today):
        raise InvalidFields(
            {
                "period": f"{okr.key}'s period {period.text} runs until "
                f"{period.end.strftime('%d %b %Y')}; it can be archived after that."
            }
        )
    archived = [okr]
    if okr.kind is OkrKind.OBJECTIVE:
        archived += list(
            session.scalars(
                sa.select(Okr)
                .where(Okr.team_id == team_id, Okr.parent_id == okr.id, Okr.archived_at.is_(None))
                .order_by(Okr.key)
            )
        )
    for item in archived:
        item.archived_at = now
        item.updated_at = now
        history.record(
            session,
            team_id=team_id,
            subject=f"okr:{item.id}",
            kind="okr.archived",
            at=now,
            actor_id=actor_id,
            key=item.key,
        )
    return Archived(okr.key, okr.title, [k.key for k in archived[1:]])


# -- reading the registry -------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Choice:
    """One option of an OKR select: `value` is the OKR's id."""

    value: str
    text: str


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


@dataclass(frozen=True)
class OkrGroup:
    objective: Okr
    key_results: list[Okr]


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


def progress(okr: Okr) -> float | None:
    """How far the metric has come from start to target, 0.0–1.0 (can pass either end; falling
    targets too), or None when that can't be said: without a start, a target and a current value
    (a start is not assumed to be 0: "cut churn to 3%" would read as 120%). A target equal to its
    start (hold a value) is 1.0 while the current value is there. The one rule `/okr`,
    `/initiative okr` and the digest share."""
    start, target, current = okr.metric_start, okr.metric_target, okr.metric_current
    if start is None or target is None or current is None:
        return None
    if target == start:
        return 1.0 if current == start else None
    return (current - start) / (target - start)


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


# -- /okr, parsed ---------------------------------------------------------------------------------


class OkrCommandKind(StrEnum):
    LIST = "list"  # /okr, /okr words
    HELP = "help"
    ADD = "add"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class OkrCommand:
    kind: OkrCommandKind
    arg: str = ""


def parse_command(text: str) -> OkrCommand:
    """What `/okr <text>` asks for. Anything that is not a known subcommand is a search, so a
    subcommand another module answers (`/okr digest`) never fails here."""
    words = (text or "").split()
    if not words:
        return OkrCommand(OkrCommandKind.LIST)
    first = words[0].lower()
    rest = " ".join(words[1:])
    if first in ("help", "?", "-h", "--help") and len(words) == 1:
        return OkrCommand(OkrCommandKind.HELP)
    if first == "add":
        return OkrCommand(OkrCommandKind.ADD, rest)
    if first == "archive" and len(words) == 2:
        return OkrCommand(OkrCommandKind.ARCHIVE, words[1])
    if first == "archive" and len(words) == 1:
        return OkrCommand(OkrCommandKind.HELP)
    return OkrCommand(OkrCommandKind.LIST, " ".join(words))

"""One OKR row as a person wrote it (a file's line or the `/okr add` form), checked on its own:
its key, title, objective, owner, period, link, priority, metric, governance channel, archived flag."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.mrkdwn import truncate
from bot.core.text import clean
from bot.okrs.models import KEY_LIMIT, TITLE_LIMIT, UNIT_LIMIT, SourceRow
from bot.okrs.service.links import is_link, normalise_url
from bot.okrs.service.periods import parse_period

_KEY = re.compile(r"^[A-Z0-9][A-Z0-9._-]*$")
_KR_KEY = re.compile(r"^(?P<parent>.+)-KR\d+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n"}


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


def owners_to_resolve(rows: Iterable[SourceRow]) -> set[str]:
    """The owner references (user ids, lower-case emails) a file names: the caller asks Slack."""
    found = set()
    for row in rows:
        ref = owner_reference(str(row.values.get("owner") or ""))
        if ref:
            found.add(ref)
    return found


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
    return "" if value is None else clean(str(value))


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

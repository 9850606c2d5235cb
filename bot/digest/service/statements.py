"""What every digest statement shares: the workspace and period as bound parameters (its
statements are built once), and how a row's values are read (titles on one line, ages in whole
days, keys in natural order)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.digest.models import ReportingPeriod
from storage.types import UTCDateTime

# the period and workspace a digest statement is about, as bound parameters: its statements are
# built once, and building one costs more than running it on a small workspace
_TEAM = sa.bindparam("team_id", type_=sa.String)
_START = sa.bindparam("start", type_=UTCDateTime())
_END = sa.bindparam("end", type_=UTCDateTime())
_END_DATE = sa.bindparam("end_date", type_=sa.Date)
_CUTOFF = sa.bindparam("cutoff", type_=UTCDateTime())
_OBJECTIVES = sa.bindparam("objectives", type_=sa.Text)


def _period_parameters(team_id: str, period: ReportingPeriod) -> dict[str, Any]:
    return {"team_id": team_id, "start": period.start, "end": period.end, "end_date": period.end_date}


def _natural(key: str) -> tuple[Any, ...]:
    """Sort O2 before O10."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", key))


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _days(later: datetime, earlier: datetime | None) -> int | None:
    if earlier is None:
        return None
    return max(0, (later - earlier).days)

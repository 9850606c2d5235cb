"""`throughline export`: what was exported is what the database holds, row for row and value for
value, in both formats (and on both databases); CSV cells a spreadsheet would run are neutralised
and come back unchanged; `--since` and `--team` narrow it; the column names are the documented ones."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.audit.service import export
from bot.core import history
from bot.core.csvsafe import restore
from storage.db import Database
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    Escalation,
    Event,
    Health,
    Initiative,
    Okr,
)
from tests import factories as f
from tests.conftest import START
from tests.test_cli import run_cli

HOSTILE = [
    '=HYPERLINK("https://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    'line\nbreak, "quoted"',
]
DOCUMENTED = Path(__file__).resolve().parents[1] / "docs" / "export-and-audit.md"


def fill(db: Database) -> None:
    with db.session() as s:
        objective = f.okr(s, "O1", now=START, title=HOSTILE[0], metric_target=12.5)
        kr = f.okr(s, "O1-KR1", now=START, parent=objective, title="Grow ünïcode ✓")
        items = [
            f.initiative(
                s,
                kr,
                now=START + timedelta(days=n),
                title=HOSTILE[n % len(HOSTILE)],
                description=f"desc {n}\n-second line",
                health=Health.AT_RISK if n % 2 else None,
                due_date=date(2026, 4, n + 1),
            )
            for n in range(6)
        ]
        dep = f.dependency(s, items[0], items[1], now=START, what="@an API")
        f.dependency(s, items[2], None, now=START, provider_team="Platform", provider_contact_id="U0BOB")
        f.escalation(
            s,
            dep,
            now=START + timedelta(days=1),
            reason="stalled",
            acknowledged_by="U0GOV",
            acknowledged_at=START + timedelta(days=2),
        )
        for n, item in enumerate(items):
            slot = f.checkin(s, item, slot_at=START + timedelta(weeks=n), status=CheckinStatus.ANSWERED)
            f.checkin_update(
                s,
                item,
                at=START + timedelta(weeks=n, hours=1),
                moved=HOSTILE[n],
                blockers="-",
                checkin_id=slot.id,
            )
            history.record_initiative(
                s, item, "checkin.answered", at=START + timedelta(weeks=n), moved=HOSTILE[n]
            )
        for step in ("escalation.opened", "escalation.level2", "escalation.acknowledged"):
            history.record_initiative(s, items[0], step, at=START, escalation=1, level=2, actor_id="U0GOV")
        f.okr(s, "O9", now=START, team_id="T0OTHER")


def exported(out: Path, name: str, fmt: str) -> list[dict[str, Any]]:
    text = (out / f"{name}.{fmt}").read_text(encoding="utf-8")
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(text.splitlines(keepends=True)))


def same(cell: Any, value: Any, fmt: str) -> bool:
    """Whether an exported cell says `value` (the database's), read back as a user would."""
    if fmt == "csv":
        assert isinstance(cell, str)
        if value is None:
            return cell == ""
        if isinstance(value, dict | list):
            return json.loads(cell) == value
        cell = restore(cell)
    elif value is None or isinstance(value, dict | list | int | float):
        return cell == value
    if isinstance(value, bool):
        return cell in ("true", True) if value else cell in ("false", False)
    if isinstance(value, datetime):
        return datetime.fromisoformat(cell) == value
    if isinstance(value, date):
        return date.fromisoformat(cell) == value
    if isinstance(value, Enum):
        return cell == value.value
    if isinstance(value, int | float):
        return float(cell) == value
    return cell == value


def keys(s: Session, model: Any) -> dict[int, str]:
    return {row.id: row.key for row in s.execute(sa.select(model.id, model.key))}


def database_rows(s: Session, team: str | None) -> dict[str, list[dict[str, Any]]]:
    """What the database holds, read through the models, in the export's columns."""
    initiative_keys, okr_keys = keys(s, Initiative), keys(s, Okr)

    def every(model: Any) -> list[Any]:
        statement = sa.select(model).order_by(model.id)
        return list(s.scalars(statement.where(model.team_id == team) if team else statement))

    def plain(row: Any, columns: tuple[str, ...], **extra: Any) -> dict[str, Any]:
        return {c: extra[c] if c in extra else getattr(row, c) for c in columns}

    columns = {k.name: k.columns for k in export.KINDS}
    deps = {d.id: d for d in every(Dependency)}
    in_chain_order = sorted(every(Event), key=lambda e: (e.team_id, e.seq, e.id))
    return {
        "initiatives": [
            plain(i, columns["initiatives"], okr_key=okr_keys[i.okr_id]) for i in every(Initiative)
        ],
        "checkins": [
            plain(c, columns["checkins"], initiative_key=initiative_keys[c.initiative_id])
            for c in every(Checkin)
        ],
        "checkin_answers": [
            plain(
                u,
                columns["checkin_answers"],
                initiative_key=initiative_keys[u.initiative_id],
                answered_at=u.created_at,
            )
            for u in every(CheckinUpdate)
        ],
        "dependencies": [
            plain(
                d,
                columns["dependencies"],
                waiter_key=initiative_keys[d.waiter_id],
                provider_key=initiative_keys.get(d.provider_id),
            )  # type: ignore[arg-type]
            for d in deps.values()
        ],
        "escalations": [
            plain(
                e,
                columns["escalations"],
                waiter_key=initiative_keys[deps[e.dependency_id].waiter_id],
                provider_key=initiative_keys.get(deps[e.dependency_id].provider_id),
            )  # type: ignore[arg-type]
            for e in every(Escalation)
        ],
        "escalation_steps": [
            {
                "team_id": e.team_id,
                "event_id": e.id,
                "escalation_id": e.data.get("escalation"),
                "step": e.kind.removeprefix("escalation."),
                "level": e.data.get("level"),
                "initiative_key": initiative_keys.get(e.initiative_id),
                "actor_id": e.actor_id,
                "at": e.at,
                "detail": e.data,
            }  # type: ignore[arg-type]
            for e in in_chain_order
            if e.kind.startswith("escalation.")
        ],
        "okrs": [plain(o, columns["okrs"], parent_key=okr_keys.get(o.parent_id)) for o in every(Okr)],  # type: ignore[arg-type]
        "events": [
            plain(e, columns["events"], initiative_key=initiative_keys.get(e.initiative_id))  # type: ignore[arg-type]
            for e in in_chain_order
        ],
    }


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_export_is_the_database_row_for_row(db: Database, tmp_path: Path, fmt: str) -> None:
    fill(db)
    out = tmp_path / "out"
    result = run_cli("export", "--format", fmt, "--out", str(out), env={"DATABASE_URL": db.url})
    assert result.returncode == 0, result.stderr
    with db.read() as s:
        expected = database_rows(s, None)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{k.name}.{fmt}" for k in export.KINDS)
    for name, rows in expected.items():
        got = exported(out, name, fmt)
        assert len(got) == len(rows) > 0, name
        assert f"{out / name}.{fmt}: {len(rows)} rows" in result.stdout
        for mine, theirs in zip(got, rows, strict=True):
            assert list(mine) == list(theirs), name  # the columns, in their order
            wrong = {c: (mine[c], theirs[c]) for c in theirs if not same(mine[c], theirs[c], fmt)}
            assert wrong == {}, (name, theirs.get("id"))


def test_csv_cells_that_would_run_as_formulas_are_neutralised(db: Database, tmp_path: Path) -> None:
    fill(db)
    out = tmp_path / "out"
    assert (
        run_cli("export", "--format", "csv", "--out", str(out), env={"DATABASE_URL": db.url}).returncode == 0
    )
    cells = [
        cell
        for name in ("initiatives", "okrs", "checkin_answers", "dependencies")
        for row in exported(out, name, "csv")
        for cell in row.values()
    ]
    assert cells and not [
        c for c in cells if c and c[0] in "=+-@\t\r" and not re.fullmatch(r"-?\d+(\.\d+)?", c)
    ]
    titles = [row["title"] for row in exported(out, "initiatives", "csv")]
    assert titles[:2] == ["'" + HOSTILE[0], "'+1+1"]


def test_team_and_since_narrow_the_export(db: Database, tmp_path: Path) -> None:
    fill(db)
    out = tmp_path / "out"
    env = {"DATABASE_URL": db.url}
    assert run_cli("export", "--team", "T0OTHER", "--out", str(out), env=env).returncode == 0
    assert [r["key"] for r in exported(out, "okrs", "jsonl")] == ["O9"]
    assert exported(out, "initiatives", "jsonl") == []
    assert (
        run_cli("export", "--team", "T0FAKE", "--since", "2026-03-05", "--out", str(out), env=env).returncode
        == 0
    )
    created = [datetime.fromisoformat(r["created_at"]) for r in exported(out, "initiatives", "jsonl")]
    assert len(created) == 3 and min(created) >= START + timedelta(days=3)
    answered = [r["answered_at"] for r in exported(out, "checkin_answers", "jsonl")]
    assert len(answered) == 5


def test_the_columns_are_the_documented_ones() -> None:
    """The column names are a contract: docs/export-and-audit.md lists each file's, in order."""
    text = DOCUMENTED.read_text(encoding="utf-8")
    for kind in export.KINDS:
        line = next((ln for ln in text.splitlines() if ln.startswith(f"| `{kind.name}`")), None)
        assert line is not None, kind.name
        assert ", ".join(kind.columns) in line.replace("`", ""), kind.name

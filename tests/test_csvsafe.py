"""Exported cells never run as formulas in a spreadsheet, and import back exactly as they were."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.csvsafe import neutralise, restore
from tests.test_okr_import import HEADER, registry, throughline, write  # noqa: F401  (fixture)

FORMULAS = ['=HYPERLINK("https://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_cells_a_spreadsheet_would_run_are_shown_as_text() -> None:
    for cell in FORMULAS:
        assert neutralise(cell) == "'" + cell
    for cell in ["-5", "+3.5", "1e5", "plain", "", "'quoted", "a=b"]:
        assert neutralise(cell) == cell


@given(st.text(alphabet=st.sampled_from("'=+-@\t\r5.eaZ "), max_size=8) | st.text(max_size=20))
def test_restore_undoes_neutralise_for_any_text(cell: str) -> None:
    assert restore(neutralise(cell)) == cell
    assert neutralise(cell)[:1] not in "=+-@\t\r" or neutralise(cell) == cell


def test_okr_export_neutralises_formulas_and_imports_back_unchanged(
    throughline: Any,  # noqa: F811  (the fixture imported above)
    database_url: str,
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    for i, title in enumerate([*FORMULAS[:4], "''=typed quotes"], 1):
        writer.writerow([f"O{i}", title, "", "U0CAROL", "2026-Q1"] + [""] * 6)
    path = write(tmp_path, "in.csv", out.getvalue())
    result = throughline("okr", "import", str(path))
    assert result.exit_code == 0, result.output
    titles = {k: o.title for k, o in registry(database_url).items()}

    exported = throughline("okr", "export", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    cells = [row[1] for row in csv.reader(io.StringIO(exported.output))][1:]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells), cells

    again = write(tmp_path, "again.csv", exported.output)
    result = throughline("okr", "import", str(again))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("created 0, updated 0, 5 unchanged")
    assert {k: o.title for k, o in registry(database_url).items()} == titles

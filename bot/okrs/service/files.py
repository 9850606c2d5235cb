"""OKR files: CSV and YAML in, CSV and YAML out. Formats only; `service.plan` checks the contents.

CSV: a header row naming columns (`models.COLUMNS`, any order; `key` and `title` required), one OKR
per row. YAML: a list of mappings with the same names; an objective may list its key results
under `key_results:` (their `parent` is then that objective). Every problem is reported with the
line it is on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.core.csvsafe import neutralise, restore
from bot.okrs.models import COLUMNS, REQUIRED_COLUMNS, SourceRow

NESTED = "key_results"


class FileFormatError(Exception):
    """The file can't be read as OKRs; `errors` are "line N: ..." strings."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def read(path: Path) -> list[SourceRow]:
    """The rows of a `.csv`, `.yaml` or `.yml` file; raises FileFormatError."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise FileFormatError([f"{path.name}: use a .csv, .yaml or .yml file"])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError([f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return read_csv(text) if suffix == ".csv" else read_yaml(text)


# -- CSV --------------------------------------------------------------------------------------------


def read_csv(text: str) -> list[SourceRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileFormatError(["line 1: the file is empty; it needs a header row (key,title,...)"]) from None
    except csv.Error as exc:
        raise FileFormatError([f"line 1: {exc}"]) from None
    names = [h.strip().lower() for h in header]
    errors = _check_columns(names, line=1)
    if errors:
        raise FileFormatError(errors)
    rows: list[SourceRow] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"line {start}: {exc}")
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            errors.append(f"line {start}: {len(cells)} cells but the header names {len(names)} columns")
            continue
        values = {name: restore(cells[i]) if i < len(cells) else "" for i, name in enumerate(names)}
        rows.append(SourceRow(start, values))
    if errors:
        raise FileFormatError(errors)
    return rows


def _check_columns(names: Sequence[str], line: int) -> list[str]:
    errors = []
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        errors.append(
            f"line {line}: unknown column(s) {', '.join(repr(n) for n in unknown)}; "
            f"the columns are {', '.join(COLUMNS)}"
        )
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        errors.append(f"line {line}: column(s) {', '.join(doubled)} appear more than once")
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    if missing:
        errors.append(f"line {line}: the header needs the column(s) {', '.join(missing)}")
    return errors


# -- YAML -------------------------------------------------------------------------------------------


def read_yaml(text: str) -> list[SourceRow]:
    try:
        _refuse_aliases(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "line 1"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FileFormatError([f"{where}: not valid YAML ({problem})"]) from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise FileFormatError(
            [f"line {root.start_mark.line + 1}: the file should be a list of OKRs (see examples/okrs.yaml)"]
        )
    rows: list[SourceRow] = []
    errors: list[str] = []
    for item in root.value:
        _read_item(item, None, rows, errors)
    if errors:
        raise FileFormatError(errors)
    return rows


def _refuse_aliases(text: str) -> None:
    """Aliases (`*name`) are refused before anything is built: a few aliases of aliases multiply a
    small file into millions of rows ("billion laughs"), and an OKR file has no need of them."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            raise FileFormatError(
                [f"line {line}: YAML aliases (*{event.anchor}) are not accepted; write each OKR out in full"]
            )


def _read_item(node: yaml.Node, parent: str | None, rows: list[SourceRow], errors: list[str]) -> None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        errors.append(f"line {line}: each OKR should be a mapping of field: value")
        return
    values: dict[str, str] = {}
    children: list[yaml.Node] = []
    for key_node, value_node in node.value:
        name = str(key_node.value).strip().lower()
        if name == NESTED and parent is None:
            if isinstance(value_node, yaml.SequenceNode):
                children = list(value_node.value)
            elif not (isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null")):
                errors.append(f"line {value_node.start_mark.line + 1}: {NESTED} should be a list")
            continue
        if name not in COLUMNS:
            errors.append(
                f"line {key_node.start_mark.line + 1}: unknown field {name!r}; the fields are "
                f"{', '.join(COLUMNS)}" + (f" and {NESTED}" if parent is None else "")
            )
            continue
        if not isinstance(value_node, yaml.ScalarNode):
            errors.append(f"line {value_node.start_mark.line + 1}: {name} should be a single value")
            continue
        values[name] = _scalar(value_node)
    if parent is not None:
        given = values.get("parent", "").strip()
        if given and given.upper() != parent.upper():
            errors.append(
                f"line {line}: parent {given} contradicts the objective it is listed under ({parent})"
            )
        values["parent"] = parent
    rows.append(SourceRow(line, values))
    for child in children:
        _read_item(child, values.get("key", "").strip() or "?", rows, errors)


def _scalar(node: yaml.ScalarNode) -> str:
    """The text as written (so `title: No` stays "No", not YAML 1.1's false); null is empty."""
    if node.tag == "tag:yaml.org,2002:null":
        return ""
    return str(node.value)


# -- writing --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows of `reading.export_rows` as CSV with a header (reads back with `read_csv`); a cell a
    spreadsheet would run as a formula is neutralised (`core.csvsafe`) and restored on import."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([neutralise(_cell(row.get(c))) for c in COLUMNS])
    return out.getvalue()


def write_yaml(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows of `reading.export_rows` as a YAML list (reads back with `read_yaml`); empty fields left out."""
    items = []
    for row in rows:
        item: dict[str, Any] = {}
        for column in COLUMNS:
            value = row.get(column)
            if value is None:
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            item[column] = value
        items.append(item)
    return yaml.safe_dump(items, sort_keys=False, allow_unicode=True, width=110)

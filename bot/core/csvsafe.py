"""Cells safe to open in a spreadsheet, and back again without loss.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (OWASP, "CSV Injection"). `neutralise` puts a `'` in front of such a
cell, which spreadsheets show as text; `restore` takes it away again, so a file exported and
imported again holds exactly what it held. A cell that already starts with quotes in front of such a
character gets one more, so `restore` never takes a quote the user typed. Plain numbers ("-5",
"+3.5") are not formulas and stay as they are.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
TRIGGERS = frozenset("=+-@\t\r")


def neutralise(cell: str) -> str:
    """`cell` as a spreadsheet shows it as text."""
    return "'" + cell if _risky(cell.lstrip("'")) else cell


def restore(cell: str) -> str:
    """The text `neutralise` was given."""
    if cell.startswith("'") and _risky(cell[1:].lstrip("'")):
        return cell[1:]
    return cell


def _risky(text: str) -> bool:
    return text[:1] in TRIGGERS and not _NUMBER.fullmatch(text)

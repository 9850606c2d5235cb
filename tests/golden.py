"""Golden files: compare rendered output with a checked-in file under tests/golden/.

`UPDATE_GOLDEN=1 pytest ...` rewrites the files instead of comparing; review the diff before
committing it (it is what people will read).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"{path} does not exist; run with UPDATE_GOLDEN=1 to create it, then review it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="rendered",
            )
        )
        raise AssertionError(
            f"the rendering differs from golden/{name} (UPDATE_GOLDEN=1 rewrites it):\n{diff}"
        )

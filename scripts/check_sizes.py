"""`make lint`: no product file over 500 lines. A file that grows past it holds several
responsibilities; split it by what each part does. Prints each offender and exits 1."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 500
ROOTS = ("bot", "storage")
SKIP = ("storage/migrations/versions",)  # a migration is one revision, however long


def offenders(root: Path) -> list[tuple[str, int]]:
    found = []
    for top in ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name.startswith(SKIP):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                found.append((name, lines))
    return found


def main() -> int:
    found = offenders(Path(__file__).resolve().parents[1])
    for name, lines in found:
        print(f"{name}: {lines} lines, over the limit of {LIMIT}; split it by responsibility")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

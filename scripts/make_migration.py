"""Developer tool: write a new Alembic revision from the difference between the models and the
migrations so far.  Usage: python scripts/make_migration.py "add foo to bar"
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command

from storage.db import Database
from storage.migrate import alembic_config, upgrade


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/scratch.db")
        upgrade(db.engine)
        with db.engine.begin() as connection:
            script = command.revision(alembic_config(connection), message=sys.argv[1], autogenerate=True)
        db.dispose()
    path = getattr(script, "path", None)
    ruff = Path(sys.executable).with_name("ruff")
    if path and ruff.exists():  # keep generated code as tidy as the rest
        subprocess.run([str(ruff), "check", "--fix", "--quiet", path], check=False)
        subprocess.run([str(ruff), "format", "--quiet", path], check=False)


if __name__ == "__main__":
    main()

"""The shape of the code stays true: `make lint` names a file that outgrows its room, and every
capability package is under the import contracts (a new one cannot slip past them)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import check_sizes  # noqa: E402

PLATFORM = {
    *("app", "cli", "slack", "blockkit", "outbox", "core", "localslack", "localtrackers", "playground"),
    "simulate",
}


def test_a_product_file_over_500_lines_is_named(tmp_path: Path) -> None:
    (tmp_path / "bot" / "big").mkdir(parents=True)
    (tmp_path / "storage").mkdir()
    (tmp_path / "bot" / "big" / "service.py").write_text("x = 1\n" * 501)
    (tmp_path / "bot" / "big" / "models.py").write_text("x = 1\n" * 500)
    assert check_sizes.offenders(tmp_path) == [("bot/big/service.py", 501)]


def test_the_product_has_no_file_over_500_lines() -> None:
    assert check_sizes.offenders(ROOT) == []


def test_every_capability_is_under_the_contracts() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["id"]: c for c in config["contracts"]}
    packages = {p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists()}
    capabilities = {f"bot.{name}" for name in packages - PLATFORM}
    assert set(contracts["capability"]["containers"]) == capabilities
    layered = {m.strip() for layer in contracts["layers"]["layers"] for m in layer.split("|")}
    assert {f"bot.{name}" for name in packages - {"localslack", "localtrackers"}} <= layered

"""manifest.yml is what users create the app from: it must be valid for Slack and match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT.parent / "shared" / "slack" / "manifest-schema" / "schemas"


def load_manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    manifest = load_manifest()
    major = manifest.get("_metadata", {}).get("major_version", 1)
    schema_path = SCHEMAS / f"manifest.schema.{major}.0.0.json"
    if not schema_path.exists():  # a checkout outside the workspace: use the copy in tests/
        schema_path = ROOT / "tests" / "data" / f"manifest.schema.{major}.0.0.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(manifest, schema)


def _registered(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found |= set(re.findall(pattern, path.read_text()))
    return found


def test_every_slash_command_in_the_manifest_has_a_handler_and_back() -> None:
    in_manifest = {c["command"] for c in load_manifest()["features"]["slash_commands"]}
    assert in_manifest == _registered(r"app\.command\(\s*\"(/[a-z0-9_-]+)\"")


def test_shortcuts_in_the_manifest_have_handlers() -> None:
    in_manifest = {s["callback_id"] for s in load_manifest()["features"].get("shortcuts", [])}
    assert in_manifest <= _registered(r"app\.(?:shortcut|global_shortcut|message_shortcut)\(\s*\"([a-z_]+)\"")


def test_subscribed_events_have_handlers() -> None:
    events = set(load_manifest()["settings"]["event_subscriptions"].get("bot_events") or [])
    assert events <= _registered(r"app\.event\(\s*\"([a-z_]+)\"")

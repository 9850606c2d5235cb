"""`throughline tick --now` as an operator runs it: a real process nudging an owner at their 09:00."""

from __future__ import annotations

from pathlib import Path

from bot.core.config import WorkspaceSettings
from storage.db import Database
from tests.checkin_support import nudges, seed
from tests.slackfake import BOT_TOKEN, FakeSlack
from tests.test_cli import run_cli


def test_tick_now_sends_a_due_nudge_once(tmp_path: Path, fake: FakeSlack) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tick.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.url,
        "THROUGHLINE_TIMEZONE": "Europe/Berlin",
    }
    assert run_cli("db", "upgrade", env=env).returncode == 0
    database = Database(env["DATABASE_URL"])
    try:
        defaults = WorkspaceSettings(timezone="Europe/Berlin")
        alice = seed(database, defaults, owner="U0ALICE")
        seed(database, defaults, owner="U0CAROL")
    finally:
        database.dispose()

    early = run_cli("tick", "--now", "2026-03-02T07:59Z", env=env)
    assert early.returncode == 0, early.stderr
    assert "  checkins: nothing to do" in early.stdout
    assert nudges(fake, "U0ALICE") == []

    due = run_cli("tick", "--now", "2026-03-02T08:00Z", env=env)  # 09:00 in Berlin
    assert due.returncode == 0, due.stderr
    assert "  checkins: asked=1, messages=1" in due.stdout
    assert "  delivery: sent=1," in due.stdout
    (message,) = nudges(fake, "U0ALICE")
    assert message.text == f"Check-in: how is {alice} going?"
    assert nudges(fake, "U0CAROL") == []  # 13:30 in Kolkata: her first slot is next Monday

    again = run_cli("tick", "--now", "2026-03-02T08:00Z", env=env)
    assert again.returncode == 0 and "  checkins: nothing to do" in again.stdout
    assert len(nudges(fake, "U0ALICE")) == 1

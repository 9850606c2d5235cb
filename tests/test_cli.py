"""`throughline` as an operator meets it: real processes, real ports, one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SIGNING_SECRET
from tests.processes import ROOT, clean_env, free_port
from tests.slackfake import BOT_TOKEN, FakeSlack
from tests.slackhttp import SlackHTTP


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(env),
        cwd=cwd or ROOT,
    )


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("run", "serve", "tick", "db", "outbox", "audit", "export"):
        assert f"  {command} " in result.stdout


def test_run_without_tokens_exits_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("throughline: error: SLACK_BOT_TOKEN is not set")

    result = run_cli("run", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("throughline: error: SLACK_APP_TOKEN is not set")


def test_a_malformed_setting_stops_with_one_line(tmp_path: Path) -> None:
    result = run_cli("tick", env={"THROUGHLINE_TIMEZONE": "Atlantis/Capital"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "throughline: error: THROUGHLINE_TIMEZONE: 'Atlantis/Capital' is not an IANA time zone "
        "(e.g. Europe/Berlin, America/New_York)"
    ]
    assert "Traceback" not in result.stderr


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    first = run_cli("db", "upgrade", env=env)
    assert first.returncode == 0 and first.stdout.startswith("database upgraded: empty -> ")
    again = run_cli("db", "upgrade", env=env)
    assert again.stdout.startswith("database already at")
    current = run_cli("db", "current", env=env)
    lines = current.stdout.splitlines()
    assert lines[0].split(": ")[1] == lines[1].split(": ")[1]


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2
    assert result.stderr.startswith("throughline: error: DATABASE_URL: cannot reach the database")
    assert len(result.stderr.strip().splitlines()) == 1


def test_tick_with_now_runs_one_pass(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'tick.db'}"}
    result = run_cli("tick", "--now", "2026-03-02T09:00Z", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tick at 2026-03-02T09:00:00+00:00")
    bad = run_cli("tick", "--now", "2026-03-02T09:00", env=env)
    assert bad.returncode == 2 and "has no time zone" in bad.stderr


def test_serve_answers_health_and_refuses_unsigned_or_replayed_requests(
    tmp_path: Path, fake: FakeSlack
) -> None:
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
        env=clean_env(env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    assert response.status == 200
                    assert json.loads(response.read())["database"] == "ok"
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve did not come up: {process.communicate()[1]}")
                time.sleep(0.2)

        slack = SlackHTTP(base + "/slack/events", SIGNING_SECRET, fake)
        fields = {"command": "/initiative", "text": "", "user_id": "U0ALICE", "team_id": "T0FAKE"}
        assert slack.post_form(fields, sign_request=False).status == 401
        assert slack.post_form(fields, timestamp=int(time.time()) - 400).status == 401
        signed = slack.command("/initiative", "", user="U0ALICE")
        assert signed.status == 200 and "no initiatives yet" in signed.json()["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    assert process.returncode == 0, stderr


def test_outbox_lists_parked_messages_and_retry_requeues_them(tmp_path: Path, fake: FakeSlack) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'outbox.db'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.url,
        "THROUGHLINE_ADMINS": "U0ADMIN",
    }
    assert run_cli("db", "upgrade", env=env).returncode == 0
    from datetime import UTC, datetime

    from bot import outbox
    from storage.db import Database

    database = Database(env["DATABASE_URL"])
    with database.session() as session:
        outbox.enqueue(
            session,
            team_id="T0FAKE",
            key="digest:T0FAKE:2026-03-06",
            channel="C0GONE",
            text="the digest",
            now=datetime.now(UTC),
        )
    database.dispose()
    assert run_cli("tick", env=env).returncode == 0  # channel_not_found: parked, the admin told

    listed = run_cli("outbox", env=env)
    assert listed.returncode == 0
    parked = [line for line in listed.stdout.splitlines() if "digest:T0FAKE:2026-03-06" in line]
    assert len(parked) == 1 and "parked" in parked[0] and "[channel_not_found]" in parked[0]
    row_id = parked[0].split()[0]

    assert run_cli("outbox", "retry", "999", env=env).returncode == 1
    fake.add_channel("C0GONE")
    retried = run_cli("outbox", "retry", row_id, env=env)
    assert retried.returncode == 0 and "re-queued 1 message(s)" in retried.stdout
    assert run_cli("tick", env=env).returncode == 0
    assert [m.text for m in fake.posts("C0GONE")] == ["the digest"]
    assert "nothing waiting" in run_cli("outbox", env=env).stdout


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_sqlite_url_with_two_slashes_is_one_line(tmp_path: Path) -> None:
    line = one_line(run_cli("tick", env={"DATABASE_URL": "sqlite://relative.db"}, cwd=tmp_path))
    assert line.startswith("throughline: error: DATABASE_URL: 'sqlite://relative.db' names no file")


def test_commands_on_a_database_never_migrated_say_so_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    for args in (("outbox",), ("outbox", "retry", "1"), ("okr", "export", "--team", "T0FAKE")):
        line = one_line(run_cli(*args, env=env, cwd=tmp_path))
        assert line.startswith(
            "throughline: error: DATABASE_URL: the database has no Throughline schema yet"
        ), args
        assert "no such table" in line and line.endswith("`throughline db upgrade` creates it")


def test_a_missing_file_argument_is_one_line(tmp_path: Path) -> None:
    line = one_line(run_cli("okr", "import", "nope.csv", cwd=tmp_path))
    assert line == (
        "throughline: error: Invalid value for 'FILE': File 'nope.csv' does not exist. "
        "(see `throughline okr import --help`)"
    )
    line = one_line(run_cli("okr", "import", cwd=tmp_path))
    assert line == "throughline: error: Missing argument 'FILE'. (see `throughline okr import --help`)"


def test_tick_refuses_a_database_that_holds_something_else(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    line = one_line(run_cli("tick", env={"DATABASE_URL": f"sqlite:///{path}"}, cwd=tmp_path))
    assert line == (
        "throughline: error: DATABASE_URL: the database holds tables (invoices) but no Throughline "
        "schema; point DATABASE_URL at an empty database or at Throughline's own"
    )
    with sqlite3.connect(path) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"invoices"}


def test_migrate_on_start_off_on_an_empty_database_says_how_to_create_the_schema(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "THROUGHLINE_MIGRATE_ON_START": "false"}
    line = one_line(run_cli("tick", env=env, cwd=tmp_path))
    assert "None" not in line
    assert line.startswith("throughline: error: the database has no Throughline schema yet")
    assert "`throughline db upgrade`" in line


def test_escalation_levels_out_of_order_stop_the_command_in_one_line(tmp_path: Path) -> None:
    env = {"THROUGHLINE_ESCALATE_LEVEL2_DAYS": "9", "THROUGHLINE_ESCALATE_LEVEL3_DAYS": "3"}
    line = one_line(run_cli("tick", env=env, cwd=tmp_path))
    assert line.startswith("throughline: error: THROUGHLINE_ESCALATE_LEVEL3_DAYS (3) must be more than")


def test_serve_starts_without_slack_says_so_and_becomes_ready_when_slack_appears(
    tmp_path: Path, fake: FakeSlack, database_url: str
) -> None:
    from urllib.parse import urlsplit

    from tests.tcpproxy import TcpProxy

    target = urlsplit(fake.url)
    proxy = TcpProxy("127.0.0.1", int(target.port or 0))  # not started: its port refuses connections
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"http://127.0.0.1:{proxy.port}/api/",
        "DATABASE_URL": database_url,
        "THROUGHLINE_LOG_LEVEL": "WARNING",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--no-scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=clean_env(env),
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )

    def get(path: str) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait(predicate: object, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if predicate():  # type: ignore[operator]
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError(log.read_text())

    try:
        wait(lambda: get("/livez")[0] == 200)
        status, body = get("/readyz")
        assert status == 503 and "cannot reach Slack" in str(body["not_ready"]["slack"])  # type: ignore[index]
        assert get("/healthz")[0] == 200
        wait(lambda: "Slack" in log.read_text())
        lines = [line for line in log.read_text().splitlines() if "Slack" in line]
        assert len(lines) == 1 and lines[0].startswith("throughline: cannot reach Slack at"), lines
        assert "Traceback" not in log.read_text()

        proxy.start()  # Slack becomes reachable: no restart
        wait(lambda: get("/readyz") == (200, {"ok": True}))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)
        proxy.cut()

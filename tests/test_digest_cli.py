"""`throughline digest` as an operator runs it: a preview in the terminal, or the period's digest
posted once."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bot.core.workspaces import ensure_workspace
from storage import migrate
from storage.db import Database
from storage.models import Digest, Outbox
from tests import digest_org
from tests.conftest import START
from tests.slackfake import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.test_cli import run_cli

FRIDAY = "2026-03-06T15:00Z"


def seeded_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    database = Database(url)
    migrate.upgrade(database.engine)
    with database.session() as session:
        ensure_workspace(session, TEAM_ID, START)
        digest_org.seed(session)
    database.dispose()
    return url


def stored(url: str) -> tuple[list[Digest], list[Outbox]]:
    database = Database(url)
    try:
        with database.session() as session:
            return list(session.scalars(sa.select(Digest))), list(session.scalars(sa.select(Outbox)))
    finally:
        database.dispose()


def environment(url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.url,
        "THROUGHLINE_TIMEZONE": "Europe/Berlin",
        "THROUGHLINE_DIGEST_CHANNEL": "C0DIGEST",
        "THROUGHLINE_GOVERNANCE_CHANNEL": "C0GOVERN",
        **extra,
    }


def test_preview_prints_the_digest_and_posts_nothing(tmp_path: Path, fake: FakeSlack) -> None:
    url = seeded_database(tmp_path)
    result = run_cli("digest", "--preview", "--now", "2026-03-04T10:00Z", env=environment(url, fake))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Leadership digest preview · this week so far"
    assert "Since Fri 27 Feb 16:00 (Europe/Berlin)" in result.stdout
    # read as plain text: no mrkdwn entities or mention syntax in the terminal
    assert "Payment gateway <!channel> migration" in result.stdout and "&lt;" not in result.stdout
    assert "@U0CAROL" in result.stdout and "<@U0CAROL>" not in result.stdout
    assert result.stderr.strip().endswith("a preview; nothing was posted.")
    digests, outbox = stored(url)
    assert len(digests) == 1 and outbox == []  # only the seeded previous digest
    assert fake.calls_to("chat.postMessage") == [] and fake.files == {}


def test_preview_uses_templates_from_the_template_dir(tmp_path: Path, fake: FakeSlack) -> None:
    url = seeded_database(tmp_path)
    templates = tmp_path / "templates"
    (templates / "digest").mkdir(parents=True)
    (templates / "digest" / "header.txt.j2").write_text("Strategy review for {{ digest.team_id }}")
    env = environment(url, fake, THROUGHLINE_TEMPLATE_DIR=str(templates))
    result = run_cli("digest", "--preview", "--now", FRIDAY, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Strategy review for {TEAM_ID}"
    assert "This week so far" in result.stdout  # the other parts are the packaged templates


def test_digest_posts_the_periods_digest_once(tmp_path: Path, fake: FakeSlack) -> None:
    url = seeded_database(tmp_path)
    env = environment(url, fake)
    first = run_cli("digest", "--now", FRIDAY, env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"{TEAM_ID}: digest of the period to Fri 6 Mar 2026 16:00 (Europe/Berlin) queued for C0DIGEST "
        "with its chart",
        "delivery: sent=2, retrying=0, parked=0, waiting=0",
    ]
    (message,) = fake.posts("C0DIGEST")
    assert "Leadership digest · week to Fri 6 Mar 2026" in message.visible
    (upload,) = fake.files.values()
    assert upload["thread_ts"] == message.ts

    again = run_cli("digest", "--now", "2026-03-06T18:30Z", env=env)
    assert again.returncode == 0, again.stderr
    assert "was posted already; nothing to do" in again.stdout
    assert len(fake.posts("C0DIGEST")) == 1
    digests, _ = stored(url)
    assert sorted(d.period_start.isoformat() for d in digests) == ["2026-02-20", "2026-02-27"]


def test_digest_without_a_channel_or_a_workspace_says_what_is_missing(
    tmp_path: Path, fake: FakeSlack
) -> None:
    url = seeded_database(tmp_path)
    env = environment(url, fake)
    del env["THROUGHLINE_DIGEST_CHANNEL"]
    result = run_cli("digest", "--now", FRIDAY, env=env)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"{TEAM_ID}: no digest channel is set (THROUGHLINE_DIGEST_CHANNEL); nothing posted"
    )

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    database = Database(empty)
    migrate.upgrade(database.engine)
    database.dispose()
    result = run_cli("digest", "--preview", env=environment(empty, fake))
    assert result.returncode == 1
    assert result.stderr.startswith("throughline: error: no workspace yet")
    bad = run_cli("digest", "--now", "2026-03-06T15:00", env=environment(empty, fake))
    assert bad.returncode == 2 and "has no time zone" in bad.stderr


def test_help_lists_the_digest_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0 and "  digest " in result.stdout


def test_no_digest_due_says_when_the_next_one_is_posted(tmp_path: Path, fake: FakeSlack) -> None:
    # the workspace appeared on Monday 2 March: Friday 27 February's period is not its to post
    url = seeded_database(tmp_path)
    result = run_cli("digest", "--now", "2026-03-04T10:00Z", env=environment(url, fake))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"{TEAM_ID}: no digest is due yet: the period to Fri 27 Feb 2026 16:00 (Europe/Berlin) ended "
        "before Throughline first heard from this workspace; the next digest is posted "
        "Fri 6 Mar 2026 16:00 (Europe/Berlin)"
    )
    assert fake.posts("C0DIGEST") == []


def test_a_preview_with_no_workspace_says_what_that_means_and_what_to_do(
    tmp_path: Path, fake: FakeSlack
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    database = Database(empty)
    migrate.upgrade(database.engine)
    database.dispose()
    result = run_cli("digest", "--preview", env=environment(empty, fake))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "the first time it hears from Slack" in lines[0]
    assert "`throughline run` or `throughline serve`" in lines[0] and "--team" in lines[0]

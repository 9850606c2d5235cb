"""`throughline okr import` / `export`: files in, owners checked against (the fake) Slack, every bad
row reported with its line and nothing written, re-import updating by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import cli
from storage.db import Database
from storage.models import Event, Okr, OkrKind
from tests.conftest import SIGNING_SECRET
from tests.slackfake import BOT_TOKEN, FakeSlack
from tests.test_cli import ROOT, run_cli

HEADER = "key,title,parent,owner,period,url,priority,metric_unit,metric_start,metric_target,metric_current"


def env(fake: FakeSlack, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "THROUGHLINE_TIMEZONE": "Europe/Berlin",
    }


@pytest.fixture
def throughline(fake: FakeSlack, database_url: str) -> Any:
    """Run `throughline ARGS…` in this process against the fake Slack and the test database."""

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, list(args), env=env(fake, database_url), obj={})

    return run


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def registry(database_url: str, team: str = "T0FAKE") -> dict[str, Okr]:
    database = Database(database_url)
    try:
        with database.session() as s:
            return {o.key: o for o in s.scalars(sa.select(Okr).where(Okr.team_id == team))}
    finally:
        database.dispose()


def test_the_sample_csv_imports_with_owners_looked_up_by_email(throughline: Any, database_url: str) -> None:
    result = throughline("okr", "import", str(ROOT / "examples" / "okrs.csv"))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("okrs.csv: created 8, updated 0, 0 unchanged")

    okrs = registry(database_url)
    assert set(okrs) == {"O0", "O1", "O1-KR1", "O1-KR2", "O2", "O2-KR1", "O2-KR2", "O3"}
    o1, kr1, kr2 = okrs["O1"], okrs["O1-KR1"], okrs["O1-KR2"]
    assert (o1.kind, o1.owner_id, o1.priority, o1.period) == (OkrKind.OBJECTIVE, "U0CAROL", 5, "2026-Q1")
    # a KR: parent from its key, owner by email, priority and period from its objective
    assert (kr1.kind, kr1.parent_id, kr1.owner_id) == (OkrKind.KEY_RESULT, o1.id, "U0ALICE")
    assert (kr1.priority, kr1.period) == (5, "2026-Q1")
    assert (kr1.metric_unit, kr1.metric_start, kr1.metric_target, kr1.metric_current) == ("deals", 0, 20, 6)
    assert (kr2.parent_id, kr2.owner_id, kr2.url) == (o1.id, "U0BOB", "https://okr.example.com/o/1/kr/2")
    assert okrs["O2-KR1"].owner_id is None and okrs["O2-KR2"].priority == 3
    assert okrs["O2"].governance_channel == "C0GOVERN"
    assert okrs["O0"].archived_at is not None and okrs["O1"].archived_at is None


def test_the_sample_yaml_gives_the_same_registry_as_the_csv(throughline: Any, database_url: str) -> None:
    assert throughline("okr", "import", str(ROOT / "examples" / "okrs.csv")).exit_code == 0
    result = throughline("okr", "import", "--team", "T0OTHER", str(ROOT / "examples" / "okrs.yaml"))
    assert result.exit_code == 0, result.output

    from_csv = throughline("okr", "export").output
    from_yaml = throughline("okr", "export", "--team", "T0OTHER").output
    assert from_csv == from_yaml
    assert from_csv.splitlines()[0] == HEADER + ",governance_channel,archived"
    assert [line.split(",")[0] for line in from_csv.splitlines()[1:]] == [
        "O0",
        "O1",
        "O1-KR1",
        "O1-KR2",
        "O2",
        "O2-KR1",
        "O2-KR2",
        "O3",
    ]


BAD = f"""{HEADER}
O1,Grow revenue,,carol@example.com,2026-Q1,,5,,,,
O2,Ship faster,,nobody@example.com,2026-Q1,,3,,,,
O1-KR1,Close deals,,alice@example.com,,,9,deals,0,20,6
O7-KR1,An orphan key result,,alice@example.com,,,,,,,
O1,Grow revenue again,,carol@example.com,2026-Q1,,5,,,,
O3,Bad period,,U0NOPE,Q1 2026,,,,,,
O4,Bad numbers,,carol@example.com,2026-Q1,ftp://okr,,%,lots,1,
"""


def test_bad_rows_are_all_listed_by_line_and_nothing_is_imported(
    fake: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "okrs.csv", BAD)
    result = run_cli("okr", "import", str(path), env=env(fake, database_url))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        'line 3: owner "nobody@example.com" is not a Slack user',
        'line 4: priority "9" should be a whole number from 1 (low) to 5 (highest)',
        "line 5: objective O7 is neither in this file nor registered",
        "line 6: O1 is already on line 2",
        'line 7: period "Q1 2026" should look like 2026-Q1, 2026-H2, 2026-03 or 2026',
        'line 7: owner "U0NOPE" is not a Slack user',
        'line 8: url "ftp://okr" should be an https:// link',
        'line 8: metric_start "lots" is not a number',
        "throughline: error: okrs.csv: 8 error(s); nothing was imported",
    ]
    assert registry(database_url) == {}
    assert {c.method for c in fake.calls} >= {"users.lookupByEmail", "users.info", "auth.test"}


def test_reimport_updates_by_key_and_never_duplicates(
    throughline: Any, database_url: str, tmp_path: Path
) -> None:
    first = write(
        tmp_path,
        "okrs.csv",
        f"{HEADER}\nO1,Grow revenue,,U0CAROL,2026-Q1,,5,,,,\nO1-KR1,Close deals,,U0ALICE,,,,deals,0,20,6\n",
    )
    assert throughline("okr", "import", str(first)).exit_code == 0
    before = registry(database_url)

    second = write(
        tmp_path,
        "okrs2.csv",
        f"{HEADER}\no1,Grow revenue,,U0CAROL,2026-Q1,,4,,,,\n"
        f"o1-kr1,Close deals,,U0ALICE,,,,deals,0,20,9\n"
        f"O1-KR2,Keep churn down,,bob@example.com,,,,,,,\n",
    )
    result = throughline("okr", "import", str(second))

    assert result.exit_code == 0, result.output
    assert "  ~ O1 (priority)" in result.output and "  ~ O1-KR1 (priority, metric_current)" in result.output
    assert result.output.strip().endswith("okrs2.csv: created 1, updated 2, 0 unchanged")
    after = registry(database_url)
    assert set(after) == {"O1", "O1-KR1", "O1-KR2"}
    assert after["O1"].id == before["O1"].id and after["O1-KR1"].id == before["O1-KR1"].id
    assert (after["O1"].priority, after["O1-KR1"].priority, after["O1-KR1"].metric_current) == (4, 4, 9)
    assert after["O1-KR2"].priority == 4

    again = throughline("okr", "import", str(second))
    assert again.output.strip().endswith("created 0, updated 0, 3 unchanged")
    database = Database(database_url)
    with database.session() as s:
        kinds = s.scalars(sa.select(Event.kind).where(Event.subject == f"okr:{before['O1'].id}")).all()
    database.dispose()
    assert kinds == ["okr.created", "okr.updated"]


def test_a_dry_run_shows_the_changes_and_writes_nothing(throughline: Any, database_url: str) -> None:
    result = throughline("okr", "import", "--dry-run", str(ROOT / "examples" / "okrs.yaml"))
    assert result.exit_code == 0, result.output
    assert "  + O1-KR2" in result.output
    assert "would create 8, update 0, leave 0 unchanged (dry run: nothing was written)" in result.output
    assert registry(database_url) == {}


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_an_export_imports_back_unchanged(
    throughline: Any, database_url: str, tmp_path: Path, fmt: str
) -> None:
    assert throughline("okr", "import", str(ROOT / "examples" / "okrs.yaml")).exit_code == 0
    exported = throughline("okr", "export", "--format", fmt)
    assert exported.exit_code == 0
    path = write(tmp_path, f"again.{fmt}", exported.output)
    result = throughline("okr", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("created 0, updated 0, 8 unchanged")


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("a.csv", "key,title,colour\nO1,x,red\n", "line 1: unknown column(s) 'colour'"),
        ("a.csv", "title,owner\nx,y\n", "line 1: the header needs the column(s) key"),
        (
            "a.csv",
            f"{HEADER}\nO1,x,,U0CAROL,2026-Q1,,,,,,,extra\n",
            "line 2: 12 cells but the header names 11",
        ),
        ("a.yaml", "key: O1\ntitle: x\n", "line 1: the file should be a list of OKRs"),
        ("a.yaml", "- key: O1\n  title: [x, y\n", "line 3: not valid YAML"),
        (
            "a.yaml",
            "- &o {key: O1, title: x, owner: U0CAROL, period: 2026-Q1}\n- *o\n",
            "line 2: YAML aliases (*o) are not accepted",
        ),
        ("a.yaml", "- key: O1\n  title: x\n  colour: red\n", "line 3: unknown field 'colour'"),
        (
            "a.yaml",
            "- key: O1\n  title: x\n  key_results:\n    - key: O2-KR1\n      parent: O2\n      title: y\n",
            "line 4: parent O2 contradicts the objective it is listed under (O1)",
        ),
        ("a.txt", "O1", "a.txt: use a .csv, .yaml or .yml file"),
    ],
)
def test_unreadable_files_are_refused_with_the_line(
    throughline: Any, database_url: str, tmp_path: Path, name: str, text: str, error: str
) -> None:
    result = throughline("okr", "import", str(write(tmp_path, name, text)))
    assert result.exit_code == 1
    assert error in result.output and "nothing was imported" in result.output
    assert registry(database_url) == {}


def test_archiving_by_import_needs_the_period_to_be_over(
    throughline: Any, database_url: str, tmp_path: Path
) -> None:
    # the command runs at the wall clock's today: 2099 is still to come, 2025 is over
    path = write(
        tmp_path,
        "okrs.csv",
        "key,title,owner,period,archived\nO1,Later,U0CAROL,2099-Q1,yes\nO0,Then,U0CAROL,2025-Q4,yes\n",
    )
    result = throughline("okr", "import", str(path))
    assert result.exit_code == 1
    assert "line 2: O1 can't be archived: its period 2099-Q1 is not over" in result.output
    assert "line 3" not in result.output


def test_the_okr_docs_show_the_sample_file_as_shipped() -> None:
    readme = (ROOT / "docs" / "okrs.md").read_text()
    shown = readme.split("```csv\n", 1)[1].split("```", 1)[0]
    assert shown == (ROOT / "examples" / "okrs.csv").read_text()


def test_a_dry_run_with_slack_unreachable_checks_the_file_first_and_names_the_owners_not_checked(
    fake: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    from tests.processes import free_port

    path = write(
        tmp_path,
        "okrs.csv",
        f"{HEADER}\nO1,Grow,,alice@example.com,2026-Q1,,9,,,,\nO2,Keep,,U0BOB,Q1 2026,,,,,,\n",
    )
    unreachable = {**env(fake, database_url), "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    result = run_cli("okr", "import", "--dry-run", str(path), env=unreachable)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[:2] == [
        'line 2: priority "9" should be a whole number from 1 (low) to 5 (highest)',
        'line 3: period "Q1 2026" should look like 2026-Q1, 2026-H2, 2026-03 or 2026',
    ]
    assert len(lines) == 3
    assert lines[2].startswith(
        "throughline: error: okrs.csv: 2 error(s) in the file; "
        "owners not checked (U0BOB, alice@example.com): SLACK_API_URL: cannot reach Slack"
    )
    assert lines[2].endswith("nothing was imported")
    assert registry(database_url) == {}


def test_a_yaml_bomb_is_refused_before_it_grows(throughline: Any, database_url: str, tmp_path: Path) -> None:
    """Nine levels of nine aliases ("billion laughs"): refused at the first alias, before any node is
    built, whatever the aliases would have expanded to."""
    lines = ['- &a0 {key: O1, title: "%s", owner: U0CAROL, period: 2026-Q1}' % ("x" * 60000)]
    for level in range(1, 10):
        lines.append(f"- &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    result = throughline("okr", "import", str(path))
    assert result.exit_code == 1
    assert "line 2: YAML aliases (*a0) are not accepted" in result.output
    assert "Traceback" not in result.output
    assert registry(database_url) == {}

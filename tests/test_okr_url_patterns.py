"""`THROUGHLINE_OKR_URL_PATTERNS` is matched as URL parts: a wildcard in the host never reaches into
the path, one in a path segment never reaches into the next, a user name in the link never passes
for the host. OKR links typed into `/okr add` or an import file must match the patterns too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.core.config import Settings
from bot.core.urlpattern import PatternError, compile_pattern, matches
from bot.intake.models import IntakeBlock
from tests import factories as f
from tests.conftest import START, Rig, make_settings
from tests.slackfake import FakeSlack
from tests.test_intake_slack import good, initiatives, open_modal, submit
from tests.test_okr_import import env, registry, write

PATTERNS = ["https://*.okr.example.com/**", "https://okr.example.com/o/*/kr/*"]


@pytest.fixture
def settings(fake: FakeSlack, database_url: str) -> Settings:
    return make_settings(fake, database_url, okr_url_patterns=PATTERNS)


@pytest.mark.parametrize(
    ("pattern", "url", "allowed"),
    [
        ("https://*.okr.example.com/**", "https://eu.okr.example.com/o/1/kr/2", True),
        ("https://*.okr.example.com/**", "https://evil.example/eu.okr.example.com/o/1", False),
        ("https://*.okr.example.com/**", "https://a.b.okr.example.com/o/1", False),  # one label
        ("https://okr.example.com*", "https://okr.example.com.evil.example/", False),
        ("https://okr.example.com/o/*/kr/*", "https://okr.example.com/o/1/kr/2", True),
        ("https://okr.example.com/o/*/kr/*", "https://okr.example.com/o/1/x/kr/2", False),
        ("https://okr.example.com/o/**/kr/*", "https://okr.example.com/o/1/x/kr/2", True),
        ("https://okr.example.com/*", "https://okr.example.com/o/1/kr/2", True),  # a trailing /*: below
        ("https://okr.example.com/*", "https://okr.example.com@evil.example/o/1", False),
        ("https://okr.example.com/*", "HTTPS://OKR.Example.COM/o/1?tab=kr#top", True),
        ("https://okr.example.com/*", "http://okr.example.com/o/1", False),
        ("https://okr.example.com/*", "https://okr.example.com:8443/o/1", False),
        ("https://okr.example.com/o.1", "https://okr.example.com/oX1", False),  # a dot is a dot
        ("https://*.okr.example.com/**", "https://3627732462\\.okr.example.com/x", False),  # host 3627732462
        ("https://okr.example.com/o/**", "https://okr.example.com/o/../admin", False),
        ("https://okr.example.com/*", "https://okr.example.com:443/o/1", True),  # the default port
        ("https://okr.example.com:443/*", "https://okr.example.com/o/1", True),
    ],
)
def test_patterns_match_scheme_host_and_path_as_parts(pattern: str, url: str, allowed: bool) -> None:
    assert matches(pattern, url) is allowed


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("okr.example.com/*", "should start with https://"),
        ("https:///o/*", "needs a host"),
        ("https://me@okr.example.com/*", "needs a host"),
        ("https://okr.example.com/o?x=*", "leave out the query"),
        ("https://okr.example.com:eighty/*", "the port should be a number"),
    ],
)
def test_a_bad_pattern_is_refused_in_one_line(pattern: str, words: str) -> None:
    with pytest.raises(PatternError, match=words):
        compile_pattern(pattern)


def test_a_bad_pattern_in_the_environment_stops_the_cli_in_one_line(
    fake: FakeSlack, database_url: str
) -> None:
    result = CliRunner().invoke(
        cli,
        ["okr", "list"],
        env={**env(fake, database_url), "THROUGHLINE_OKR_URL_PATTERNS": "okr.example.com/*"},
    )
    assert result.exit_code != 0
    assert "should start with https://" in result.output
    assert "Traceback" not in result.output


def test_a_link_whose_host_hides_in_the_path_is_refused_in_the_modal(rig: Rig) -> None:
    with rig.db.session() as s:  # registered before the patterns were matched as parts
        okr = f.okr(s, "O9", now=START, owner_id="U0CAROL", url="https://evil.example/eu.okr.example.com/o/9")
        kr = f.okr(s, "O1-KR2", now=START, owner_id="U0BOB", url="https://eu.okr.example.com/o/1/kr/2")
        okr_ids = {"O9": okr.id, "O1-KR2": kr.id}
    view = open_modal(rig)
    body = submit(
        rig,
        view,
        good(
            okr_ids,
            **{IntakeBlock.OKR: None, IntakeBlock.OKR_URL: "https://evil.example/eu.okr.example.com/o/9"},
        ),
    )
    assert body["response_action"] == "errors"
    assert "not on an allowed OKR host" in body["errors"][IntakeBlock.OKR_URL]
    assert initiatives(rig) == []

    body = submit(
        rig,
        view,
        good(okr_ids, **{IntakeBlock.OKR: None, IntakeBlock.OKR_URL: "https://EU.okr.example.com/o/1/kr/2/"}),
    )
    assert body["response_action"] == "update", body


def test_an_import_refuses_links_outside_the_patterns_with_their_lines(
    fake: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    text = (
        "key,title,owner,period,url\n"
        "O1,Grow,U0CAROL,2026-Q1,https://eu.okr.example.com/o/1\n"
        "O2,Tidy,U0CAROL,2026-Q1,https://evil.example/eu.okr.example.com/o/2\n"
        "O3,Ship,U0CAROL,2026-Q1,https://okr.example.com/o/3\n"
    )
    run: Any = CliRunner().invoke(
        cli,
        ["okr", "import", str(write(tmp_path, "o.csv", text))],
        env={**env(fake, database_url), "THROUGHLINE_OKR_URL_PATTERNS": ",".join(PATTERNS)},
    )
    assert run.exit_code == 1
    assert 'line 3: url "https://evil.example/eu.okr.example.com/o/2" is not in your OKR tool' in run.output
    assert 'line 4: url "https://okr.example.com/o/3" is not in your OKR tool' in run.output
    assert "line 2" not in run.output
    assert registry(database_url) == {}

"""The playground's page API (what the browser calls), against the real demo: Slack's behaviours
the page must get right, without a browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.request import Request, urlopen

import pytest

from bot.playground.demo import DemoRun
from tests.browser import DEMO_START

SAM, LENA, AMELIA = "U0SAM", "U0LENA", "U0AMELIA"


class Page:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def state(self, user: str, conv: str, **extra: str) -> dict[str, Any]:
        query = "&".join(f"{k}={v}" for k, v in {"user": user, "conv": conv, **extra}.items())
        with urlopen(f"{self.url}/api/state?{query}", timeout=10) as reply:
            return json.loads(reply.read())

    def do(self, verb: str, **body: Any) -> dict[str, Any]:
        request = Request(
            f"{self.url}/api/{verb}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoRun]:
    run = DemoRun(now=DEMO_START)
    run.start()
    yield run
    run.stop()


@pytest.fixture
def page(demo: DemoRun) -> Page:
    return Page(demo.url)


def test_a_slash_command_reply_is_ephemeral_to_whoever_typed_it(page: Page) -> None:
    assert page.do("command", user=SAM, conv="C0GENERAL", text="/initiative REQ-3")["ok"]
    mine = page.state(SAM, "C0GENERAL")["main"]
    assert "Only visible to you" in mine and "REQ-3" in mine and "Rate-limit the public API" in mine
    assert "Rate-limit the public API" not in page.state(LENA, "C0GENERAL")["main"]


def test_a_modal_stays_open_with_errors_under_the_fields_then_closes(page: Page) -> None:
    page.do("command", user=SAM, conv="C0GENERAL", text="/request")
    opened = page.state(SAM, "C0GENERAL")
    assert opened["modal"] and "New request" in opened["modal"]
    view_id = opened["modal_id"]
    page.do("submit", user=SAM, view_id=view_id, form={})
    with_errors = page.state(SAM, "C0GENERAL")
    assert with_errors["modal_id"] == view_id
    assert 'data-error-for="intake_title"' in with_errors["modal"]
    assert "Give the request a title." in with_errors["modal"]
    page.do("close", user=SAM, view_id=view_id)
    assert page.state(SAM, "C0GENERAL")["modal"] is None
    assert page.state(LENA, "C0GENERAL")["modal"] is None  # nobody else ever saw it


def test_user_text_is_shown_as_written_never_as_markup(page: Page) -> None:
    page.do("command", user=SAM, conv="C0GENERAL", text="/initiative <script>alert(1)</script> & <b>x</b>")
    shown = page.state(SAM, "C0GENERAL")["main"]
    assert "<script>" not in shown and "<b>x</b>" not in shown
    assert "&lt;script&gt;" in shown


def test_a_message_shortcut_starts_a_request_from_that_message(page: Page, demo: DemoRun) -> None:
    assert demo.slack is not None
    page.do("command", user=LENA, conv="C0GENERAL", text="Could someone export usage per customer? <Finance>")
    (said,) = [m for m in demo.slack.messages["C0GENERAL"] if m.user == LENA]
    assert "usage per customer? &lt;Finance&gt;" in page.state(SAM, "C0GENERAL")["main"]
    page.do(
        "message_shortcut", user=SAM, conv="C0GENERAL", message_ts=said.ts, callback_id="request_from_message"
    )
    state = page.state(SAM, "C0GENERAL")
    assert state["modal"] and "New request" in state["modal"]
    assert "Could someone export usage per customer?" in state["modal"]
    page.do("close", user=SAM, view_id=state["modal_id"])


def test_the_clock_moves_by_the_steps_the_page_offers(page: Page) -> None:
    before = page.state(LENA, "home")["clock"]
    page.do("advance", user=LENA, step="hour")
    after = page.state(LENA, "home")["clock"]
    assert before != after
    friday = page.do("advance", user=LENA, step="friday")["now"]
    assert friday.endswith("15:00:00+00:00")  # 16:00 in Berlin (winter)


def test_an_unknown_person_or_command_is_one_clear_line(page: Page) -> None:
    assert page.do("command", user="U0NOBODY", conv="C0GENERAL", text="/request") == {
        "ok": False,
        "error": "nobody called U0NOBODY works here",
    }
    reply = page.do("command", user=SAM, conv="C0GENERAL", text="/deploy now")
    assert reply["ok"] is False and reply["error"].startswith("/deploy is not a command of this app")


def test_another_site_cannot_act_through_the_page(page: Page, demo: DemoRun) -> None:
    from urllib.error import HTTPError

    body = json.dumps({"user": SAM, "conv": "C0GENERAL", "text": "/request"}).encode()
    for headers in (
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/json", "Origin": "http://evil.test"},
    ):
        request = Request(f"{page.url}/api/command", data=body, headers=headers)
        with pytest.raises(HTTPError) as refused:
            urlopen(request, timeout=10)
        assert refused.value.code == 403
        refused.value.close()
    assert demo.slack is not None and not demo.slack.modals.get(SAM)

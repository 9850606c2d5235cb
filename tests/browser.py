"""The playground in a real browser: headless Chromium (Debian's package) driven by Playwright.

`Tour` walks the story a visitor would: a request (an inline error first), triage, a check-in
answered in the DM, a stall climbing the ladder to governance, the digest, the App Home. The
browser tests assert what is on the page at each step; `make screenshots` takes its pictures.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.playground.demo import DemoRun

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# as Debian's Chromium runs here as root, with no network: no sandbox, no background calls home
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Monday 2 March 2026, 08:30 in Berlin: the demo company's week starts
DEMO_START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
SAM, LENA, AMELIA, DIEGO, KENJI = "U0SAM", "U0LENA", "U0AMELIA", "U0DIEGO", "U0KENJI"


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


@contextmanager
def browser_page(url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(url)
            yield page
        finally:
            browser.close()


class Tour:
    """A visitor's hands on the page; every method waits until the page shows the result."""

    def __init__(self, page: Any, demo: DemoRun, shoot: Callable[[str], None] | None = None) -> None:
        self.sent = ""  # what the modal said once the request went in
        self.page = page
        self.demo = demo
        self.shoot = shoot or (lambda _name: None)

    # -- the page ---------------------------------------------------------------------------------

    def settled(self) -> None:
        self.page.wait_for_function("() => !document.body.classList.contains('pg-busy')")
        self.page.evaluate("() => refresh()")
        time.sleep(0.2)

    def be(self, user_id: str) -> None:
        self.page.select_option("#pg-person", user_id)
        self.settled()

    def open(self, name: str) -> None:
        """A channel by name (`triage`), or `home` / `messages` for the app's tabs."""
        if name in ("home", "messages"):
            self.page.click("#pg-sidebar [data-conv=home]")
            self.settled()
            if name == "messages":
                self.page.click("#pg-tabs [data-conv=dm]")
        else:
            self.page.click(f"#pg-sidebar >> text=# {name}")
        self.settled()

    def main_text(self) -> str:
        return str(self.page.inner_text("#pg-main"))

    def type_command(self, text: str) -> None:
        self.page.fill("#pg-input", text)
        self.page.press("#pg-input", "Enter")
        self.settled()

    def modal(self) -> Any:
        return self.page.locator(".pg-modal")

    def submit(self) -> None:
        self.page.click(".pg-modal [data-type=view_submission]")
        self.settled()

    def errors(self) -> dict[str, str]:
        found = self.page.eval_on_selector_all(
            ".sk-input__error", "els => els.map(e => [e.dataset.errorFor, e.innerText])"
        )
        return dict(found)

    def fill(self, block_id: str, value: str) -> None:
        self.page.fill(f"[data-block-id={block_id}] input, [data-block-id={block_id}] textarea", value)

    def choose(self, block_id: str, label: str) -> None:
        self.page.select_option(f"[data-block-id={block_id}] select", label=label)

    def pick_suggestion(self, block_id: str, typed: str, label_starts: str) -> None:
        self.page.fill(f"[data-block-id={block_id}] .sk-external__query", typed)
        option = self.page.locator(f"[data-block-id={block_id}] [data-suggestion]", has_text=label_starts)
        option.first.wait_for()
        option.first.click()

    def press(self, label: str, *, within: str = "#pg-main") -> None:
        """The last button labelled `label` in the conversation (the newest message's)."""
        self.page.locator(
            f"{within} button[data-action-id]", has_text=re.compile(f"^{re.escape(label)}$")
        ).last.click()
        self.settled()

    def advance(self, step: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.click(f".pg-step[data-step={step}]")
            self.settled()

    def clock(self) -> str:
        return str(self.page.inner_text("#pg-clock"))

    # -- the story -------------------------------------------------------------------------------

    def request(self) -> dict[str, str]:
        """Sam asks Payments for a usage export: first without filling the form (the errors it
        shows are returned), then properly."""
        self.be(SAM)
        self.open("general")
        self.type_command("/request")
        self.modal().wait_for()
        self.submit()
        errors = self.errors()
        self.shoot("intake-errors")
        self.fill("intake_title", "Usage-based billing export")
        self.fill(
            "intake_description",
            "Finance needs a monthly CSV of metered usage per customer to invoice usage-based plans.",
        )
        self.pick_suggestion("intake_okr", "refund", "O1-KR1")
        self.choose("intake_impact_level", "High – moves the KR a lot")
        self.fill("intake_needed_by", "2026-04-15")
        self.choose("intake_team", "Payments")
        self.shoot("intake-modal")
        self.submit()
        self.sent = str(self.modal().inner_text())
        self.page.click(".pg-modal [data-type=view_close] >> nth=-1")
        self.settled()
        return errors

    def accept(self) -> None:
        """Lena, the triage lead, accepts it in #triage with Marcus as owner."""
        self.be(LENA)
        self.open("triage")
        self.shoot("triage-post")
        self.press("Accept")
        self.modal().wait_for()
        self.page.select_option("[data-block-id=accept_owner] select", "U0MARCUS")
        self.submit()

    def answer_checkin(self) -> str:
        """Amelia's Monday 09:00 (London) check-in: the clock runs to it, she answers the last item
        At risk right in the DM. Returns the DM's text after the answer."""
        self.be(AMELIA)
        self.open("messages")
        self.advance("next")
        self.shoot("checkin-dm")
        self.press("At risk")
        self.shoot("checkin-answered")
        return self.main_text()

    def stall(self) -> dict[str, str]:
        """Days pass; REQ-3 (Amelia's, blocked) holds up REQ-6 (Diego's) until the ladder reaches
        governance. Returns what each rung's people see."""
        seen: dict[str, str] = {}
        self.be(DIEGO)
        self.open("messages")
        for _ in range(10):
            self.advance("day")
            text = self.main_text()
            if "stalled" in text:
                seen["level 1"] = text
                break
        self.shoot("stall-level1")
        self.be(KENJI)
        self.open("governance")
        for _ in range(10):
            text = self.main_text()
            if "REQ-6" in text:
                break
            self.advance("day")
        seen["governance"] = self.main_text()
        self.shoot("governance-post")
        self.be(AMELIA)  # REQ-3's owner, and the owner of the key result it serves: level 2
        self.open("messages")
        seen["level 2"] = self.main_text()
        self.be(KENJI)
        self.open("governance")
        return seen

    def acknowledge(self) -> str:
        self.press("Acknowledge")
        return self.main_text()

    def digest(self) -> str:
        """Friday 16:00 in Berlin: the digest in #leadership, and its chart in the thread."""
        self.be("U0SOFIA")
        self.open("leadership")
        self.advance("friday")
        self.page.locator("#pg-main .pg-replies").last.click()
        self.page.locator("#pg-thread img").first.wait_for()
        self.settled()
        self.page.evaluate(
            "() => { const t = document.getElementById('pg-thread-body'); t.scrollTop = t.scrollHeight; }"
        )
        self.shoot("digest")
        return self.main_text() + "\n" + str(self.page.inner_text("#pg-thread"))

    def home(self, user_id: str = AMELIA) -> str:
        self.be(user_id)
        self.open("home")
        self.page.locator(".pg-home .sk-blocks").wait_for()
        self.shoot("home")
        return self.main_text()

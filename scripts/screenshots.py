"""`make screenshots`: the README's pictures, taken from the playground in headless Chromium.

Walks the same story as the browser test (tests/browser.py) and saves docs/screenshots/*.png.
Needs Debian's chromium (and fonts-noto-color-emoji, or the emoji show as boxes)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.playground.demo import DemoRun  # noqa: E402
from tests.browser import DEMO_START, Tour, browser_page, chromium_available  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
KEEP = {
    "intake-modal": "intake-modal.png",
    "triage-post": "triage-post.png",
    "checkin-answered": "checkin-dm.png",
    "governance-post": "governance-post.png",
    "digest": "digest.png",
    "home": "app-home.png",
}


def main() -> int:
    if not chromium_available():
        print("screenshots: Chromium is missing (apt-get install chromium fonts-noto-color-emoji)")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    demo = DemoRun(now=DEMO_START)
    url = demo.start()
    try:
        with browser_page(url) as page:

            def shoot(name: str) -> None:
                if name in KEEP:
                    page.mouse.move(5, 890)  # no hover menus in the picture
                    page.screenshot(path=str(OUT / KEEP[name]))
                    print(f"docs/screenshots/{KEEP[name]}")

            tour = Tour(page, demo, shoot)
            tour.request()
            tour.accept()
            tour.answer_checkin()
            tour.stall()
            tour.digest()
            tour.home()
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

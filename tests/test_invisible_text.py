"""Characters nobody can see never reach a title: bidi overrides make a title read as something it
is not, zero-width characters make two titles that look alike differ. Emoji sequences and scripts
that need joiners keep them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.text import clean, one_line
from bot.intake.models import IntakeBlock
from tests.conftest import Rig
from tests.test_intake_slack import good, initiatives, open_modal, seed, submit
from tests.test_okr_import import registry, throughline, write  # noqa: F401  (fixture)

SPOOFED = "Pay vendor \u202efdp.exe\u202c \u200bnow\ufeff"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Pay \u202eeciovni\u202c", "Pay eciovni"),  # right-to-left override and its pop
        ("\u2067Refund\u2069 \u200eall\u200f", "Refund all"),  # isolates, direction marks
        ("Launch\u200b\u2060 day\u00ad", "Launch day"),  # zero-width space, word joiner, soft hyphen
        ("a\u200db", "ab"),  # a joiner between letters joins nothing visible
        ("\x00nul\x7f\x85", "nul"),  # C0, DEL and C1 controls
        ("line\u2028two", "line\ntwo"),
    ],
)
def test_invisible_characters_are_dropped(typed: str, stored: str) -> None:
    assert clean(typed) == stored


@pytest.mark.parametrize(
    "kept",
    [
        "👩\u200d💻 dev rotation",  # emoji ZWJ sequence
        "❤️\u200d🔥 launch",  # after the emoji variation selector
        "👍🏽\u200d",  # trailing ZWJ is dropped, the skin tone kept
        "می\u200cخواهم",  # ZWNJ between Persian letters
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",  # a subdivision flag
        "\u0dc1\u0dca\u200d\u0dbb\u0dd3 Lanka",  # Sinhala: a ZWJ after the virama (ශ්‍රී)
        "\u0600\u0661\u0662 total",  # the Arabic number sign is seen
    ],
)
def test_joiners_that_do_visible_work_stay(kept: str) -> None:
    assert clean(kept) == kept.rstrip("\u200d")


def test_a_request_title_with_an_override_is_stored_as_it_looks(rig: Rig) -> None:
    okrs = seed(rig)
    body = submit(rig, open_modal(rig), good(okrs, **{IntakeBlock.TITLE: SPOOFED}))
    assert body["response_action"] == "update", body
    (item,) = initiatives(rig)
    assert item.title == "Pay vendor fdp.exe now"
    (post,) = rig.fake.posts("C0TRIAGE")
    assert "\u202e" not in post.visible and "\u200b" not in post.visible


def test_an_okr_file_with_invisible_characters_imports_them_cleaned(
    throughline: Any,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    text = f"key,title,owner,period\nO1,{SPOOFED},U0CAROL,2026-Q1\n"
    result = throughline("okr", "import", str(write(tmp_path, "o.csv", text)))
    assert result.exit_code == 0, result.output
    assert registry(database_url)["O1"].title == one_line(SPOOFED) == "Pay vendor fdp.exe now"

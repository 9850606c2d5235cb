"""The playground's renderer: Slack's data as the HTML a person sees in the local Slack page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.playground.emoji import EMOJI
from bot.playground.render import Directory, mrkdwn, plain, render_blocks, render_message, render_view

SNAPSHOTS = Path(__file__).parent / "snapshots"
PEOPLE = Directory(
    users={
        "U0ALICE": "Alice Martin",
        "U0BOB": "Bob Chen",
        "U0DAN": "Dan Okafor",
        "U0LEAD": "Lee",
        "U0GOV": "Gov",
    },
    channels={"C0TRIAGE": "triage", "C0GENERAL": "general"},
)
BOT_CODES = [
    "accepted",
    "added",
    "alarm_clock",
    "answer",
    "arrow_right",
    "arrows_counterclockwise",
    "ask",
    "bar_chart",
    "bell",
    "busts_in_silhouette",
    "cadence",
    "calendar",
    "cancelled",
    "checkered_flag",
    "dart",
    "eyes",
    "file_cabinet",
    "gear",
    "handshake",
    "health",
    "heavy_multiplication_x",
    "hourglass",
    "hourglass_flowing_sand",
    "inbox_tray",
    "information_source",
    "large_green_circle",
    "large_yellow_circle",
    "link",
    "mag",
    "memo",
    "no_entry",
    "no_entry_sign",
    "owner",
    "palm_tree",
    "question",
    "red_circle",
    "resolved",
    "rotating_light",
    "seedling",
    "small_red_triangle_down",
    "snooze-ended",
    "sparkles",
    "speech_balloon",
    "tada",
    "traffic_light",
    "triage-unset",
    "update",
    "warning",
    "wave",
    "white_check_mark",
    "white_circle",
    "x",
    "zzz",
]


def snapshot(name: str) -> dict[str, Any]:
    return json.loads((SNAPSHOTS / f"{name}.json").read_text())


class Page(HTMLParser):
    """What a person sees (the text) and the controls on the page, from rendered HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(str(html))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in (
            "br",
            "div",
            "p",
            "li",
            "button",
            "a",
            "span",
            "option",
            "time",
            "h3",
            "pre",
            "blockquote",
        ):
            self.words.append(" ")  # the boxes a person sees apart

    def handle_data(self, data: str) -> None:
        self.words.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.words)).strip()

    def find(self, **attrs: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def buttons(self) -> list[tuple[str, str]]:
        return [(a["data-action-id"], a.get("data-value", "")) for a in self.find(data_type="button")]


def blocks(*items: dict[str, Any], **kw: Any) -> Page:
    return Page(render_blocks(list(items), PEOPLE, **kw))


def md(text: str) -> str:
    return str(mrkdwn(text, PEOPLE))


# ---- the real payloads ----


def test_home_tab_shows_its_texts_and_buttons() -> None:
    page = Page(render_view(snapshot("home"), PEOPLE))
    assert "Your work in Throughline" in page.text
    assert "Check-ins due from you · 1–5 of 12" in page.text
    assert "📝 REQ-1 Initiative 1 · asked Mon 02 Mar 2026 08:00" in page.text
    assert ("checkin_update", '{"initiative": "REQ-1"}') in page.buttons()
    assert ("home_next_page", '{"due":1,"owned":1}') in page.buttons()
    assert page.find(data_block_id="home_pager_due", data_action_id="home_next_page")
    assert "@Alice Martin" in page.text
    assert "<@" not in page.text and "*" not in page.text
    assert page.find(data_view_type="home")


def test_status_card_reads_like_slack() -> None:
    html = str(render_message(snapshot("status_card"), PEOPLE, tz="Europe/Berlin"))
    page = Page(html)
    assert "<b>OKR</b>" in html and '<div class="sk-fields">' in html
    assert "Owner @Alice Martin" in page.text
    assert "🟡 at risk since Mon 02 Mar 2026" in page.text
    assert "Blockers: the API is late (on @Bob Chen)" in page.text
    assert "waiting for triage" in page.text and "<i>waiting for triage</i>" in html
    assert "*" not in page.text and "_waiting" not in page.text and ":warning:" not in page.text
    assert page.find(href="https://okr.example.com/o1")
    assert [b[0] for b in page.buttons()] == [
        "status_share",
        "checkin_update",
        "dependency_add",
        "status_history",
    ]
    assert page.find(data_block_id="status_card_actions", data_action_id="checkin_update")
    assert "Throughline APP" in page.text


def test_shared_status_card_has_no_buttons_and_names_who_shared() -> None:
    page = Page(render_message(snapshot("status_card_shared"), PEOPLE))
    assert page.buttons() == []
    assert "Shared by @Dan Okafor" in page.text
    assert "Original message" in page.text


def test_settings_modal_has_named_inputs_title_and_buttons() -> None:
    page = Page(render_view(snapshot("settings_modal"), PEOPLE))
    assert "Throughline settings" in page.text
    names = {a["name"] for _, a in page.tags if a.get("name", "").startswith("state::")}
    assert "state::settings_triage_channel::value" in names
    assert "state::settings_default_cadence::value" in names
    assert "state::settings_escalate_level3_days::value" in names
    triage = page.find(name="state::settings_triage_channel::value")[0]
    assert triage["data-type"] == "conversations_select"
    assert page.find(value="C0TRIAGE", selected="")  # the initial conversation is chosen
    cadence = page.find(name="state::settings_default_cadence::value")[0]
    assert cadence["value"] == "weekly:mon@09:00" and cadence["maxlength"] == "100"
    hours = page.find(name="state::settings_reminder_after_hours::value")[0]
    assert (hours["type"], hours["min"], hours["max"], hours["value"]) == ("number", "1", "240", "24")
    assert "Triage channel (optional)" in page.text
    assert "Default check-in cadence (optional)" not in page.text
    assert "New requests are posted here for triage." in page.text
    assert page.find(type="submit")[0]["data-type"] == "view_submission"
    assert "Cancel" in page.text and "Save" in page.text
    assert page.find(data_callback_id="settings_edit")


def test_inline_error_sits_under_its_own_input() -> None:
    html = str(render_view(snapshot("settings_modal"), PEOPLE, errors={"settings_holidays": "Unknown: XX"}))
    holidays = html.index('data-block-id="settings_holidays"')
    error = html.index("Unknown: XX")
    next_block = html.index('data-block-id="settings_stall_blocked_days"')
    assert holidays < error < next_block
    assert 'data-error-for="settings_holidays"' in html
    assert html.count("sk-input--error") == 1


def test_errors_for_other_blocks_change_nothing() -> None:
    plain_modal = render_view(snapshot("settings_modal"), PEOPLE)
    assert render_view(snapshot("settings_modal"), PEOPLE, errors={"nope": "x"}) == plain_modal


# ---- mrkdwn ----


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("*bold*", "<b>bold</b>"),
        ("_it_", "<i>it</i>"),
        ("~gone~", "<s>gone</s>"),
        ("snake_case_name", "snake_case_name"),
        ("a * b * c", "a * b * c"),
        ("`x *y*`", '<code class="sk-code">x *y*</code>'),
        ("```\nline *1*\nline 2\n```", '<pre class="sk-pre">line *1*\nline 2</pre>'),
        ("a &amp; b &lt;c&gt;", "a &amp; b &lt;c&gt;"),
        ("one\ntwo", "one<br>two"),
        ("&gt; quoted\n&gt; more\nafter", '<blockquote class="sk-quote">quoted<br>more</blockquote>after'),
        ("<!here> <!channel> <!everyone>", "@here"),
        ("<#C0TRIAGE>", "#triage"),
        ("<#C9|elsewhere>", "#elsewhere"),
        ("<@U0BOB>", "@Bob Chen"),
        ("<@U9|sam>", "@sam"),
        ("<@U9>", "@U9"),
        (":memo: :nope: :+1:", "📝 :nope: 👍"),
        ("10:30:45 key:5:owner:U1", "10:30:45 key:5:owner:U1"),
    ],
)
def test_mrkdwn(source: str, expected: str) -> None:
    assert expected in md(source)


def test_links_only_for_safe_schemes() -> None:
    assert 'href="https://x.example/a?b=1&amp;c=2"' in md("<https://x.example/a?b=1&amp;c=2|label>")
    assert ">label</a>" in md("<https://x.example|label>")
    assert ">https://x.example</a>" in md("<https://x.example>")
    assert 'href="mailto:a@b.example"' in md("<mailto:a@b.example>")
    for bad in ("<javascript:alert(1)|click>", "<data:text/html,hi|click>", "<ftp://x|click>"):
        out = md(bad)
        assert "href" not in out and "click" in out


def test_mentions_are_styled_chips() -> None:
    assert 'class="sk-mention sk-mention--user" data-id="U0BOB">@Bob Chen</span>' in md("<@U0BOB>")
    assert "sk-mention--broadcast" in md("<!here>")
    assert "sk-mention--channel" in md("<#C0GENERAL>")


def test_every_bot_emoji_code_becomes_an_emoji() -> None:
    for code in BOT_CODES:
        assert code in EMOJI
        assert md(f":{code}:") == EMOJI[code]


def test_plain_text_is_literal_with_emoji() -> None:
    assert str(plain({"type": "plain_text", "text": "*a* <b> :tada:", "emoji": True}, PEOPLE)) == (
        "*a* &lt;b&gt; 🎉"
    )
    assert str(plain({"type": "plain_text", "text": ":tada:", "emoji": False}, PEOPLE)) == ":tada:"
    assert str(plain("x & y", PEOPLE)) == "x &amp; y"


ALLOWED_TAGS = "b|i|s|br|code|pre|span|a|blockquote"
HOSTILE = (
    st.text(alphabet=st.sampled_from(list("<>&;:*_~`|@#!/\"' \nabcsriptUhe=.")), max_size=80) | st.text()
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_user_text_never_becomes_html(text: str) -> None:
    out = md(text)
    assert "<script" not in out.lower()
    # every < left is one of ours, opening or closing a tag we build
    for at in (m.start() for m in re.finditer("<", out)):
        assert re.match(rf"</?(?:{ALLOWED_TAGS})[ >]", out[at:]), out
    for href in re.findall(r'href="([^"]*)"', out):
        assert href.startswith(("http://", "https://", "mailto:"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="*_~`:\x00", blacklist_categories=("Cs", "Cc"))))
def test_escaped_user_text_reads_exactly_as_written(text: str) -> None:
    """What the bot sends (its `escape`) reads back as the characters the user typed."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = md(escaped)
    assert "<script" not in out.lower()
    shown = Page(out).text.replace(" ", "")
    unquoted = "".join(re.sub(r"^> ?", "", line) for line in text.split("\n"))  # a leading > quotes
    assert shown == re.sub(r"\s+", "", unquoted)


# ---- blocks ----


def test_section_with_fields_and_each_accessory() -> None:
    page = blocks(
        {
            "type": "section",
            "block_id": "s",
            "text": {"type": "mrkdwn", "text": "*Hi*"},
            "fields": [{"type": "mrkdwn", "text": "a"}, {"type": "plain_text", "text": "b"}],
            "accessory": {
                "type": "button",
                "action_id": "go",
                "value": "1",
                "text": {"type": "plain_text", "text": "Go"},
            },
        },
        {
            "type": "section",
            "block_id": "t",
            "text": {"type": "mrkdwn", "text": "pick"},
            "accessory": {
                "type": "static_select",
                "action_id": "pick",
                "placeholder": {"type": "plain_text", "text": "Choose"},
                "options": [{"text": {"type": "plain_text", "text": "One"}, "value": "1"}],
            },
        },
        {
            "type": "section",
            "block_id": "u",
            "text": {"type": "mrkdwn", "text": "more"},
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [{"text": {"type": "plain_text", "text": "Edit"}, "value": "edit"}],
            },
        },
        {
            "type": "section",
            "block_id": "v",
            "text": {"type": "mrkdwn", "text": "pic"},
            "accessory": {"type": "image", "image_url": "https://img.example/a.png", "alt_text": "a cat"},
        },
    )
    assert page.buttons() == [("go", "1")]
    assert page.find(
        data_block_id="t", data_action_id="pick", data_type="static_select", name="state::t::pick"
    )
    assert page.find(data_type="overflow", data_action_id="more", data_value="edit")
    assert page.find(src="https://img.example/a.png", alt="a cat")
    assert "Hi a b" in page.text and "Choose" in page.text


def test_context_header_divider_image() -> None:
    html = str(
        render_blocks(
            [
                {"type": "header", "text": {"type": "plain_text", "text": "Title :tada:"}},
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": "*m*"},
                        {"type": "plain_text", "text": "p"},
                        {"type": "image", "image_url": "https://i.example/x.png", "alt_text": "x"},
                    ],
                },
                {"type": "divider"},
                {
                    "type": "image",
                    "image_url": "https://i.example/big.png",
                    "alt_text": "chart",
                    "title": {"type": "plain_text", "text": "Burn-up"},
                },
                {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "bad"},
            ],
            PEOPLE,
        )
    )
    assert '<h3 class="sk-header__text">Title 🎉</h3>' in html
    assert "sk-context" in html and "<b>m</b>" in html and 'src="https://i.example/x.png"' in html
    assert "<hr>" in html
    assert "Burn-up" in html and 'alt="chart"' in html
    assert "javascript" not in html


def test_actions_with_every_element() -> None:
    opt = lambda t, v: {"text": {"type": "plain_text", "text": t}, "value": v}  # noqa: E731
    page = blocks(
        {
            "type": "actions",
            "block_id": "a",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ok",
                    "style": "primary",
                    "value": "y",
                    "text": {"type": "plain_text", "text": "OK"},
                },
                {
                    "type": "button",
                    "action_id": "no",
                    "style": "danger",
                    "value": "n",
                    "text": {"type": "plain_text", "text": "Delete"},
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "mrkdwn", "text": "Really"},
                        "confirm": {"type": "plain_text", "text": "Yes"},
                        "deny": {"type": "plain_text", "text": "No"},
                    },
                },
                {
                    "type": "button",
                    "action_id": "open",
                    "url": "https://x.example",
                    "text": {"type": "plain_text", "text": "Open"},
                },
                {
                    "type": "static_select",
                    "action_id": "ss",
                    "options": [opt("A", "a"), opt("B", "b")],
                    "initial_option": opt("B", "b"),
                },
                {"type": "external_select", "action_id": "ext", "min_query_length": 0},
                {"type": "users_select", "action_id": "who", "initial_user": "U0BOB"},
                {"type": "datepicker", "action_id": "day", "initial_date": "2026-03-02"},
                {"type": "overflow", "action_id": "ov", "options": [opt("X", "x")]},
                {
                    "type": "radio_buttons",
                    "action_id": "rb",
                    "options": [opt("R1", "r1"), opt("R2", "r2")],
                    "initial_option": opt("R2", "r2"),
                },
                {
                    "type": "checkboxes",
                    "action_id": "cb",
                    "options": [opt("C1", "c1"), opt("C2", "c2")],
                    "initial_options": [opt("C1", "c1")],
                },
                {"type": "conversations_select", "action_id": "conv"},
                {"type": "channels_select", "action_id": "chan", "initial_channel": "C0GENERAL"},
            ],
        }
    )
    html = "".join(page.words)
    assert ("ok", "y") in page.buttons() and ("no", "n") in page.buttons()
    ok, no = page.find(data_action_id="ok")[0], page.find(data_action_id="no")[0]
    assert "sk-btn--primary" in ok["class"] and "sk-btn--danger" in no["class"]
    assert json.loads(no["data-confirm"])["title"]["text"] == "Sure?"
    link = page.find(data_action_id="open")[0]
    assert link["href"] == "https://x.example" and link["target"] == "_blank"
    assert page.find(value="b", selected="")
    ext = page.find(data_type="external_select")[0]
    assert ext["data-min-query-length"] == "0" and ext["data-action-id"] == "ext"
    assert page.find(name="state::a::ext", type="hidden")
    assert page.find(value="U0BOB", selected="") and "Alice Martin" in html
    assert page.find(type="date", name="state::a::day", value="2026-03-02")
    assert page.find(type="radio", name="state::a::rb", value="r2", checked="")
    assert page.find(type="checkbox", name="state::a::cb", value="c1", checked="")
    assert not page.find(type="checkbox", value="c2", checked="")
    assert page.find(data_type="conversations_select", name="state::a::conv") and "#triage" in html
    assert page.find(value="C0GENERAL", selected="")
    for element in (
        "static_select",
        "external_select",
        "users_select",
        "datepicker",
        "radio_buttons",
        "checkboxes",
    ):
        assert page.find(data_type=element, data_block_id="a"), element


def test_input_elements() -> None:
    group = {
        "label": {"type": "plain_text", "text": "G"},
        "options": [{"text": {"type": "plain_text", "text": "In group"}, "value": "g1"}],
    }
    page = blocks(
        {
            "type": "input",
            "block_id": "t",
            "label": {"type": "plain_text", "text": "Title"},
            "optional": True,
            "hint": {"type": "plain_text", "text": "Short"},
            "element": {
                "type": "plain_text_input",
                "action_id": "v",
                "placeholder": {"type": "plain_text", "text": "Type"},
                "min_length": 2,
                "max_length": 50,
            },
        },
        {
            "type": "input",
            "block_id": "m",
            "label": {"type": "plain_text", "text": "Notes"},
            "element": {
                "type": "plain_text_input",
                "action_id": "v",
                "multiline": True,
                "initial_value": "a <b>",
            },
        },
        {
            "type": "input",
            "block_id": "n",
            "label": {"type": "plain_text", "text": "N"},
            "element": {
                "type": "number_input",
                "action_id": "v",
                "is_decimal_allowed": True,
                "min_value": "0",
            },
        },
        {
            "type": "input",
            "block_id": "g",
            "label": {"type": "plain_text", "text": "Group"},
            "element": {"type": "static_select", "action_id": "v", "option_groups": [group]},
        },
        {
            "type": "input",
            "block_id": "e",
            "label": {"type": "plain_text", "text": "OKR"},
            "element": {
                "type": "external_select",
                "action_id": "v",
                "min_query_length": 1,
                "initial_option": {"text": {"type": "plain_text", "text": "O1"}, "value": "o1"},
            },
        },
        surface="modal",
    )
    title = page.find(name="state::t::v")[0]
    assert (title["type"], title["placeholder"], title["minlength"], title["maxlength"]) == (
        "text",
        "Type",
        "2",
        "50",
    )
    assert "Title (optional)" in page.text and "Short" in page.text
    assert "a <b>" in page.text and page.find(name="state::m::v", rows="4")
    assert page.find(name="state::n::v", step="any", min="0")
    assert page.find(label="G") and page.find(value="g1")
    assert page.find(name="state::e::v", value="o1") and page.find(value="O1")


def test_unknown_and_malformed_blocks_do_not_crash() -> None:
    page = blocks({"type": "video"}, {"type": "section", "fields": "oops"}, {"no": "type"}, "junk")  # type: ignore[arg-type]
    assert page.text.count("isn't supported") == 4


def test_missing_block_ids_are_made_up_from_the_place() -> None:
    page = blocks(
        {"type": "divider"},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x"}}]},
    )
    assert page.find(data_block_id="b1", data_action_id="b1-0")


# ---- messages and views ----


def test_message_meta_edited_replies_and_files() -> None:
    msg = {
        "ts": "1772438400.000100",
        "text": "*hi* <@U0BOB>",
        "edited": {"ts": "1"},
        "reply_count": 3,
        "files": [
            {"name": "chart.png", "title": "Burn-up", "url": "https://files.example/chart.png"},
            {"name": "notes.txt", "title": "Notes", "url": "https://files.example/notes.txt"},
        ],
    }
    page = Page(render_message(msg, PEOPLE, tz="Europe/Berlin"))
    assert page.text.startswith("T Throughline APP 09:00"), page.text
    assert "hi @Bob Chen (edited)" in page.text and "3 replies" in page.text
    assert page.find(src="https://files.example/chart.png")
    assert not page.find(src="https://files.example/notes.txt") and "Notes" in page.text
    assert "08:00" in Page(render_message(msg, PEOPLE)).text  # UTC without a zone


def test_a_person_is_shown_by_name_without_the_app_tag() -> None:
    page = Page(render_message({"ts": "0.1", "user": "U0ALICE", "text": "hello"}, PEOPLE))
    assert "Alice Martin" in page.text and "APP" not in page.text
    assert "1 reply" in Page(render_message({"ts": "0.1", "text": "x", "reply_count": 1}, PEOPLE)).text


def test_modal_without_submit_has_only_close() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Done"},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": '{"a": 1}',
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}],
    }
    page = Page(render_view(view, PEOPLE))
    assert not page.find(type="submit") and "Close" in page.text
    assert page.find(data_private_metadata='{"a": 1}')

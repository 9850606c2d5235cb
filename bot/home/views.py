"""The App Home tab, and the admin's settings modal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, divider, header, md, plain, section
from bot.blockkit.health import HEALTH_ICON, STATE_WORDS
from bot.core import mrkdwn
from bot.core.calendar import Cadence
from bot.core.config import WorkspaceSettings
from bot.home.models import PAGE_SIZE, SETTINGS_FIELDS, HomeData, HomeSection, settings_block
from bot.status.models import InitiativeLine, Page
from bot.status.views.card import CardAction, initiative_value
from bot.status.views.replies import due_line, line, waiting_line, when
from storage.models import InitiativeState

T = TypeVar("T")


class HomeAction(StrEnum):
    NEXT_PAGE = "home_next_page"  # value: HomePages.to_value() of the page to show
    PREVIOUS_PAGE = "home_previous_page"
    EDIT_SETTINGS = "home_edit_settings"  # admins: opens the settings modal
    EXPORT_DATA = "home_export_data"  # admins: the workspace's data, as a zip in their DM


class HomeBlock(StrEnum):
    PAGER = "home_pager"  # + "_<section>"
    SETTINGS = "home_settings"


SETTINGS_CALLBACK = "settings_edit"
CHANNEL_SETTINGS = ("triage_channel", "governance_channel", "digest_channel")
NUMBER_SETTINGS = {
    "reminder_after_hours": (1, 240),
    "stall_blocked_days": (1, 60),
    "stall_missed_checkins": (1, 20),
    "stall_silent_periods": (1, 20),
    "escalate_level2_days": (1, 60),
    "escalate_level3_days": (1, 60),
}
LABELS = {
    "triage_channel": "Triage channel",
    "governance_channel": "Governance channel",
    "digest_channel": "Digest channel",
    "default_cadence": "Default check-in cadence",
    "reminder_after_hours": "Reminder after (working hours)",
    "holidays": "Holiday calendar",
    "stall_blocked_days": "Stall: blocked or at risk for (business days)",
    "stall_missed_checkins": "Stall: missed check-ins in a row",
    "stall_silent_periods": "Stall: cadence periods without a check-in",
    "escalate_level2_days": "Level 2 after (business days at level 1)",
    "escalate_level3_days": "Level 3 after (business days from the stall)",
    "tracker_backlinks": "Comment on linked Jira and GitHub work",
}
BOOL_SETTINGS = ("tracker_backlinks",)
_ON_OFF = [Option(value="true", text=plain("On", 75)), Option(value="false", text=plain("Off", 75))]
HINTS = {
    "triage_channel": "New requests are posted here for triage.",
    "governance_channel": "Level-3 escalations go here (an OKR can name its own).",
    "digest_channel": "The weekly leadership digest is posted here.",
    "default_cadence": "For new initiatives, in each owner's time zone: workdays@09:00, weekly:mon@09:00, "
    "biweekly:mon@09:00 or monthly:mon@09:00 (the first Monday).",
    "reminder_after_hours": "Working hours of the owner after a check-in before one reminder.",
    "holidays": "Country and region of public holidays (no check-ins then): DE-BE, US-CA, IN. "
    "Empty: weekends only.",
    "tracker_backlinks": "When an initiative is accepted or changes health, its linked issues and pull "
    "requests get a comment saying so (needs Jira or GitHub set up, with write access).",
}


def home(data: HomeData, now: datetime) -> View:
    """The Home tab: four lists, a page each (always well under Slack's 100 blocks), and the
    settings for admins."""
    zone = data.zone
    blocks: list[Block] = [
        header("Your work in Throughline"),
        context(f"Updated {when(now, zone)} ({mrkdwn.escape(zone.key)}) · `/initiative help` for commands"),
    ]
    blocks += _list(
        data,
        HomeSection.DUE,
        "Check-ins due from you",
        data.due,
        lambda d: (due_line(d, zone), _update_button(d.key, "Answer", "primary")),
        "Nothing due from you. :tada:",
    )
    blocks += _list(
        data,
        HomeSection.OWNED,
        "Your initiatives",
        data.owned,
        lambda i: (
            _owned_line(i, data),
            _update_button(i.key) if i.state is InitiativeState.ACTIVE else None,
        ),
        "You own no open initiatives.",
    )
    blocks += _list(
        data,
        HomeSection.WAITING,
        "Waiting on you",
        data.waiting,
        lambda w: (waiting_line(w), None),
        "Nobody is waiting on you.",
    )
    blocks += _list(
        data,
        HomeSection.REQUESTED,
        "Your requests",
        data.requested,
        lambda i: (_request_line(i), None),
        "You have not asked for anything yet. `/request` asks another team for something.",
    )
    if data.settings is not None:
        blocks += settings_section(data.settings)
    return View(type="home", blocks=blocks)


def _update_button(key: str, label: str = "Update", style: str | None = None) -> ButtonElement:
    """The check-in feature's button (`checkin_update`): opens the check-in form."""
    return ButtonElement(
        text=plain(label, 75), action_id=CardAction.UPDATE, value=initiative_value(key), style=style
    )


def _owned_line(item: InitiativeLine, data: HomeData) -> str:
    details = []
    if item.state is InitiativeState.ACTIVE and item.next_checkin_at:
        details.append(f"next check-in {when(item.next_checkin_at, data.zone)}")
    if item.due_date:
        details.append(f"due {mrkdwn.date_text(item.due_date)}")
    return line(item) + ("\n" + " · ".join(details) if details else "")


def _request_line(item: InitiativeLine) -> str:
    # like `line`, with the state said in words below
    text = (
        f"{HEALTH_ICON[item.health]} *{mrkdwn.escape(item.key)}* {mrkdwn.escape(item.title)} "
        f"· {mrkdwn.escape(item.okr_key)}"
    )
    if item.state is InitiativeState.ACTIVE:
        state = f"accepted · owner {mrkdwn.user(item.owner_id)}"
    else:
        state = STATE_WORDS[item.state]
    return f"{text}\n{state}"


def _list(
    data: HomeData,
    which: HomeSection,
    title: str,
    page: Page[T],
    render: Callable[[T], tuple[str, Any]],
    empty: str,
) -> list[Block]:
    first = page.offset + 1
    shown = (
        f" · {first}–{page.offset + len(page.items)} of {page.total}"
        if page.items and (page.has_next or page.has_previous)
        else (f" · {page.total}" if page.total else "")
    )
    blocks: list[Block] = [divider(), section(f"*{title}*{shown}")]
    if not page.items:
        blocks.append(context(empty if page.offset == 0 else "Nothing more here."))
    for item in page.items:
        text, accessory = render(item)
        blocks.append(section(text, accessory=accessory))
    buttons = []
    if page.has_previous:
        buttons.append(
            ButtonElement(
                text=plain("Previous", 75),
                action_id=HomeAction.PREVIOUS_PAGE,
                value=data.pages.turned(which, -1).to_value(),
            )
        )
    if page.has_next:
        buttons.append(
            ButtonElement(
                text=plain(f"Next {min(PAGE_SIZE[which], page.more)}", 75),
                action_id=HomeAction.NEXT_PAGE,
                value=data.pages.turned(which, +1).to_value(),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"{HomeBlock.PAGER}_{which.value}", elements=buttons))
    return blocks


# -- settings --------------------------------------------------------------------------------------


def _setting_text(settings: WorkspaceSettings, name: str) -> str:
    value = getattr(settings, name)
    if name in CHANNEL_SETTINGS:
        return mrkdwn.channel(value) if value else "_not set_"
    if name == "default_cadence":
        return f"{Cadence.parse(value).describe()} (`{mrkdwn.escape(value)}`)"
    if name == "holidays":
        return mrkdwn.escape(value) if value else "_weekends only_"
    if name in BOOL_SETTINGS:
        return "on" if value else "off"
    return str(value)


def settings_section(settings: WorkspaceSettings) -> list[Block]:
    """What admins see of the settings on their Home, with the button that edits them."""
    first, rest = SETTINGS_FIELDS[:6], SETTINGS_FIELDS[6:]
    return [
        divider(),
        header("Settings (admins)"),
        SectionBlock(fields=[md(f"*{LABELS[n]}*\n{_setting_text(settings, n)}") for n in first]),
        SectionBlock(fields=[md(f"*{LABELS[n]}*\n{_setting_text(settings, n)}") for n in rest]),
        ActionsBlock(
            block_id=HomeBlock.SETTINGS,
            elements=[
                ButtonElement(text=plain("Edit settings", 75), action_id=HomeAction.EDIT_SETTINGS),
                ButtonElement(text=plain("Export data", 75), action_id=HomeAction.EXPORT_DATA),
            ],
        ),
        context(
            "*Export data* sends you every initiative, check-in, dependency, escalation, OKR and "
            "the history as CSV files in one zip, by DM."
        ),
    ]


def settings_modal(settings: WorkspaceSettings) -> View:
    """The form an admin changes the workspace's settings in."""
    blocks: list[Block] = [
        section("These settings apply to this workspace, on top of Throughline's configuration file.")
    ]
    for name in SETTINGS_FIELDS:
        value = getattr(settings, name)
        element: Any
        optional = False
        if name in CHANNEL_SETTINGS:
            element = ConversationSelectElement(
                action_id="value",
                initial_conversation=value or None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                placeholder=plain("Pick a channel", 150),
            )
            optional = True
        elif name in BOOL_SETTINGS:
            element = StaticSelectElement(
                action_id="value", options=_ON_OFF, initial_option=_ON_OFF[0] if value else _ON_OFF[1]
            )
        elif name in NUMBER_SETTINGS:
            low, high = NUMBER_SETTINGS[name]
            element = NumberInputElement(
                action_id="value",
                is_decimal_allowed=False,
                initial_value=str(value),
                min_value=str(low),
                max_value=str(high),
            )
        else:
            element = PlainTextInputElement(action_id="value", initial_value=value or None, max_length=100)
            optional = name == "holidays"
        blocks.append(
            InputBlock(
                block_id=settings_block(name),
                label=plain(LABELS[name], 2000),
                element=element,
                optional=optional,
                hint=plain(HINTS[name], 2000) if name in HINTS else None,
            )
        )
    return View(
        type="modal",
        callback_id=SETTINGS_CALLBACK,
        title=plain("Throughline settings", 24),
        submit=plain("Save", 24),
        close=plain("Cancel", 24),
        blocks=blocks,
    )


def settings_from_state(values: dict[str, Any], names: Sequence[str] = SETTINGS_FIELDS) -> dict[str, Any]:
    """The submitted settings by name, from `view.state.values`; a cleared field is "" or None."""
    result: dict[str, Any] = {}
    for name in names:
        block = values.get(settings_block(name))
        if not isinstance(block, dict) or not block:
            continue
        entry = block.get("value") or next(iter(block.values()))
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if kind == "conversations_select":
            result[name] = entry.get("selected_conversation")
        elif kind == "channels_select":
            result[name] = entry.get("selected_channel")
        elif kind == "static_select":
            result[name] = (entry.get("selected_option") or {}).get("value") == "true"
        elif name in NUMBER_SETTINGS:
            result[name] = entry.get("value")  # a string; the settings model reads the number
        else:
            result[name] = (entry.get("value") or "").strip()
    return result

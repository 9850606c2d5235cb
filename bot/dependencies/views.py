"""The add-dependency modal, its initiative search, and the "Add a dependency" button; the
renegotiate modal and the Mark met reply (their buttons are on the escalation ladder's DMs); and
what both sides are told when a dependency is added, renegotiated, met or cancelled."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import plain, section
from bot.core import mrkdwn
from bot.core.mrkdwn import truncate
from bot.dependencies.models import AddContext, Change, ManageContext
from bot.escalation.views import EscalationBlock, EscalationCallback
from bot.initiatives.models import InitiativeChoice
from storage.models import Dependency, DependencyState, Initiative


class DependencyAction(StrEnum):
    ADD = "dependency_add"  # button value {"initiative": "REQ-17"}: opens the add modal
    PROVIDER_PICK = "dependency_provider_pick"  # the modal's external select of initiatives


class DependencyCallback(StrEnum):
    ADD = "dependency_add_modal"


class DependencyBlock(StrEnum):
    # the ids `dependencies.add` names in its Invalid errors
    PROVIDER = "dependency_provider"
    TEAM = "dependency_team"
    CONTACT = "dependency_contact"
    WHAT = "dependency_what"
    NEEDED_BY = "dependency_needed_by"


def add_button(initiative_key: str, text: str = "Add a dependency") -> ButtonElement:
    """The button any surface (status card, Home, check-in) shows to add a dependency."""
    return ButtonElement(
        text=plain(text, 75),
        action_id=DependencyAction.ADD.value,
        value=json.dumps({"initiative": initiative_key}),
    )


def add_modal(ctx: AddContext) -> View:
    if ctx.teams:
        team_element: Any = StaticSelectElement(
            action_id="value",
            placeholder=plain("Pick a team"),
            options=[Option(text=plain(t, 75), value=t[:150]) for t in ctx.teams[:100]],
        )
    else:
        team_element = PlainTextInputElement(
            action_id="value", max_length=100, placeholder=plain("Team name")
        )
    return View(
        type="modal",
        callback_id=DependencyCallback.ADD,
        private_metadata=json.dumps({"initiative": ctx.waiter_key}),
        title=plain("Add a dependency", 24),
        submit=plain("Add", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(
                f"What does *{mrkdwn.escape(ctx.waiter_key)}* {mrkdwn.escape(ctx.waiter_title)} wait on? "
                "Both sides are told, and if it stalls, Throughline escalates."
            ),
            InputBlock(
                block_id=DependencyBlock.PROVIDER,
                optional=True,
                label=plain("Another initiative"),
                hint=plain("Search by key or title. Or leave this empty and pick a team below."),
                element=ExternalDataSelectElement(
                    action_id=DependencyAction.PROVIDER_PICK.value,
                    placeholder=plain("REQ-12 or words from its title"),
                    min_query_length=0,
                ),
            ),
            InputBlock(
                block_id=DependencyBlock.TEAM,
                optional=True,
                label=plain("…or a team"),
                element=team_element,
            ),
            InputBlock(
                block_id=DependencyBlock.CONTACT,
                optional=True,
                label=plain("Contact on that team"),
                element=UserSelectElement(action_id="value", placeholder=plain("Who to talk to")),
            ),
            InputBlock(
                block_id=DependencyBlock.WHAT,
                label=plain("Waiting for what?"),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=500),
            ),
            InputBlock(
                block_id=DependencyBlock.NEEDED_BY,
                optional=True,
                label=plain("Needed by"),
                element=DatePickerElement(action_id="value"),
            ),
        ],
    )


def provider_options(found: list[InitiativeChoice]) -> list[dict[str, Any]]:
    """Options for the external select (plain text: no escaping needed)."""
    return [Option(text=plain(f"{o.key} {o.title}", 75), value=o.key).to_dict() for o in found[:100]]


# -- renegotiate date, mark met (buttons on the escalation ladder's DMs) ----------------------------


def renegotiate_modal(ctx: ManageContext) -> View:
    current = f" (now {mrkdwn.date_text(ctx.needed_by)})" if ctx.needed_by else ""
    what = f" for: {mrkdwn.escape(truncate(ctx.what, 300))}" if ctx.what else ""
    return View(
        type="modal",
        callback_id=EscalationCallback.RENEGOTIATE,
        private_metadata=json.dumps({"dependency": ctx.dependency_id}),
        title=plain("Renegotiate date", 24),
        submit=plain("Save", 24),
        close=plain("Cancel", 24),
        blocks=[
            section(
                f"*{mrkdwn.escape(ctx.waiter_key)}* waits on *{mrkdwn.escape(ctx.provider_label)}*{what}"
                f"{current}. Both sides will see the new date and why."
            ),
            InputBlock(
                block_id=EscalationBlock.NEEDED_BY,
                label=plain("New needed-by date"),
                element=DatePickerElement(action_id="value", initial_date=None),
            ),
            InputBlock(
                block_id=EscalationBlock.REASON,
                label=plain("Why it moves"),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=500),
            ),
        ],
    )


MET_REPLY = ":white_check_mark: Marked met. Both sides have been told, and any escalation is resolved."


# -- what both sides are told -----------------------------------------------------------------------


def _labels(dependency: Dependency, waiter: Initiative, provider: Initiative | None) -> tuple[str, str]:
    waiter_label = f"*{mrkdwn.escape(waiter.key)}* {mrkdwn.escape(waiter.title)}"
    provider_text = (
        f"*{mrkdwn.escape(provider.key)}* {mrkdwn.escape(provider.title)}"
        if provider
        else f"the {mrkdwn.escape(dependency.provider_team)} team"
    )
    return waiter_label, provider_text


def added_text(dependency: Dependency, waiter: Initiative, provider: Initiative | None) -> str:
    by = f" by {mrkdwn.date_text(dependency.needed_by)}" if dependency.needed_by else ""
    what = f": {mrkdwn.escape(dependency.what)}" if dependency.what else ""
    waiter_label, provider_label = _labels(dependency, waiter, provider)
    return f":link: {waiter_label} now waits on {provider_label}{what}{by}."


def renegotiated_text(change: Change, actor_id: str) -> str:
    dependency = change.dependency
    waiter_label, provider_text = _labels(dependency, change.waiter, change.provider)
    old = change.old_needed_by
    was = f" (was {mrkdwn.date_text(old)})" if old else ""
    return (
        f":calendar: {mrkdwn.user(actor_id)} moved the date {waiter_label} needs {provider_text} by to "
        f"*{mrkdwn.date_text(dependency.needed_by)}*{was}: {mrkdwn.escape(change.reason)}"
    )


def closed_text(change: Change, actor_id: str | None, because: str | None) -> str:
    """Met or cancelled, by `actor_id`, or by Throughline `because` something else closed."""
    dependency = change.dependency
    word = "met" if dependency.state == DependencyState.MET else "cancelled"
    waiter_label, provider_text = _labels(dependency, change.waiter, change.provider)
    icon = ":white_check_mark:" if dependency.state == DependencyState.MET else ":heavy_multiplication_x:"
    what = f" ({mrkdwn.escape(dependency.what)})" if dependency.what else ""
    return (
        f"{icon} {mrkdwn.user(actor_id)} marked as {word}: {waiter_label} waiting on {provider_text}{what}."
        if because is None
        else f"{icon} No longer waiting: {waiter_label} on {provider_text}{what}, because {because}."
    )

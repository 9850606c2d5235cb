"""The add-dependency modal, its initiative search, and the "Add a dependency" button."""

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
from bot.dependencies.service import AddContext, ProviderOption


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


def provider_options(found: list[ProviderOption]) -> list[dict[str, Any]]:
    """Options for the external select (plain text: no escaping needed)."""
    return [Option(text=plain(f"{o.key} {o.title}", 75), value=o.key).to_dict() for o in found[:100]]

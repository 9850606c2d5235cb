"""The request modal, what it says once submitted, and the options of its selects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, plain, section
from bot.core import mrkdwn
from bot.core.mrkdwn import truncate
from bot.intake.models import (
    DESCRIPTION_LIMIT,
    IMPACT_LIMIT,
    OPTION_TEXT_LIMIT,
    TEAM_LIMIT,
    TITLE_LIMIT,
    WORK_LIMIT,
    IntakeAction,
    IntakeBlock,
    IntakeCallback,
    IntakeMeta,
)

_IMPACT_OPTIONS = [
    Option(value="3", label="High – moves the KR a lot"),
    Option(value="2", label="Medium"),
    Option(value="1", label="Low – helps a little"),
]


def _team_element(teams: Sequence[str], action_id: str, placeholder: str) -> Any:
    if teams:
        return StaticSelectElement(
            action_id=action_id,
            placeholder=plain(placeholder),
            options=[Option(value=t[:150], label=truncate(t, OPTION_TEXT_LIMIT)) for t in list(teams)[:100]],
        )
    return PlainTextInputElement(action_id=action_id, max_length=TEAM_LIMIT, placeholder=plain(placeholder))


def intake_modal(
    *,
    meta: IntakeMeta,
    teams: Sequence[str],
    okr_hosts: Sequence[str],
    title: str = "",
    description: str = "",
    trackers: Sequence[str] = (),
) -> View:
    """The request modal. `teams`: the configured teams (a select) or none (a text input);
    `okr_hosts`: where an OKR link may point (no link field when there are none); `trackers`: the
    trackers set up ("Jira", "GitHub"), whose links the request may carry (no field without)."""
    blocks: list[Block] = []
    if meta.channel:
        blocks.append(context(f":speech_balloon: From a message in {mrkdwn.channel(meta.channel)}"))
    blocks += [
        InputBlock(
            block_id=IntakeBlock.TITLE,
            label=plain("Title"),
            element=PlainTextInputElement(
                action_id="value",
                initial_value=truncate(title.strip(), TITLE_LIMIT) or None,
                max_length=TITLE_LIMIT,
                placeholder=plain("What you need, in a few words"),
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.DESCRIPTION,
            label=plain("What is needed, and why"),
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                initial_value=truncate(description.strip(), DESCRIPTION_LIMIT) or None,
                max_length=DESCRIPTION_LIMIT,
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.OKR,
            label=plain("The OKR it moves"),
            optional=True,
            hint=plain("An objective or key result. Type to search; `/okr` lists them."),
            element=ExternalDataSelectElement(
                action_id=IntakeAction.OKR, placeholder=plain("Search OKRs"), min_query_length=0
            ),
        ),
    ]
    if okr_hosts:
        blocks.append(
            InputBlock(
                block_id=IntakeBlock.OKR_URL,
                label=plain("…or its link in your OKR tool"),
                optional=True,
                hint=plain(f"A link to the OKR on {', '.join(okr_hosts)}.", 2000),
                element=UrlInputElement(action_id="value"),
            )
        )
    blocks += [
        InputBlock(
            block_id=IntakeBlock.IMPACT_LEVEL,
            label=plain("Expected impact on that OKR"),
            element=StaticSelectElement(
                action_id="value", placeholder=plain("How much it moves it"), options=_IMPACT_OPTIONS
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.IMPACT,
            label=plain("Expected impact on that KR, in words"),
            optional=True,
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                max_length=IMPACT_LIMIT,
                placeholder=plain("e.g. churn −0.5 points by the end of the quarter"),
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.NEEDED_BY,
            label=plain("Needed by"),
            element=DatePickerElement(action_id="value"),
        ),
        InputBlock(
            block_id=IntakeBlock.TEAM,
            label=plain("Team asked"),
            element=_team_element(teams, "value", "Which team should do it"),
        ),
        InputBlock(
            block_id=IntakeBlock.DEPENDS_ON,
            label=plain("Depends on (initiatives)"),
            optional=True,
            element=ExternalDataMultiSelectElement(
                action_id=IntakeAction.DEPENDS_ON,
                placeholder=plain("REQ-12, or words from its title"),
                min_query_length=0,
                max_selected_items=10,
            ),
        ),
        InputBlock(
            block_id=IntakeBlock.DEPENDS_ON_TEAM,
            label=plain("Depends on (another team)"),
            optional=True,
            element=_team_element(teams, "value", "A team this waits on"),
        ),
    ]
    if trackers:
        blocks.append(
            InputBlock(
                block_id=IntakeBlock.WORK,
                label=plain("Linked work"),
                optional=True,
                hint=plain(
                    f"{' or '.join(trackers)} links to the issues, epics, pull requests or milestones that "
                    "carry this work, one per line (at most 5). Each is checked when you submit.",
                    2000,
                ),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=WORK_LIMIT),
            )
        )
    blocks += [
        context(
            "The queue is ranked by strategy: the OKR's priority times the impact you state, then age. "
            "No OKR fits? Ask an admin to add it."
        ),
    ]
    return View(
        type="modal",
        callback_id=IntakeCallback.SUBMIT,
        title=plain("New request", 24),
        submit=plain("Submit", 24),
        close=plain("Cancel", 24),
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def submitted_modal(key: str, title: str, triage_channel: str | None, created: bool) -> View:
    where = (
        f"It is in the triage queue in {mrkdwn.channel(triage_channel)}"
        if triage_channel
        else "Triage isn't set up in this workspace yet; the admins have been told"
    )
    again = "" if created else " (it was already submitted: nothing new was sent)"
    return View(
        type="modal",
        title=plain("Request sent", 24),
        close=plain("Done", 24),
        blocks=[
            section(
                f":inbox_tray: *{mrkdwn.escape(key)}* {mrkdwn.escape(title)}{again}. {where}. "
                f"I've sent you a DM with the details; `/initiative {mrkdwn.escape(key)}` shows where it is."
            )
        ],
    )


def options(choices: Sequence[tuple[str, str]]) -> list[Option]:
    """Select options from (value, text) pairs: at most 100, text ≤ 75 characters."""
    return [
        Option(value=value[:150], text=plain(truncate(text, OPTION_TEXT_LIMIT), OPTION_TEXT_LIMIT))
        for value, text in list(choices)[:100]
    ]

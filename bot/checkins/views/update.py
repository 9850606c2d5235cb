"""The Update modal (opened from any surface), its "waiting on" options, and what an answer
recorded."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    OptionGroup,
    PlainTextInputElement,
    RadioButtonsElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import context, plain, section
from bot.checkins.models import (
    BLOCKERS_LIMIT,
    MOVED_LIMIT,
    Answered,
    ProviderOptions,
    UpdateBlock,
    UpdateForm,
)
from bot.checkins.views.prompt import CheckinAction, health_text, number, when
from bot.core import mrkdwn
from bot.trackers import views as tracker_views

UPDATE_CALLBACK = "checkin_update"
CHOICES = {"on_track": "On track", "at_risk": "At risk", "blocked": "Blocked", "done": "Done"}


def answered(result: Answered) -> str:
    """A short confirmation of what was recorded."""
    if result.done:
        what = ":checkered_flag: *done*"
    else:
        what = health_text(result.health) if result.health else "your update"
    fix = " as a correction" if result.correction else ""
    told = ""
    if result.told:
        told = " Told " + ", ".join(mrkdwn.user(u) for u in result.told) + "."
    return f"Recorded {what} for *{mrkdwn.escape(result.initiative_key)}*{fix}.{told}"


# -- the Update modal --------------------------------------------------------------------------------


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def update_modal(form: UpdateForm, *, from_home: bool = False) -> View:
    """Health, progress (or the KR's new value), what moved, what blocks it and on whom, next milestone.
    `from_home`: opened from the App Home, which is re-published once the answer is recorded."""
    tz = form.tz
    lines = [
        f"*{mrkdwn.escape(form.initiative_key)}* {mrkdwn.escape(form.title)}",
        f":dart: {mrkdwn.escape(form.okr_key)} {mrkdwn.escape(form.okr_title)}",
    ]
    if form.health:
        lines.append(f"Now: {health_text(form.health)} since {when(form.health_since, tz)}")
    blocks: list[Block] = [section("\n".join(lines), block_id="cu_intro")]
    if form.answered_by is not None:
        blocks.append(
            context(
                f"The check-in of {when(form.slot_at, tz)} was already answered by "
                f"{mrkdwn.user(form.answered_by)} on {when(form.answered_at, tz)}. This adds a correction; "
                "the first answer is kept."
            )
        )
    elif form.slot_at is not None:
        blocks.append(context(f"Answers the check-in of {when(form.slot_at, tz)}."))

    options = [Option(value=value, label=label) for value, label in CHOICES.items()]
    initial = next((o for o in options if form.health and o.value == form.health.value), None)
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.HEALTH,
            label=plain("How is it going?", 2000),
            element=RadioButtonsElement(
                action_id=UpdateBlock.HEALTH, options=options, initial_option=initial
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.PROGRESS,
            label=plain("Progress (%)", 2000),
            optional=True,
            element=NumberInputElement(
                action_id=UpdateBlock.PROGRESS,
                is_decimal_allowed=False,
                min_value=0,
                max_value=100,
                initial_value=str(form.progress_pct) if form.progress_pct is not None else None,
            ),
        )
    )
    if form.metric is not None:
        metric = form.metric
        unit = f" ({metric.unit})" if metric.unit else ""
        hint = f"Now {number(metric.current)}, target {number(metric.target)}"
        if metric.start is not None:
            hint += f" (from {number(metric.start)})"
        blocks.append(
            InputBlock(
                block_id=UpdateBlock.METRIC,
                label=plain(f"{metric.okr_key}: the metric's new value{unit}", 2000),
                hint=plain(hint, 2000),
                optional=True,
                element=NumberInputElement(action_id=UpdateBlock.METRIC, is_decimal_allowed=True),
            )
        )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.MOVED,
            label=plain("What moved since last time?", 2000),
            optional=True,
            hint=plain("Started from the linked work: keep it, or correct it.", 2000) if form.moved else None,
            element=PlainTextInputElement(
                action_id=UpdateBlock.MOVED,
                multiline=True,
                max_length=MOVED_LIMIT,
                initial_value=mrkdwn.truncate(tracker_views.moved_text(list(form.moved)), MOVED_LIMIT)
                if form.moved
                else None,
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.BLOCKERS,
            label=plain("What blocks it?", 2000),
            optional=True,
            element=PlainTextInputElement(
                action_id=UpdateBlock.BLOCKERS, multiline=True, max_length=BLOCKERS_LIMIT
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.BLOCKED_ON,
            label=plain("Blocked on whom?", 2000),
            hint=plain("If they lead a team, a dependency on that team is recorded and they are told.", 2000),
            optional=True,
            element=UserSelectElement(action_id=UpdateBlock.BLOCKED_ON),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.WAITING_ON,
            label=plain("Waiting on another initiative or team?", 2000),
            hint=plain("A dependency is recorded and both sides are told.", 2000),
            optional=True,
            element=ExternalDataSelectElement(
                action_id=CheckinAction.WAITING_ON,
                placeholder=plain("Type a key, a title or a team", 150),
                min_query_length=0,
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.NEEDED_BY,
            label=plain("Needed from them by", 2000),
            optional=True,
            element=DatePickerElement(action_id=UpdateBlock.NEEDED_BY),
        )
    )
    blocks.append(
        InputBlock(
            block_id=UpdateBlock.NEXT_MILESTONE,
            label=plain("Next milestone date", 2000),
            optional=True,
            element=DatePickerElement(
                action_id=UpdateBlock.NEXT_MILESTONE, initial_date=_date(form.next_milestone)
            ),
        )
    )
    metadata: dict[str, Any] = {"initiative": form.initiative_key}
    if form.checkin_id is not None:
        metadata["checkin"] = form.checkin_id
    if from_home:
        metadata["home"] = True
    return View(
        type="modal",
        callback_id=UPDATE_CALLBACK,
        title=plain(f"Update {form.initiative_key}", 24),
        submit=plain("Record", 24),
        close=plain("Cancel", 24),
        private_metadata=json.dumps(metadata, separators=(",", ":")),
        blocks=blocks,
    )


def provider_options(found: ProviderOptions) -> dict[str, Any]:
    """The options-load answer for the "waiting on" select: initiatives, then teams."""
    groups = []
    if found.initiatives:
        groups.append(
            OptionGroup(
                label=plain("Initiatives", 75),
                options=[Option(value=value, text=plain(label, 75)) for value, label in found.initiatives],
            )
        )
    if found.teams:
        groups.append(
            OptionGroup(
                label=plain("Teams", 75),
                options=[Option(value=value, text=plain(label, 75)) for value, label in found.teams],
            )
        )
    if not groups:
        return {"options": []}
    return {"option_groups": [g.to_dict() for g in groups]}


def update_recorded(result: Answered) -> View:
    """The modal after a successful Update."""
    return View(
        type="modal",
        title=plain("Check-in recorded", 24),
        close=plain("Close", 24),
        blocks=[section(answered(result))],
    )

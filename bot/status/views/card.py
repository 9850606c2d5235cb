"""The status card of one initiative (`/initiative REQ-17`, and shared in a channel)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot.blockkit.blocks import context, header, md, plain, section
from bot.blockkit.health import HEALTH_ICON, HEALTH_WORDS, STATE_WORDS
from bot.core import mrkdwn
from bot.status.models import Card, DependencyLine, EscalationLine
from bot.status.views.history import HistoryAction
from bot.status.views.replies import day, listing, okr_label, when
from bot.trackers import views as tracker_views
from storage.models import CheckinStatus, InitiativeState

CARD_LINES = 12  # dependencies shown each way before "…and N more"


class CardAction(StrEnum):
    SHARE = "status_share"  # mine: post the card visibly where it was asked for
    UPDATE = "checkin_update"  # the check-in feature's: opens the check-in modal (owner)
    ADD_DEPENDENCY = "dependency_add"  # the dependencies feature's: opens "add a dependency"


class CardBlock(StrEnum):
    ACTIONS = "status_card_actions"


def initiative_value(key: str) -> str:
    """The `value` of every card button: `{"initiative": "REQ-17"}`."""
    return json.dumps({"initiative": key})


def initiative_of(value: str | None) -> str | None:
    """The initiative key in a card button's value, or None if it is not one of ours."""
    try:
        data: Any = json.loads(value or "")
    except ValueError:
        return None
    key = data.get("initiative") if isinstance(data, dict) else None
    return key if isinstance(key, str) and 0 < len(key) <= 20 else None


def _dependency(item: DependencyLine) -> str:
    if item.other is not None:
        other = item.other
        state = "" if other.state is InitiativeState.ACTIVE else f" · _{STATE_WORDS[other.state]}_"
        who = (
            f"{HEALTH_ICON[other.health]} *{mrkdwn.escape(other.key)}* {mrkdwn.escape(other.title)} "
            f"· {HEALTH_WORDS[other.health]}{state}"
        )
    else:
        contact = f" (contact {mrkdwn.user(item.contact_id)})" if item.contact_id else ""
        who = f":busts_in_silhouette: the *{mrkdwn.escape(item.team)}* team{contact}"
    what = f" — for {mrkdwn.escape(item.what)}" if item.what else ""
    by = f" · needed by {mrkdwn.date_text(item.needed_by)}" if item.needed_by else ""
    stalled = (
        f" · :hourglass: stalled since {mrkdwn.date_text(item.stalled_since.date())}"
        if item.stalled_since
        else ""
    )
    return f"{who}{what}{by}{stalled}"


def _escalation(item: EscalationLine, card: Card) -> str:
    acknowledged = f" · acknowledged by {mrkdwn.user(item.acknowledged_by)}" if item.acknowledged_by else ""
    return (
        f":rotating_light: *Level {item.level}* since {day(item.opened_at, card.zone)} — "
        f"{mrkdwn.escape(item.waiter_key)} waits on {mrkdwn.escape(item.provider)}: "
        f"{mrkdwn.escape(item.reason)}{acknowledged}"
    )


def _forecast(due: date | None, forecast: date | None) -> str:
    if forecast is None:
        return "—"
    shown = str(mrkdwn.date_text(forecast))
    if due is None:
        return shown
    late = (forecast - due).days
    if late > 0:
        return f"{shown} · :warning: {late} day{'s' if late != 1 else ''} late"
    if late < 0:
        return f"{shown} · {-late} day{'s' if late != -1 else ''} early"
    return f"{shown} · on time"


def _limited(items: list[str], noun: str, total: int | None = None) -> list[str]:
    """At most CARD_LINES of `items`, and how many more of `total` there are."""
    shown = items[:CARD_LINES]
    more = (len(items) if total is None else max(total, len(items))) - len(shown)
    return [*shown, f"_…and {more} more {noun}_"] if more > 0 else shown


def card(
    view: Card, *, intake_link: str | None = None, shared_by: str | None = None
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of the status card. `intake_link` is the triage post's permalink
    (found at the edge); `shared_by` makes it the channel version: no buttons but who shared it."""
    item, okr, zone = view.initiative, view.okr, view.zone
    blocks: list[Block] = [header(f"{item.key} · {item.title}")]
    if item.description:
        blocks.append(section(mrkdwn.escape(mrkdwn.truncate(item.description, 600))))

    okr_text = okr_label(okr)
    if view.objective is not None:
        okr_text += f"\nunder {okr_label(view.objective)}"
    if item.owner_id:
        owner = mrkdwn.user(item.owner_id)
    elif item.state is InitiativeState.PROPOSED:
        owner = mrkdwn.Mrkdwn("nobody yet (waiting for triage)")
    else:
        owner = mrkdwn.Mrkdwn("nobody")
    health = f"{HEALTH_ICON[item.health]} {HEALTH_WORDS[item.health]}"
    if item.health is not None and item.health_since is not None:
        health += f" since {day(item.health_since, zone)}"
    state = STATE_WORDS[item.state]
    if item.progress_pct is not None and item.state is InitiativeState.ACTIVE:
        state += f" · {item.progress_pct}% done"
    next_checkin = (
        when(item.next_checkin_at, zone)
        if item.state is InitiativeState.ACTIVE and item.next_checkin_at
        else "—"
    )
    fields = [
        f"*OKR*\n{okr_text}",
        f"*Owner*\n{owner}",
        f"*Health*\n{health}",
        f"*State*\n{state}",
        f"*Due*\n{mrkdwn.date_text(item.due_date, 'not set')}",
        f"*Forecast*\n{_forecast(item.due_date, item.forecast_date)}",
        f"*Next check-in*\n{next_checkin}",
        f"*Requested by*\n{mrkdwn.user(item.requester_id)} on {day(item.created_at, zone)}",
    ]
    blocks.append(SectionBlock(fields=[md(mrkdwn.truncate(f, 1900)) for f in fields]))

    if item.state is InitiativeState.DECLINED:
        reason = f": {mrkdwn.escape(item.decline_reason)}" if item.decline_reason else ""
        blocks.append(section(f":no_entry_sign: *Declined* by {mrkdwn.user(item.decided_by)}{reason}"))

    blocks.append(section(_last_checkin(view)))

    if view.waits_on:
        blocks += listing(
            "*Waits on*",
            _limited([_dependency(d) for d in view.waits_on], "dependencies", view.waits_on_total),
        )
    if view.waited_on_by:
        blocks += listing(
            "*Waited on by*",
            _limited([_dependency(d) for d in view.waited_on_by], "dependents", view.waited_on_by_total),
        )
    if view.links:
        blocks += listing(
            "*Linked work*",
            _limited(
                [tracker_views.link_line(line) for line in view.links], "linked items", view.links_total
            ),
        )
    if view.escalations:
        blocks += listing(
            "*Open escalations*",
            _limited([_escalation(e, view) for e in view.escalations], "escalations", view.escalations_total),
        )

    notes: list[str] = []
    if intake_link:
        notes.append(mrkdwn.link(intake_link, "Intake message"))
    if item.source_link:
        notes.append(mrkdwn.link(item.source_link, "Original message"))
    notes.append(f"Times in {mrkdwn.escape(zone.key)}")
    if shared_by:
        notes.append(f"Shared by {mrkdwn.user(shared_by)}")
    blocks.append(context(" · ".join(notes)))

    buttons = []
    if shared_by is None:
        buttons.append(
            ButtonElement(
                text=plain("Share in channel", 75),
                action_id=CardAction.SHARE,
                value=initiative_value(item.key),
            )
        )
        if view.can_update:
            buttons.append(
                ButtonElement(
                    text=plain("Update", 75),
                    action_id=CardAction.UPDATE,
                    value=initiative_value(item.key),
                    style="primary",
                )
            )
        if view.can_add_dependency:
            buttons.append(
                ButtonElement(
                    text=plain("Add a dependency", 75),
                    action_id=CardAction.ADD_DEPENDENCY,
                    value=initiative_value(item.key),
                )
            )
        if view.can_link:
            buttons.append(tracker_views.link_button(item.key))
        buttons.append(
            ButtonElement(
                text=plain("History", 75), action_id=HistoryAction.OPEN, value=initiative_value(item.key)
            )
        )
        blocks.append(ActionsBlock(block_id=CardBlock.ACTIONS, elements=buttons))

    text = f"{item.key} {item.title}: {HEALTH_WORDS[item.health]}, {STATE_WORDS[item.state]}"
    return mrkdwn.escape(text), blocks


def _last_checkin(view: Card) -> str:
    item, zone = view.initiative, view.zone
    update = view.latest_update
    if update is None:
        text = "*Last check-in:* none yet."
    else:
        text = f"*Last check-in* · {day(update.created_at, zone)} by {mrkdwn.user(update.author_id)}"
        if update.health is not None:
            text += f" · {HEALTH_ICON[update.health]} {HEALTH_WORDS[update.health]}"
        if update.done:
            text += " · :white_check_mark: done"
        if update.moved:
            text += f"\n*What moved:* {mrkdwn.escape(mrkdwn.truncate(update.moved, 900))}"
        if update.blockers:
            text += f"\n*Blockers:* {mrkdwn.escape(mrkdwn.truncate(update.blockers, 700))}"
            if update.blocked_on_id:
                text += f" (on {mrkdwn.user(update.blocked_on_id)})"
        if update.next_milestone:
            text += f"\n*Next milestone:* {mrkdwn.date_text(update.next_milestone)}"
    checkin = view.latest_checkin
    if (
        checkin is not None
        and checkin.status is CheckinStatus.PENDING
        and item.state is InitiativeState.ACTIVE
    ):
        text += (
            f"\n:hourglass_flowing_sand: Asked {when(checkin.slot_at, zone)}; waiting for "
            f"{mrkdwn.user(checkin.owner_id)}'s answer."
        )
    if item.consecutive_misses:
        text += f"\n:warning: {item.consecutive_misses} check-in(s) missed in a row."
    return text

"""Check-ins in Slack: `/checkin`, the quick answers, the Update modal (opened from any surface),
the "waiting on" options, and `user_change` (a new time zone reschedules the owner's check-ins)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.checkins.flows import answers as checkin_answers
from bot.checkins.flows import command as checkin_command
from bot.checkins.models import Choice, CommandKind, UpdateBlock, UpdateInput
from bot.checkins.service import answers as answer_rules
from bot.checkins.service import schedule
from bot.checkins.service.command import parse
from bot.checkins.views import command as command_views
from bot.checkins.views import update as update_views
from bot.checkins.views.prompt import CheckinAction
from bot.checkins.views.update import UPDATE_CALLBACK
from bot.core import people
from bot.core.errors import Invalid, NotFound
from bot.core.services import Services
from bot.home import handlers as home
from bot.home.models import HomePages

QUICK_ANSWER = re.compile(r"^checkin_(on_track|at_risk|blocked|done)$")
OUT_OF_DATE = "That button is out of date. `/checkin` shows the check-ins waiting for you."


def answer(
    services: Services, client: WebClient, team_id: str, user_id: str, text: str
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of the ephemeral reply to `/checkin <text>`."""
    try:
        command = parse(text)
    except Invalid as exc:
        return command_views.usage(exc.message)
    now = services.clock.now()
    if command.kind is CommandKind.OWNER and command.user_id:
        # someone becomes an owner: learn their time zone first, so the first slot is theirs
        with services.db.session() as session:
            people.refresh(client, session, team_id, command.user_id, now)
    with services.db.session() as session:
        settings = services.workspace(session, team_id)
        outcome = checkin_command.execute(
            session,
            team_id=team_id,
            user_id=user_id,
            command=command,
            settings=settings,
            now=services.clock.now(),
        )
    return command_views.command_reply(outcome)


def _value(action: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(action.get("value") or "")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise NotFound(OUT_OF_DATE)
    return value


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(view.get("private_metadata") or "")
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {}


def _checkin_id(value: dict[str, Any]) -> int | None:
    found = value.get("checkin")
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _team(body: dict[str, Any]) -> str:
    return str(
        (body.get("team") or {}).get("id") or body.get("team_id") or (body.get("user") or {}).get("team_id")
    )


def read_update(values: dict[str, Any]) -> UpdateInput:
    """The Update modal's state values as plain text and ids."""

    def element(block: str) -> dict[str, Any]:
        entry = values.get(block) or {}
        return next(iter(entry.values()), None) or {}

    def option(block: str) -> str | None:
        return (element(block).get("selected_option") or {}).get("value")

    return UpdateInput(
        choice=option(UpdateBlock.HEALTH),
        progress=element(UpdateBlock.PROGRESS).get("value"),
        metric=element(UpdateBlock.METRIC).get("value"),
        moved=element(UpdateBlock.MOVED).get("value") or "",
        blockers=element(UpdateBlock.BLOCKERS).get("value") or "",
        blocked_on_id=element(UpdateBlock.BLOCKED_ON).get("selected_user"),
        waiting_on=option(UpdateBlock.WAITING_ON),
        needed_by=element(UpdateBlock.NEEDED_BY).get("selected_date"),
        next_milestone=element(UpdateBlock.NEXT_MILESTONE).get("selected_date"),
    )


def register(app: App, services: Services) -> None:
    @app.command("/checkin")
    def show_checkins(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        fallback, blocks = answer(
            services, client, command["team_id"], command["user_id"], command.get("text") or ""
        )
        ack(response_type="ephemeral", text=fallback, blocks=blocks)

    # Both actions run the domain before ack(): a refusal then reaches the error handler while the
    # request is still open, and it answers Slack and tells the user (in a threaded bolt listener,
    # raising right after ack() can lose the acknowledgement).
    @app.action(QUICK_ANSWER)
    def answer_checkin(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        checkin_id = _checkin_id(_value(action))
        if checkin_id is None:
            raise NotFound(OUT_OF_DATE)
        choice = Choice(action["action_id"].removeprefix("checkin_"))
        with services.db.session() as session:
            answered = checkin_answers.quick_answer(
                session,
                team_id=_team(body),
                actor_id=body["user"]["id"],
                checkin_id=checkin_id,
                choice=choice,
                settings=services.workspace(session, _team(body)),
                now=services.clock.now(),
            )
        ack()
        # the DM is edited through the outbox; an ephemeral list (`/checkin`) is answered here
        if (body.get("container") or {}).get("is_ephemeral"):
            respond(replace_original=True, text=update_views.answered(answered))

    @app.action(CheckinAction.UPDATE)
    def open_checkin_update(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        value = _value(action)
        key = value.get("initiative")
        if not isinstance(key, str) or not key:
            raise NotFound(OUT_OF_DATE)
        with services.db.session() as session:
            form = answer_rules.open_update(
                session,
                team_id=_team(body),
                actor_id=body["user"]["id"],
                initiative_key=key,
                checkin_id=_checkin_id(value),
                settings=services.workspace(session, _team(body)),
            )
        ack()
        container = body.get("container") or {}
        from_home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
        view = update_views.update_modal(form, from_home=from_home)
        if container.get("type") == "view" and (body.get("view") or {}).get("type") == "modal":
            client.views_push(trigger_id=body["trigger_id"], view=view)  # on top of another modal
        else:  # from a message, an ephemeral reply or the App Home
            client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(UPDATE_CALLBACK)
    def submit_checkin_update(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        metadata = _metadata(view)
        key = metadata.get("initiative")
        if not isinstance(key, str) or not key:
            raise NotFound(OUT_OF_DATE)
        with services.db.session() as session:
            answered = checkin_answers.submit_update(
                session,
                team_id=_team(body),
                actor_id=body["user"]["id"],
                initiative_key=key,
                checkin_id=_checkin_id(metadata),
                values=read_update(view["state"]["values"]),
                settings=services.workspace(session, _team(body)),
                now=services.clock.now(),
            )
        ack(response_action="update", view=update_views.update_recorded(answered))
        if metadata.get("home"):  # answered from the Home tab: show it answered there too
            home.publish(services, client, _team(body), body["user"]["id"], HomePages())

    @app.options(CheckinAction.WAITING_ON)
    def suggest_waiting_on(ack: Ack, body: dict[str, Any]) -> None:
        metadata = _metadata(body.get("view") or {})
        exclude = metadata.get("initiative")
        with services.db.session() as session:
            found = answer_rules.provider_options(
                session,
                team_id=_team(body),
                query=str(body.get("value") or ""),
                exclude_key=exclude if isinstance(exclude, str) else None,
                settings=services.workspace(session, _team(body)),
            )
        ack(**update_views.provider_options(found))

    @app.event("user_change")
    def remember_profile_change(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user") or {}
        if not user.get("id") or user.get("is_bot"):
            return
        profile = user.get("profile") or {}
        team_id = str(body.get("team_id") or user.get("team_id") or "")
        with services.db.session() as session:
            schedule.profile_changed(
                session,
                team_id=team_id,
                user_id=user["id"],
                name=profile.get("display_name") or profile.get("real_name") or user.get("real_name"),
                email=profile.get("email"),
                tz=user.get("tz"),
                settings=services.workspace(session, team_id),
                now=services.clock.now(),
            )

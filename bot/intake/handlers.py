"""Requests: `/request`, the "New request" and "Turn into request" shortcuts, the intake modal and
its selects, the triage buttons and their modals, and `/initiative queue`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient

from bot.blockkit import state as view_state
from bot.core import people
from bot.core.authz import Action
from bot.core.errors import Invalid
from bot.core.services import Services
from bot.intake import flows
from bot.intake.models import (
    AcceptBlock,
    AnswerBlock,
    AskBlock,
    DeclineBlock,
    IntakeAction,
    IntakeBlock,
    IntakeCallback,
    IntakeMeta,
    RequestAction,
    RequestForm,
    TriageAction,
    TriageMeta,
    initiative_id_of,
)
from bot.intake.service import queue as queueing
from bot.intake.service import triage
from bot.intake.views import messages
from bot.intake.views import queue as queue_views
from bot.intake.views import request as request_views
from bot.intake.views import triage as triage_views
from bot.okrs.service import links as okr_links
from bot.okrs.service import reading as okr_reading
from bot.trackers import flows as tracker_flows

log = logging.getLogger(__name__)


def read_request(view: dict[str, Any], meta: IntakeMeta, source_link: str | None) -> RequestForm:
    """The intake modal's inputs, as typed."""
    return RequestForm(
        title=view_state.text(view, IntakeBlock.TITLE),
        description=view_state.text(view, IntakeBlock.DESCRIPTION),
        okr_id=view_state.option(view, IntakeBlock.OKR),
        okr_url=view_state.text(view, IntakeBlock.OKR_URL),
        impact_level=view_state.option(view, IntakeBlock.IMPACT_LEVEL),
        impact=view_state.text(view, IntakeBlock.IMPACT),
        needed_by=view_state.day(view, IntakeBlock.NEEDED_BY),
        team_asked=view_state.option(view, IntakeBlock.TEAM) or view_state.text(view, IntakeBlock.TEAM),
        depends_on=view_state.options(view, IntakeBlock.DEPENDS_ON),
        depends_on_team=view_state.option(view, IntakeBlock.DEPENDS_ON_TEAM)
        or view_state.text(view, IntakeBlock.DEPENDS_ON_TEAM),
        submission_key=meta.nonce or None,
        source_channel=meta.channel,
        source_ts=meta.ts,
        source_link=source_link,
        work=view_state.text(view, IntakeBlock.WORK),
    )


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except (SlackApiError, SlackClientError, OSError, KeyError) as exc:
        log.warning("chat.getPermalink %s/%s failed: %s", channel, ts, exc)
        return None


def _initiative_id(body: dict[str, Any]) -> int:
    try:
        return initiative_id_of(body["actions"][0].get("value"))
    except (KeyError, IndexError, ValueError):
        raise Invalid("That button is out of date; open the request again.") from None


def _queue_reply_url(body: dict[str, Any]) -> str:
    """The response_url of the ephemeral `/initiative queue` reply a triage button was in, if so."""
    if (body.get("container") or {}).get("is_ephemeral") and body.get("response_url"):
        return str(body["response_url"])
    return ""


def queue_reply(services: Services, team_id: str, user_id: str) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of the ephemeral reply to `/initiative queue`: the proposed
    requests, highest strategic weight first, with Accept / Decline where `user_id` may triage."""
    with services.db.read() as session:
        found = queueing.queue(
            session, team_id=team_id, viewer_id=user_id, settings=services.workspace(session, team_id)
        )
    return queue_views.queue(found.items, found.total, services.clock.now())


def register(app: App, services: Services) -> None:
    def open_intake(
        client: WebClient,
        *,
        trigger_id: str,
        team_id: str,
        user_id: str,
        title: str = "",
        description: str = "",
        channel: str | None = None,
        ts: str | None = None,
    ) -> None:
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
        view = request_views.intake_modal(
            meta=IntakeMeta.new(channel, ts),
            teams=sorted(settings.teams),
            okr_hosts=okr_links.allowed_hosts(settings),
            title=title,
            description=description,
            trackers=services.settings.tracker_names(),
        )
        client.views_open(trigger_id=trigger_id, view=view)
        # the requester's time zone decides what "today" is for the needed-by date
        with services.db.session() as session:
            people.refresh(client, session, team_id, user_id, services.clock.now())

    @app.command("/request")
    def open_request_from_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        open_intake(
            client,
            trigger_id=command["trigger_id"],
            team_id=command["team_id"],
            user_id=command["user_id"],
            title=command.get("text") or "",
        )

    @app.shortcut("new_request")
    def open_request_from_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        open_intake(
            client,
            trigger_id=shortcut["trigger_id"],
            team_id=shortcut["team"]["id"],
            user_id=shortcut["user"]["id"],
        )

    @app.shortcut("request_from_message")
    def open_request_from_message(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        text = str(message.get("text") or "")
        open_intake(
            client,
            trigger_id=shortcut["trigger_id"],
            team_id=shortcut["team"]["id"],
            user_id=shortcut["user"]["id"],
            title=text.strip().splitlines()[0] if text.strip() else "",
            description=text,
            channel=(shortcut.get("channel") or {}).get("id"),
            ts=shortcut.get("message_ts") or message.get("ts"),
        )

    @app.options(IntakeAction.OKR.value)
    def suggest_okrs(ack: Ack, body: dict[str, Any]) -> None:
        with services.db.read() as session:
            found = okr_reading.choices(session, body["team"]["id"], str(body.get("value") or ""))
        ack(options=request_views.options([(c.value, c.text) for c in found]))

    @app.options(IntakeAction.DEPENDS_ON.value)
    def suggest_initiatives(ack: Ack, body: dict[str, Any]) -> None:
        with services.db.read() as session:
            found = queueing.initiative_choices(session, body["team"]["id"], str(body.get("value") or ""))
        ack(options=request_views.options([(c.value, c.text) for c in found]))

    @app.view(IntakeCallback.SUBMIT.value)
    def submit_request(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = IntakeMeta.load(view.get("private_metadata"))
        link = _permalink(client, meta.channel, meta.ts) if meta.channel and meta.ts else None
        form = read_request(view, meta, link)
        # linked work is read from the trackers before any row is written (an error lands on its field)
        work = (
            tracker_flows.read_links(services, form.work or "", field=IntakeBlock.WORK) if form.work else []
        )
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            result = flows.submit(
                session,
                team_id=team_id,
                requester_id=user_id,
                form=form,
                settings=settings,
                now=services.clock.now(),
                work=work,
                work_every=tracker_flows.reconcile_every(services.settings),
            )
        ack(
            response_action="update",
            view=request_views.submitted_modal(
                result.key, result.title, result.triage_channel, result.created
            ),
        )

    # -- triage -------------------------------------------------------------------------------

    def open_triage_modal(
        ack: Ack, body: dict[str, Any], client: WebClient, action: Action, kind: str
    ) -> None:
        """Check first, then acknowledge: a refusal raised after ack() can be lost in bolt, so the
        error handler answers it instead (ephemeral, where the button was)."""
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        initiative_id = _initiative_id(body)
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            target = triage.triage_target(
                session,
                team_id=team_id,
                initiative_id=initiative_id,
                actor_id=user_id,
                settings=settings,
                action=action,
            )
        refresh = _queue_reply_url(body)
        if kind == "accept":
            view = triage_views.accept_modal(target, settings.cadence(), refresh)
        elif kind == "decline":
            view = triage_views.decline_modal(target, refresh)
        else:
            view = triage_views.ask_modal(target)
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(TriageAction.ACCEPT.value)
    def open_accept(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        open_triage_modal(ack, body, client, Action.TRIAGE, "accept")

    @app.action(TriageAction.DECLINE.value)
    def open_decline(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        open_triage_modal(ack, body, client, Action.TRIAGE, "decline")

    @app.action(TriageAction.ASK.value)
    def open_ask(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        open_triage_modal(ack, body, client, Action.ASK_FOR_INFO, "ask")

    @app.view(IntakeCallback.ACCEPT.value)
    def accept_request(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = TriageMeta.load(view.get("private_metadata"))
        owner_id = view_state.user(view, AcceptBlock.OWNER)
        cadence = triage_views.cadence_from(
            view_state.option(view, AcceptBlock.CADENCE),
            view_state.option(view, AcceptBlock.DAY),
            view_state.option(view, AcceptBlock.TIME),
        )
        now = services.clock.now()
        with services.db.session() as session:
            if owner_id:  # their time zone places the check-ins
                people.refresh(client, session, team_id, owner_id, now)
            result = flows.accept(
                session,
                team_id=team_id,
                initiative_id=meta.initiative_id,
                actor_id=user_id,
                owner_id=owner_id,
                cadence=cadence,
                due_date=view_state.day(view, AcceptBlock.DUE),
                settings=services.workspace(session, team_id),
                now=now,
            )
        decided = triage_views.decided_modal(triage_views.decision_text(result.card))
        ack(response_action="update", view=decided)
        show_queue_again(meta.refresh, team_id, user_id)

    @app.view(IntakeCallback.DECLINE.value)
    def decline_request(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = TriageMeta.load(view.get("private_metadata"))
        with services.db.session() as session:
            card = flows.decline(
                session,
                team_id=team_id,
                initiative_id=meta.initiative_id,
                actor_id=user_id,
                reason=view_state.text(view, DeclineBlock.REASON),
                settings=services.workspace(session, team_id),
                now=services.clock.now(),
            )
        ack(response_action="update", view=triage_views.decided_modal(triage_views.decision_text(card)))
        show_queue_again(meta.refresh, team_id, user_id)

    @app.view(IntakeCallback.ASK.value)
    def ask_requester(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = TriageMeta.load(view.get("private_metadata"))
        with services.db.session() as session:
            flows.ask_for_info(
                session,
                team_id=team_id,
                initiative_id=meta.initiative_id,
                actor_id=user_id,
                question=view_state.text(view, AskBlock.QUESTION),
                nonce=meta.nonce,
                settings=services.workspace(session, team_id),
                now=services.clock.now(),
            )
        ack()

    # -- the requester answers triage's question ------------------------------------------------

    @app.action(RequestAction.ANSWER.value)
    def open_answer(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Check first, then acknowledge (see open_triage_modal)."""
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        initiative_id = _initiative_id(body)
        with services.db.read() as session:
            target = triage.answer_target(
                session,
                team_id=team_id,
                initiative_id=initiative_id,
                actor_id=user_id,
                settings=services.workspace(session, team_id),
            )
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=triage_views.answer_modal(target))

    @app.view(IntakeCallback.ANSWER.value)
    def answer_triage(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = TriageMeta.load(view.get("private_metadata"))
        with services.db.session() as session:
            card = flows.answer_for_info(
                session,
                team_id=team_id,
                initiative_id=meta.initiative_id,
                actor_id=user_id,
                answer=view_state.text(view, AnswerBlock.ANSWER),
                nonce=meta.nonce,
                settings=services.workspace(session, team_id),
                now=services.clock.now(),
            )
        ack(response_action="update", view=triage_views.decided_modal(messages.answered_text(card)))

    # -- /initiative queue --------------------------------------------------------------------

    def show_queue_again(response_url: str, team_id: str, user_id: str) -> None:
        """After a decision made from a `/initiative queue` reply: that reply shows the queue as it
        is now. The decision stands whatever happens here, so a failure is only logged."""
        if not response_url:
            return
        try:  # a short timeout: Slack waits for this request's answer until we return
            fallback, blocks = queue_reply(services, team_id, user_id)
            sent = WebhookClient(response_url, timeout=2).send(
                text=fallback, blocks=blocks, replace_original=True, response_type="ephemeral"
            )
        except Exception as exc:  # the database, the network: nothing here may undo the decision
            log.warning("the triage queue could not be shown again: %s", exc)
            return
        if sent.status_code != 200:
            log.warning("the triage queue could not be shown again: HTTP %s %s", sent.status_code, sent.body)

"""`/okr`: list and search the OKR registry, add an OKR, archive one whose period is over.

Another module may answer one form of `/okr` (`/okr digest`) with a `matchers=` predicate; it is
registered before this one, and anything this module does not know is a search.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blockkit import state as view_state
from bot.core.errors import InvalidFields
from bot.core.services import Services
from bot.okrs import views as okr_views
from bot.okrs.models import OkrCommandKind
from bot.okrs.service import edits, reading
from bot.okrs.service.command import parse_command
from bot.okrs.service.periods import quarter_of
from bot.okrs.views import OkrBlock, OkrCallback

_TEXT_BLOCKS = (
    OkrBlock.KEY,
    OkrBlock.TITLE,
    OkrBlock.PARENT,
    OkrBlock.PERIOD,
    OkrBlock.URL,
    OkrBlock.METRIC_UNIT,
    OkrBlock.METRIC_START,
    OkrBlock.METRIC_TARGET,
    OkrBlock.METRIC_CURRENT,
)


def read_add_form(view: dict[str, Any]) -> dict[str, str]:
    """The add modal's inputs by file column, as text ("" when empty)."""
    values = {block.column: view_state.text(view, block) or "" for block in _TEXT_BLOCKS}
    values["owner"] = view_state.user(view, OkrBlock.OWNER) or ""
    values["priority"] = view_state.option(view, OkrBlock.PRIORITY) or ""
    values["governance_channel"] = view_state.channel(view, OkrBlock.GOVERNANCE_CHANNEL) or ""
    return values


def answer_okr(services: Services, command: dict[str, Any]) -> tuple[str, list[Block]] | View:
    """The answer to `/okr <text>`: the (text, blocks) to acknowledge with, ephemeral, or for
    `/okr add` the modal to open (acknowledge with nothing first, then open it). Raises NotAllowed
    (add, archive), NotFound, Conflict or InvalidFields (archive) for the error handler."""
    team_id, user_id = command["team_id"], command["user_id"]
    query = parse_command(command.get("text") or "")
    now = services.clock.now()
    if query.kind is OkrCommandKind.HELP:
        return okr_views.usage()
    if query.kind is OkrCommandKind.ADD:
        with services.db.read() as session:
            settings = services.workspace(session, team_id)
            edits.require_may_add(session, team_id, user_id, settings)
        quarter = quarter_of(reading.today_in(settings, now))
        return okr_views.add_modal(quarter=quarter, key=query.arg)
    if query.kind is OkrCommandKind.ARCHIVE:
        with services.db.session() as session:
            settings = services.workspace(session, team_id)
            result = edits.archive(
                session,
                team_id=team_id,
                key=query.arg,
                actor_id=user_id,
                settings=settings,
                now=now,
                today=reading.today_in(settings, now),
            )
        return okr_views.archived(result), []
    with services.db.read() as session:
        groups = reading.search(session, team_id, query.arg)
    return okr_views.listing(groups, query.arg)


def register(app: App, services: Services) -> None:
    @app.view(OkrCallback.ADD.value)
    def add_okr(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        now = services.clock.now()
        try:
            with services.db.session() as session:
                settings = services.workspace(session, team_id)
                okr = edits.add(
                    session,
                    team_id=team_id,
                    actor_id=user_id,
                    settings=settings,
                    now=now,
                    values=read_add_form(view),
                    today=reading.today_in(settings, now),
                )
        except InvalidFields as exc:  # errors by file column -> by the input block showing it
            raise InvalidFields({okr_views.block_of(c): m for c, m in exc.errors.items()}) from None
        ack(response_action="update", view=okr_views.added_modal(okr))

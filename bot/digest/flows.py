"""Posting the digest: build it, render the message and the chart, store it once, enqueue both;
and rendering a preview, which posts nothing."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bot import outbox
from bot.core.config import WorkspaceSettings
from bot.core.workspaces import effective_settings
from bot.digest.models import DigestData, Outcome, PostResult, ReportingPeriod
from bot.digest.service import posting
from bot.digest.service.build import build
from bot.digest.service.periods import next_digest_at, scheduled_period
from bot.digest.views import chart, message
from bot.digest.views.message import RenderedDigest
from storage.db import Database
from storage.models import Workspace

log = logging.getLogger(__name__)


def post_key(team_id: str, period: ReportingPeriod) -> str:
    return f"digest:{team_id}:{period.key}"


def post_scheduled(
    db: Database,
    defaults: WorkspaceSettings,
    team_id: str,
    now: datetime,
    *,
    template_dir: Path | None = None,
) -> PostResult:
    """Post the digest of the latest period ending at or before `now`, once: the digest row
    (unique per workspace and period start) and the outbox keys make a repeat a no-op. Only the
    latest period is posted after downtime, and none for a period that ended before the workspace
    existed. The chart goes into the digest's thread; if it cannot be drawn the digest posts alone."""
    # built in a read-only session: on SQLite a write session would hold up every writer meanwhile
    with db.read() as session:
        workspace = session.scalar(sa.select(Workspace).where(Workspace.team_id == team_id))
        settings = effective_settings(workspace, defaults)
        if not settings.digest_channel:
            return PostResult(team_id, Outcome.NO_CHANNEL)
        period = scheduled_period(settings, now)
        if period is None or (workspace is not None and period.end < workspace.created_at):
            return PostResult(team_id, Outcome.NOT_DUE, period)
        if posting.already_posted(session, team_id, period):
            return PostResult(team_id, Outcome.ALREADY, period, settings.digest_channel)
        data = build(session, team_id, settings, period)

    # rendering happens outside any transaction: SQLite holds its write lock for a session's length
    rendered = message.render(data, template_dir)
    try:
        png: bytes | None = chart.render(data)
    except Exception:
        log.exception("digest %s: the chart could not be drawn; posting the digest without it", period.key)
        png = None

    channel = settings.digest_channel
    with db.session() as session:
        if not posting.record(session, team_id, period, data, now):  # another replica or tick got here first
            return PostResult(team_id, Outcome.ALREADY, period, channel)
        key = post_key(team_id, period)
        outbox.enqueue(
            session,
            team_id=team_id,
            key=key,
            channel=channel,
            text=rendered.text,
            blocks=rendered.blocks,
            now=now,
        )
        if png is not None:
            outbox.enqueue_upload(
                session,
                team_id=team_id,
                key=f"{key}:chart",
                channel=channel,
                filename=f"digest-{period.key}.png",
                title=chart.title(data),
                content=png,
                now=now,
                thread_of=key,
            )
    return PostResult(team_id, Outcome.POSTED, period, channel, chart=png is not None)


def render_preview(
    data: DigestData, settings: WorkspaceSettings, now: datetime, template_dir: Path | None = None
) -> RenderedDigest:
    """A preview's message (`service.build.preview` builds `data`): the digest so far, with a line
    under its header saying it is a preview, and where and when the real one posts."""
    note = message.preview_note(settings, next_digest_at(settings, now))
    return message.render(data, template_dir, note=note)

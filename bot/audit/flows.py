"""An admin's export from Slack (the App Home's *Export data*): every file of `throughline export`
for their workspace, as CSV in one zip, sent to their DM by the outbox like any other message."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot import outbox
from bot.audit.service import export
from bot.core import authz, mrkdwn
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings

MAX_BYTES = 50 * 1024 * 1024  # larger than this, the DM says to use `throughline export` instead
SPOOL = 8 * 1024 * 1024  # a zip this big is built in memory, a larger one in a temporary file


@dataclass(frozen=True)
class BuiltExport:
    """The zip of a workspace's data (None when larger than MAX_BYTES), its size and rows per file."""

    filename: str
    content: bytes | None
    size: int
    rows: dict[str, int]


def export_key(user_id: str, now: datetime) -> str:
    """One export a minute per admin: a double click sends one."""
    return f"export:{user_id}:{now:%Y%m%dT%H%M}"


def require_exporter(user_id: str, settings: WorkspaceSettings) -> None:
    """Raise NotAllowed unless `user_id` may export the workspace's data (an admin)."""
    authz.require(Action.EXPORT_DATA, user_id, settings)


def build_export(
    session: Session, team_id: str, user_id: str, settings: WorkspaceSettings, now: datetime
) -> BuiltExport:
    """Every file of `throughline export` for `team_id`, as CSV in one zip. Reads only (give it a
    reading session: on SQLite it then runs beside the writers). Raises NotAllowed unless
    `user_id` is an admin."""
    require_exporter(user_id, settings)
    filename = f"throughline-export-{now:%Y-%m-%d-%H%M}.zip"
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as target:
        rows = export.to_zip(session, target, "csv", team_id, None)
        size = target.tell()
        if size > MAX_BYTES:
            return BuiltExport(filename, None, size, rows)
        target.seek(0)
        return BuiltExport(filename, target.read(), size, rows)


def send_export(session: Session, team_id: str, user_id: str, built: BuiltExport, now: datetime) -> str:
    """Enqueue `built` as an upload to `user_id`'s DM (or, too large, a DM saying how to get it);
    returns the outbox key."""
    key = export_key(user_id, now)
    if built.content is None:
        outbox.enqueue(
            session,
            team_id=team_id,
            key=key,
            channel=user_id,
            text=mrkdwn.escape(
                f"Your export is {built.size // (1024 * 1024)} MB, too large to send in Slack: run "
                f"`throughline export --team {team_id}` on the server instead."
            ),
            now=now,
        )
        return key
    summary = ", ".join(
        f"{count} {name.rsplit('.', 1)[0].replace('_', ' ')}" for name, count in built.rows.items()
    )
    outbox.enqueue_upload(
        session,
        team_id=team_id,
        key=key,
        channel=user_id,
        filename=built.filename,
        title="Throughline export",
        content=built.content,
        now=now,
        comment=mrkdwn.escape(
            f"Your export: {summary}. One CSV file per kind; the columns are in docs/export-and-audit.md."
        ),
    )
    return key

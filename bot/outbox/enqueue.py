"""Putting a message in the outbox: stored in the caller's transaction under a unique key, so a
retried tick, a crash or two replicas enqueue it once. The deliverer sends it later."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import Outbox, OutboxState

POST, UPDATE, UPLOAD = "post", "update", "upload"
METADATA_EVENT = "throughline_outbox"
NOTICE_PREFIX = "notice:"


def _blocks(blocks: Sequence[Block | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if not blocks:
        return None
    # to_dict() runs slack_sdk's validation: a bad block fails here, in the domain, not at Slack
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


def _add(
    session: Session,
    team_id: str,
    key: str,
    method: str,
    channel: str | None,
    ref_key: str | None,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    inserted = insert_ignore(
        session,
        Outbox,
        {
            "team_id": team_id,
            "key": key[:200],
            "method": method,
            "channel": channel,
            "ref_key": ref_key,
            "payload": payload,
            "state": OutboxState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
        ["team_id", "key"],
    )
    if inserted:
        session.info["outbox_dirty"] = True
    return inserted


def enqueue(
    session: Session,
    *,
    team_id: str,
    key: str,
    channel: str,
    text: str,
    now: datetime,
    blocks: Sequence[Block | dict[str, Any]] | None = None,
    thread_of: str | None = None,
) -> bool:
    """Store a post to `channel` (a channel id, or a user id for a DM). `text` is the notification
    fallback and must already be escaped mrkdwn. With `thread_of`, the post goes in the thread of
    the message sent under that key. Returns False if `key` was enqueued before (nothing changes)."""
    payload = {"text": text, "blocks": _blocks(blocks), "thread": thread_of is not None}
    return _add(session, team_id, key, POST, channel, thread_of, payload, now)


def enqueue_update(
    session: Session,
    *,
    team_id: str,
    key: str,
    of: str,
    text: str,
    now: datetime,
    blocks: Sequence[Block | dict[str, Any]] | None = None,
) -> bool:
    """Store an edit (chat.update) of the message sent under key `of`; sent after it, in order."""
    payload = {"text": text, "blocks": _blocks(blocks)}
    return _add(session, team_id, key, UPDATE, None, of, payload, now)


def enqueue_folded(
    session: Session,
    *,
    team_id: str,
    key: str,
    part_key: str,
    channel: str,
    text: str,
    now: datetime,
    separator: str = "\n\n",
) -> bool:
    """One message under `key` that grows instead of a message each time: the first call posts
    `text`; each later one edits that post in place (no new notification) to its text so far
    plus `text`. `part_key` names this part (`<key>:<part_key>` is the edit's key, so a retried
    call is a no-op). Returns False if this part was enqueued before."""
    if not enqueue(session, team_id=team_id, key=key, channel=channel, text=text, now=now):
        edit_key = f"{key}:{part_key}"
        if session.scalar(sa.select(Outbox.id).where(Outbox.team_id == team_id, Outbox.key == edit_key)):
            return False
        latest = session.scalar(
            sa.select(Outbox.payload)
            .where(Outbox.team_id == team_id, sa.or_(Outbox.key == key, Outbox.ref_key == key))
            .order_by(Outbox.id.desc())
            .limit(1)
        )
        so_far = str((latest or {}).get("text") or "")
        if so_far and text in so_far.split(separator):
            return False  # a retry of a part the post already holds
        return enqueue_update(
            session, team_id=team_id, key=edit_key, of=key, text=f"{so_far}{separator}{text}", now=now
        )
    return True


def enqueue_upload(
    session: Session,
    *,
    team_id: str,
    key: str,
    channel: str,
    filename: str,
    title: str,
    content: bytes,
    now: datetime,
    thread_of: str | None = None,
    comment: str | None = None,
) -> bool:
    """Store a file upload (files upload v2), optionally into the thread of another outbox message."""
    payload = {
        "filename": filename,
        "title": title,
        "content": base64.b64encode(content).decode("ascii"),
        "comment": comment,
    }
    return _add(session, team_id, key, UPLOAD, channel, thread_of, payload, now)

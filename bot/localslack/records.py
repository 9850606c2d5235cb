"""What the local Slack holds: the calls it answered, its people and channels, its messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.localslack.blockkit import visible_text

TEAM_ID = "T0FAKE"  # the local Slack's first workspace


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float
    token: str | None = None  # the token it was made with

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class User:
    id: str
    name: str
    tz: str | None = "UTC"
    email: str | None = None
    deleted: bool = False
    is_admin: bool = False
    team: str = TEAM_ID


@dataclass
class Channel:
    id: str
    name: str
    archived: bool = False
    member: bool = True
    team: str = TEAM_ID


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    drop: bool = False
    after_store: bool = False  # the call is carried out (a post is stored) before the fault answers
    sleep: float = 0.0  # seconds to wait before answering (past the client's timeout: a read timeout)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions (chat.update)
    files: list[dict[str, Any]] = field(default_factory=list)  # a file share: the files it shows
    user: str | None = None  # a person's message (None: the bot's)

    @property
    def visible(self) -> str:
        return visible_text({"text": self.text, "blocks": self.blocks})

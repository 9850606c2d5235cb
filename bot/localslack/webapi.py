"""The Web API methods Throughline calls, answered as Slack answers them
(https://api.slack.com/methods): ids, `ts`, errors, trigger ids that expire, files upload v2."""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from bot.localslack.blockkit import MESSAGE_BLOCK_LIMIT, BlockKitError, validate_blocks, validate_view
from bot.localslack.records import Message, User

BOT_USER = "U0BOT"
TRIGGER_TTL = 3.0


class WebApi(ABC):
    """The methods, over the state `LocalSlack` keeps (users, channels, messages, views, files)."""

    team_id: str
    users: dict[str, User]
    channels: dict[str, Any]
    messages: dict[str, list[Message]]
    ephemerals: list[dict[str, Any]]
    views: dict[str, dict[str, Any]]
    home: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]]
    socket_url: str | None
    _ts: itertools.count[int]
    _ids: itertools.count[int]
    _triggers: dict[str, float]
    _trigger_users: dict[str, str]
    modals: dict[str, list[str]]
    clock: Callable[[], float]

    @property
    @abstractmethod
    def base(self) -> str:
        """Where this Slack listens (`http://127.0.0.1:PORT`)."""

    def _conversation(self, channel: str) -> str:
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _next_ts(self) -> str:
        return f"{int(self.clock())}.{next(self._ts):06d}"

    def _target(self, channel: str) -> tuple[str | None, str | None]:
        """(conversation id, error) for posting to `channel`."""
        if channel[:1] in ("U", "W"):
            user = self.users.get(channel)
            if user is None:
                return None, "channel_not_found"
            if user.deleted:
                return None, "account_inactive"
            return self._conversation(channel), None
        if channel[:1] == "D":
            return channel, None
        found = self.channels.get(channel)
        if found is None:
            return None, "channel_not_found"
        if found.archived:
            return None, "is_archived"
        if not found.member:
            return None, "not_in_channel"
        return channel, None

    def _check_text(self, args: dict[str, Any]) -> None:
        if not args.get("text") and not args.get("blocks"):
            raise KeyError("text")
        if len(args.get("text") or "") > 40000:
            raise BlockKitError("msg_too_long")
        validate_blocks(args.get("blocks"), MESSAGE_BLOCK_LIMIT)

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation, error = self._target(args["channel"])
        if error:
            return {"ok": False, "error": error}
        self._check_text(args)
        assert conversation is not None
        message = Message(
            conversation,
            self._next_ts(),
            args.get("text") or "",
            args.get("blocks"),
            args.get("metadata"),
            args.get("thread_ts"),
        )
        self.messages[conversation].append(message)
        return {
            "ok": True,
            "channel": conversation,
            "ts": message.ts,
            "message": {"text": message.text, "blocks": message.blocks, "ts": message.ts},
        }

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation, ts = args["channel"], args["ts"]
        for message in self.messages.get(conversation, []):
            if message.ts == ts:
                self._check_text(args)
                message.history.append({"text": message.text, "blocks": message.blocks})
                message.text = args.get("text") or ""
                message.blocks = args.get("blocks")
                return {"ok": True, "channel": conversation, "ts": ts, "text": message.text}
        return {"ok": False, "error": "message_not_found"}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        _, error = self._target(args["channel"])
        if error:
            return {"ok": False, "error": error}
        if args.get("user") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        self._check_text(args)
        ts = self._next_ts()
        self.ephemerals.append({**args, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args["channel"], args["message_ts"]
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = args["users"]
        user = users[0] if isinstance(users, list) else str(users).split(",")[0]
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self._conversation(user)}}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        conversation = args["channel"]
        if (
            conversation not in self.messages
            and conversation not in self.channels
            and conversation[:1] != "D"
        ):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        include = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for message in reversed(self.messages.get(conversation, [])):
            if float(message.ts.split(".")[0]) + 1 < oldest:
                continue
            # Slack: "thread replies are not included" in conversations.history, only the parents
            # (https://api.slack.com/methods/conversations.history); conversations.replies has them
            if message.thread_ts and message.thread_ts != message.ts:
                continue
            item: dict[str, Any] = {
                "type": "message",
                "ts": message.ts,
                "text": message.text,
                "user": BOT_USER,
            }
            if include and message.metadata:
                item["metadata"] = message.metadata
            found.append(item)
        found += self._file_shares(conversation, None, oldest)
        return {"ok": True, "messages": found, "has_more": False}

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent, the replies, and the files shared into it."""
        conversation, parent_ts = args["channel"], str(args["ts"])
        thread = [m for m in self.messages.get(conversation, []) if parent_ts in (m.ts, m.thread_ts)]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(args.get("oldest") or 0)
        include = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found: list[dict[str, Any]] = []
        for m in thread:
            if m.ts != parent_ts and float(m.ts.split(".")[0]) + 1 < oldest:
                continue
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "user": BOT_USER}
            if m.thread_ts:
                item["thread_ts"] = m.thread_ts
            if include and m.metadata:
                item["metadata"] = m.metadata
            found.append(item)
        found += self._file_shares(conversation, parent_ts, oldest)
        return {"ok": True, "messages": found, "has_more": False}

    def _file_shares(self, conversation: str, thread_ts: str | None, oldest: float) -> list[dict[str, Any]]:
        return [
            {
                "type": "message",
                "subtype": "file_share",
                "ts": f["share_ts"],
                "user": BOT_USER,
                "files": [{"id": f["id"], "name": f["filename"], "title": f["title"]}],
            }
            for f in self.files.values()
            if f["completed"]
            and f["channel"] == conversation
            and f["thread_ts"] == thread_ts
            and float(f["share_ts"].split(".")[0]) + 1 >= oldest
        ]

    def _take_trigger(self, trigger_id: str | None) -> str | None:
        issued = self._triggers.pop(trigger_id or "", None)
        if issued is None:
            return "invalid_trigger_id"
        if time.monotonic() - issued > TRIGGER_TTL:
            return "expired_trigger_id"
        return None

    def _stack(self, trigger_id: str | None, view_id: str, *, push: bool) -> None:
        """The modal stack of whoever the trigger was issued to: views.open starts one, views.push
        adds to it (Slack keeps at most 3 views in a stack)."""
        user = self._trigger_users.pop(trigger_id or "", None)
        if user is None:
            return
        stack = self.modals.setdefault(user, [])
        if not push:
            stack.clear()
        stack.append(view_id)

    def _store_view(self, view: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        validate_view(view)
        view_id = previous["id"] if previous else f"V{next(self._ids):08d}"
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "state": {"values": {}},
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": None,
            "app_id": "A0FAKE",
            "bot_id": "B0BOT",
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
        }
        self.views[view_id] = stored
        return stored

    def api_views_open(self, args: dict[str, Any], *, push: bool = False) -> dict[str, Any]:
        trigger = args.get("trigger_id")
        user = self._trigger_users.get(trigger or "")
        if push and user is not None and len(self.modals.get(user, [])) >= 3:
            return {"ok": False, "error": "push_limit_reached"}
        error = self._take_trigger(trigger)
        if error:
            return {"ok": False, "error": error}
        stored = self._store_view(args["view"])
        self._stack(trigger, stored["id"], push=push)
        return {"ok": True, "view": stored}

    def api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.api_views_open(args, push=True)

    def api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        previous = None
        if args.get("view_id"):
            previous = self.views.get(args["view_id"])
        elif args.get("external_id"):
            previous = next(
                (v for v in self.views.values() if v.get("external_id") == args["external_id"]), None
            )
        if previous is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != previous["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(args["view"], previous)}

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args["user_id"]
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = args["view"]
        if view.get("type") != "home":
            raise BlockKitError("views.publish takes a home view")
        stored = self._store_view(view, self.home.get(user_id))
        self.home[user_id] = stored
        return {"ok": True, "view": stored}

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "team_id": user.team,
            "name": user.name,
            "real_name": user.name.title(),
            "deleted": user.deleted,
            "is_admin": user.is_admin,
            "is_bot": False,
            "tz": user.tz,
            "profile": {"email": user.email, "real_name": user.name.title(), "display_name": user.name},
        }

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args["user"])
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_json(user)}

    def api_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args["email"]).lower()
        for user in self.users.values():
            if (user.email or "").lower() == email:
                return {"ok": True, "user": self._user_json(user)}
        return {"ok": False, "error": "users_not_found"}

    def api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {
            "id": file_id,
            "filename": args["filename"],
            "length": int(args["length"]),
            "content": None,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"]
        done = []
        for item in files:
            record = self.files.get(item["id"])
            if record is None or record["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            if args.get("channel_id"):
                _, error = self._target(args["channel_id"])
                if error:
                    return {"ok": False, "error": error}
            record.update(
                completed=True,
                title=item.get("title"),
                channel=args.get("channel_id"),
                thread_ts=args.get("thread_ts"),
                comment=args.get("initial_comment"),
                share_ts=self._next_ts(),  # Slack shares the file as a message of its own
            )
            done.append({"id": record["id"], "title": item.get("title"), "name": record["filename"]})
        return {"ok": True, "files": done}

    def api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_url}

"""The playground's web page: a WSGI app that shows the local Slack as a person sees it and turns
what they do on the page into what Slack would send the app (bot.playground.session)."""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.localslack.records import Message
from bot.playground.render import Directory, render_message, render_view
from bot.playground.session import MESSAGE_SHORTCUTS, SHORTCUTS, Playground, PlaygroundError

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MAX_BODY = 256 * 1024  # what a person can type into a form on this page, and then some


class PlaygroundWeb:
    def __init__(self, playground: Playground, *, workspace: str = "Demo Co") -> None:
        self.playground = playground
        self.workspace = workspace
        self.templates = Environment(
            loader=FileSystemLoader(str(HERE / "templates")),
            autoescape=select_autoescape(["html", "j2"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # -- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD") or "GET"
        try:
            if method == "GET" and path == "/":
                return self._html(start_response, self.page())
            if method == "GET" and path.startswith("/static/"):
                return self._static(start_response, path.removeprefix("/static/"))
            if method == "GET" and path.startswith("/files/"):
                return self._file(start_response, path.removeprefix("/files/"))
            if method == "GET" and path == "/api/state":
                query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING") or "").items()}
                return self._json(start_response, self.state(query))
            if method == "POST" and path.startswith("/api/"):
                if not _same_origin(environ):
                    return self._plain(start_response, "403 Forbidden", "only this page may act here")
                body = self._body(environ)
                with self.playground.lock:
                    result = self.act(path.removeprefix("/api/"), body)
                return self._json(start_response, {"ok": True, **(result or {})})
        except PlaygroundError as exc:
            return self._json(start_response, {"ok": False, "error": str(exc)})
        except Exception as exc:  # the page shows one line; the terminal has the rest
            log.exception("playground: %s %s failed", method, path)
            return self._json(start_response, {"ok": False, "error": f"something went wrong: {exc}"})
        return self._plain(start_response, "404 Not Found", "not found")

    def _body(self, environ: dict[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            raise PlaygroundError("that is more than a form can hold")
        raw = environ["wsgi.input"].read(length) if length else b""
        data = json.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise PlaygroundError("the page sent something odd; reload it")
        return data

    def _json(self, start_response: Any, data: dict[str, Any]) -> Iterable[bytes]:
        body = json.dumps(data, default=str).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    def _html(self, start_response: Any, text: str) -> Iterable[bytes]:
        body = text.encode()
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _plain(self, start_response: Any, status: str, text: str) -> Iterable[bytes]:
        body = text.encode()
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    def _static(self, start_response: Any, name: str) -> Iterable[bytes]:
        path = (STATIC / name).resolve()
        if STATIC not in path.parents or not path.is_file():
            return self._plain(start_response, "404 Not Found", "not found")
        data = path.read_bytes()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data)))])
        return [data]

    def _file(self, start_response: Any, file_id: str) -> Iterable[bytes]:
        record = self.playground.slack.files.get(file_id)
        if record is None or not record.get("content") or not record.get("completed"):
            return self._plain(start_response, "404 Not Found", "not found")
        data = record["content"]
        kind = mimetypes.guess_type(record["filename"])[0] or "application/octet-stream"
        headers = [
            ("Content-Type", kind),
            ("Content-Length", str(len(data))),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if not kind.startswith("image/"):
            headers.append(("Content-Disposition", "attachment"))
        start_response("200 OK", headers)
        return [data]

    # -- the page --------------------------------------------------------------------------------

    def page(self) -> str:
        people = self.playground.people
        return self.templates.get_template("page.html.j2").render(
            workspace=self.workspace,
            people=people,
            shortcuts=SHORTCUTS,
            message_shortcuts=MESSAGE_SHORTCUTS,
        )

    def directory(self) -> Directory:
        slack = self.playground.slack
        return Directory(
            users={u.id: u.name for u in slack.users.values()},
            channels={c.id: c.name for c in slack.channels.values()},
        )

    def state(self, query: dict[str, str]) -> dict[str, Any]:
        """Everything the page shows for `user` looking at `conv` (and maybe a `thread`)."""
        playground = self.playground
        user = query.get("user") or playground.people[0].user_id
        person = playground.person(user)
        tz = ZoneInfo(person.tz)
        conv = query.get("conv") or "home"
        directory = self.directory()
        now = playground.now().astimezone(tz)
        with playground.slack._lock:
            sidebar = self._sidebar(user, conv)
            if conv == "home":
                home = playground.slack.home.get(user)
                main = (
                    render_view(home, directory)
                    if home
                    else Markup('<p class="pg-empty">Opening the App Home…</p>')
                )
                view_id = home["id"] if home else ""
                main = (
                    Markup('<div class="pg-home" data-view-id="{}">').format(view_id)
                    + main
                    + Markup("</div>")
                )
                title = "Throughline"
            else:
                main = self._timeline(conv, user, directory, tz, query.get("thread"))
                title = self._title(conv)
            thread = self._thread(conv, query.get("thread"), directory, tz) if query.get("thread") else None
            modal = playground.top_view(user)
            modal_html = None
            if modal is not None:
                errors = playground.errors.get(modal["id"])
                depth = len(playground.slack.modals.get(user) or [])
                modal_html = str(
                    Markup('<div class="pg-modal" data-view-id="{}" data-depth="{}">').format(
                        modal["id"], depth
                    )
                    + render_view(modal, directory, errors=errors)
                    + Markup("</div>")
                )
        return {
            "user": user,
            "conv": conv,
            "title": title,
            "clock": now.strftime("%a %d %b %Y, %H:%M"),
            "zone": person.tz,
            "sidebar": str(sidebar),
            "main": str(main),
            "thread": None if thread is None else str(thread),
            "modal": modal_html,
            "modal_id": modal["id"] if modal else None,
            "notice": playground.notices.pop(user, None),
        }

    def _title(self, conv: str) -> str:
        channel = self.playground.slack.channels.get(conv)
        if channel is not None:
            return f"#{channel.name}"
        return "Throughline"

    def _sidebar(self, user: str, conv: str) -> Markup:
        slack = self.playground.slack
        dm = "D" + user[1:]
        unread_dm = len(slack.messages.get(dm, []))
        return Markup(  # noqa: S704 (an autoescaped template's output)
            self.templates.get_template("sidebar.html.j2").render(
                channels=sorted(slack.channels.values(), key=lambda c: c.name),
                conv=conv,
                workspace=self.workspace,
                dm=dm,
                dm_count=unread_dm,
            )
        )

    def _messages(self, conversation: str) -> list[Message]:
        slack = self.playground.slack
        found = list(slack.messages.get(conversation, []))
        for record in slack.files.values():
            if record.get("completed") and record.get("channel") == conversation:
                found.append(
                    Message(
                        conversation,
                        record["share_ts"],
                        record.get("comment") or "",
                        None,
                        None,
                        record.get("thread_ts"),
                        files=[
                            {"id": record["id"], "name": record["filename"], "title": record.get("title")}
                        ],
                    )
                )
        return sorted(found, key=lambda m: _ts(m.ts))

    def _as_dict(self, message: Message) -> dict[str, Any]:
        return {
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
            "edited": bool(message.history),
            "user": message.user,
            "files": [
                {"name": f["name"], "title": f.get("title") or f["name"], "url": f"/files/{f['id']}"}
                for f in message.files
            ],
        }

    def _timeline(
        self, conv: str, user: str, directory: Directory, tz: ZoneInfo, thread: str | None
    ) -> Markup:
        slack = self.playground.slack
        conversation = "D" + user[1:] if conv == "dm" else conv
        messages = self._messages(conversation)
        replies: dict[str, int] = {}
        for m in messages:
            if m.thread_ts and m.thread_ts != m.ts:
                replies[m.thread_ts] = replies.get(m.thread_ts, 0) + 1
        items: list[tuple[float, Markup]] = []
        for m in messages:
            if m.thread_ts and m.thread_ts != m.ts:
                continue
            count = replies.get(m.ts, 0)
            html = render_message(self._as_dict(m), directory, tz=tz)
            if count:
                word = "reply" if count == 1 else "replies"
                html += Markup('<a href="#" class="pg-replies" data-thread="{}">{} {}</a>').format(
                    m.ts, count, word
                )
            items.append((_ts(m.ts), _wrap(m.ts, conversation, html)))
        for e in slack.ephemerals:
            if e.get("user") != user or _conversation(str(e.get("channel"))) != conversation:
                continue
            html = render_message(
                {"ts": e["message_ts"], "text": e.get("text") or "", "blocks": e.get("blocks")},
                directory,
                tz=tz,
            )
            shown = Markup('<div class="pg-only-you">Only visible to you</div>') + html
            items.append((_ts(e["message_ts"]), _wrap(e["message_ts"], conversation, shown, ephemeral=True)))
        items.sort(key=lambda item: item[0])
        if not items:
            return Markup('<p class="pg-empty">Nothing here yet.</p>')
        return Markup("").join(html for _, html in items)

    def _thread(self, conv: str, thread_ts: str | None, directory: Directory, tz: ZoneInfo) -> Markup | None:
        messages = [m for m in self._messages(conv) if thread_ts in (m.ts, m.thread_ts)]
        if not messages:
            return None
        return Markup("").join(
            _wrap(m.ts, conv, render_message(self._as_dict(m), directory, tz=tz)) for m in messages
        )

    # -- what the person does --------------------------------------------------------------------

    def act(self, verb: str, body: dict[str, Any]) -> dict[str, Any] | None:
        playground = self.playground
        user = str(body.get("user") or "")
        playground.person(user)
        if verb == "command":
            playground.command(user, str(body.get("conv") or ""), str(body.get("text") or ""))
        elif verb == "click":
            playground.click(
                user,
                action=dict(body.get("action") or {}),
                conversation=body.get("conv"),
                message_ts=body.get("message_ts"),
                ephemeral_ts=body.get("ephemeral_ts"),
                view_id=body.get("view_id"),
                state=body.get("form") or {},
            )
        elif verb == "submit":
            playground.submit(user, str(body.get("view_id") or ""), dict(body.get("form") or {}))
        elif verb == "close":
            playground.close(user, str(body.get("view_id") or ""))
        elif verb == "suggest":
            options = playground.suggest(
                user,
                str(body.get("view_id") or ""),
                str(body.get("block_id") or ""),
                str(body.get("action_id") or ""),
                str(body.get("query") or ""),
            )
            return {"options": options}
        elif verb == "shortcut":
            playground.global_shortcut(user, str(body.get("callback_id") or ""))
        elif verb == "message_shortcut":
            playground.message_shortcut(
                user,
                str(body.get("conv") or ""),
                str(body.get("message_ts") or ""),
                str(body.get("callback_id") or ""),
            )
        elif verb == "home":
            playground.open_home(user)
        elif verb == "advance":
            at: datetime = playground.advance(str(body.get("step") or ""))
            return {"now": at.isoformat()}
        else:
            raise PlaygroundError(f"no such thing to do: {verb}")
        return None


def _ts(ts: str) -> float:
    try:
        seconds, _, sequence = ts.partition(".")
        return int(seconds) + int(sequence or 0) / 1e6
    except ValueError:
        return 0.0


def _conversation(channel: str) -> str:
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def _wrap(ts: str, conversation: str, html: Markup, *, ephemeral: bool = False) -> Markup:
    """A message as the page lays it out: where it is (for the buttons in it), and its menu."""
    if ephemeral:
        start = Markup('<div class="pg-message pg-ephemeral" data-ephemeral-ts="{}" data-conv="{}">')
        return start.format(ts, conversation) + html + Markup("</div>")
    start = Markup(
        '<div class="pg-message" data-ts="{}" data-conv="{}">'
        '<button type="button" class="pg-more" data-more title="More actions">⋯</button>'
    )
    return start.format(ts, conversation) + html + Markup("</div>")


def _same_origin(environ: dict[str, Any]) -> bool:
    """A change comes from this page only: JSON (a form or text/plain post from another site
    cannot send it without a preflight), and no foreign Origin (a page elsewhere in the browser)."""
    if not (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
        return False
    origin = environ.get("HTTP_ORIGIN")
    host = environ.get("HTTP_HOST") or ""
    return origin is None or origin in (f"http://{host}", f"https://{host}")

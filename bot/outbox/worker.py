"""Delivery in the background: a thread that drains the outbox when a commit enqueued something,
and every few seconds for retries that came due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.outbox.deliverer import Deliverer
from storage.db import Database

log = logging.getLogger(__name__)


def watch_commits(db: Database, kick: Callable[[], None]) -> None:
    """Call `kick` after any commit that enqueued a message, so delivery starts at once."""

    @event.listens_for(db._sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop("outbox_dirty", False):
            kick()

    @event.listens_for(db._sessions, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop("outbox_dirty", None)


class DeliveryWorker:
    """A background thread that drains the outbox when kicked (after a commit that enqueued) and
    every `poll` seconds (retries that came due). A failure (database down) is logged, not fatal."""

    def __init__(self, deliverer: Deliverer, poll: float = 5.0) -> None:
        self.deliverer = deliverer
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="throughline-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.deliverer.drain()
            except Exception:
                log.exception("delivery pass failed; will try again")

"""The session scopes: writers take turns, readers read beside them and cannot write."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from bot.core import workspaces
from storage.db import Database
from storage.models import Workspace
from tests.conftest import ON_POSTGRES, START


def test_what_a_read_session_loaded_stays_readable_after_it(db: Database) -> None:
    with db.session() as s:
        workspaces.ensure_workspace(s, "T0FAKE", START)
    with db.read() as s:
        found = s.scalars(sa.select(Workspace)).one()
    assert found.team_id == "T0FAKE" and found.settings == {}


def test_a_read_session_refuses_to_write_and_leaves_the_connection_writable(db: Database) -> None:
    refused = "read-only transaction" if ON_POSTGRES else "readonly database"
    with pytest.raises(sa.exc.DBAPIError, match=refused), db.read() as s:
        workspaces.ensure_workspace(s, "T0FAKE", START)
    for _ in range(3):  # whichever pooled connection comes next can write
        with db.session() as s:
            workspaces.ensure_workspace(s, "T0FAKE", START)
    with db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Workspace)) == 1


def test_readers_do_not_wait_for_a_writer(db: Database) -> None:
    writing = threading.Event()
    done = threading.Event()

    def slow_writer() -> None:
        with db.session() as s:
            workspaces.ensure_workspace(s, "T0SLOW", START)
            writing.set()
            done.wait(5)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert writing.wait(5)
    started = time.monotonic()
    with db.read() as s:  # the writer holds its transaction open
        count = s.scalar(sa.select(sa.func.count()).select_from(Workspace))
    elapsed = time.monotonic() - started
    done.set()
    writer.join()
    assert count == 0  # the writer's row is not committed yet
    assert elapsed < 1

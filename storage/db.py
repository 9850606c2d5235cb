"""Engine, session scope, and the few statements that must differ between SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

import storage.integrations  # noqa: F401  (its tables on Base.metadata: every database has them)
from storage.models import Base
from storage.types import UTCDateTime


def create_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine tuned for the backend: SQLite in WAL mode with write-ahead `BEGIN IMMEDIATE`
    transactions (so concurrent writers queue instead of failing with "database is locked"), or
    PostgreSQL through psycopg 3 with a short connect timeout (so "database down" is fast to tell)
    and without JIT compilation."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=False,
        )
        _tune_sqlite(engine)
        return engine
    engine = sa.create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        # JIT off: every query here is short, and PostgreSQL would JIT-compile one whose estimated
        # cost passes `jit_above_cost` (the digest's per-objective lookups do), paying 0.2-5 s of
        # compilation to save microseconds of execution
        connect_args={"connect_timeout": 3, "options": "-c jit=off"},
    )

    @event.listens_for(engine, "begin")
    def _read_only(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


READ_ONLY = "throughline_read_only"


def _tune_sqlite(engine: Engine) -> None:
    # SQLite has one writer at a time. Threads of this process queue on this lock for their turn
    # instead of on SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and turned
    # 8 concurrent requests into a 600 ms tail; the busy handler still arbitrates other processes.
    turn = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy, not the driver, decide when transactions begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite's own lower() folds ASCII only; PostgreSQL's folds every letter. Searches compare
        # lower(title) with lower(words), so give SQLite the same Unicode-aware lower().
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # a reader: WAL lets it run beside the writer, on a snapshot; query_only makes a
            # write by mistake fail loudly instead of racing for the lock
            connection.exec_driver_sql("PRAGMA query_only=ON")
            connection.info["query_only"] = True
            connection.exec_driver_sql("BEGIN")
            return
        turn.acquire()
        connection.info["holds_turn"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: sa.Connection) -> None:
        if connection.info.pop("query_only", False):
            connection.exec_driver_sql("PRAGMA query_only=OFF")
        if connection.info.pop("holds_turn", False):
            turn.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class Database:
    """One engine and its sessions. `with db.session() as s:` commits on success, rolls back on error,
    and always closes: the one place a session is opened and closed."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        reader = self.engine.execution_options(**{READ_ONLY: True})
        self._readers = sessionmaker(reader, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that only reads (answers to commands, the Home tab, options). On SQLite it runs
        beside writers instead of waiting its turn, and refuses to write."""
        with self._readers() as session:
            try:
                yield session
            finally:
                session.expunge_all()  # what was read stays readable after the block
                session.rollback()

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def create_all(self) -> None:
        """Create the schema directly (tests that don't exercise migrations)."""
        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignore(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    conflict: Sequence[str],
    *,
    where: sa.ColumnElement[bool] | None = None,
) -> bool:
    """INSERT that does nothing if a row with the same `conflict` columns exists.

    Returns True if this call inserted the row. `where` names the predicate of a partial unique index.
    """
    insert: Any
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
        .returning(sa.literal(1))
    )
    # RETURNING, not rowcount: psycopg reports -1 for a skipped ON CONFLICT row
    return session.execute(statement).first() is not None


_Select = TypeVar("_Select", bound="sa.Select[*tuple[Any, ...]]")


def skip_locked(statement: _Select, session: Session, *, of: Any = None) -> _Select:
    """`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas claim different rows; on SQLite the
    single writer lock (BEGIN IMMEDIATE) already serialises claims."""
    if session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True, of=of)
    return statement


# What a database that cannot be reached raises: the connection failed or dropped, or the pool
# waited in vain for a free connection.
UNREACHABLE: tuple[type[Exception], ...] = (sa.exc.OperationalError, sa.exc.TimeoutError)


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached right now (worth a retry later)."""
    return isinstance(error, UNREACHABLE) or (
        isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    )


def json_object(mapping: Mapping[Any, Any]) -> str:
    """`mapping` as the JSON document `json_object_rows` reads (keys and values as text)."""
    return json.dumps({str(k): str(v) for k, v in mapping.items()})


def json_object_rows(dialect: str, document: sa.ColumnElement[str], name: str) -> sa.CTE:
    """The pairs of the JSON object `document` (a `json_object`, usually a bound parameter) as rows
    (`key`, `value`, both text) of a materialized CTE named `name`: a query can then join data
    that lives in Python (a tree, a map) sent as one parameter however many items it has.
    Materialized, so the document is parsed once, not re-read for every row it is joined with."""
    if dialect == "postgresql":
        rows = sa.func.json_each_text(sa.cast(document, sa.JSON)).table_valued("key", "value")
    else:
        rows = sa.func.json_each(document).table_valued("key", "value")
    return (
        sa.select(
            sa.type_coerce(rows.c.key, sa.String).label("key"),
            sa.type_coerce(rows.c.value, sa.String).label("value"),
        )
        .cte(name)
        .prefix_with("MATERIALIZED")
    )


def id_list(dialect: str, ids: Sequence[int]) -> str:
    """`ids` as one text value that `in_id_list` reads back: a JSON array on SQLite, an array
    literal on PostgreSQL (which then probes an index with `= ANY`)."""
    items = ",".join(str(int(i)) for i in ids)
    return f"{{{items}}}" if dialect == "postgresql" else f"[{items}]"


def in_id_list(dialect: str, column: Any, ids: sa.ColumnElement[Any], *, correlate: Any) -> Any:
    """`column` is one of the ids in `ids`, an `id_list` text column of `correlate` (the enclosing
    query's FROM, however deep this condition sits)."""
    if dialect == "postgresql":
        return column == sa.any_(sa.cast(ids, postgresql.ARRAY(sa.Integer)))
    values = sa.func.json_each(ids).table_valued("value")
    return column.in_(sa.select(sa.cast(values.c.value, sa.Integer)).correlate(correlate))


def database_now(dialect: str, after: timedelta = timedelta(0)) -> sa.ColumnElement[datetime]:
    """The database's clock (plus `after`), as an SQL expression: what leases are reckoned by, so
    replicas whose clocks disagree still agree on whose a claim is. PostgreSQL's `now()` (the
    transaction's start); SQLite's 'now' in UTC, written as UTCDateTime stores it (text that
    compares in time order)."""
    if dialect == "sqlite":
        moment: sa.ColumnElement[Any] = sa.func.strftime(
            "%Y-%m-%d %H:%M:%f000", "now", f"{after.total_seconds():+.3f} seconds"
        )
    else:
        moment = sa.func.now() + sa.literal(after, sa.Interval())
    return sa.type_coerce(moment, UTCDateTime())

"""The database's one owner (`Database`): the engine, sessions for reads and for writes, the schema.

The request path is asynchronous from end to end: Starlette and Strawberry run on one event loop,
so the database is reached through SQLAlchemy's asyncio engine (psycopg 3 for PostgreSQL,
aiosqlite for the embedded SQLite file) and a slow query never blocks other requests. Commands
that run outside a server (`cms seed`) drive the same async code with `asyncio.run`, so there is
one code path for reads and writes, not two.

One exception, for speed: on SQLite, the API's *reads* run inline on the event loop through a
plain sqlite3 connection (`InlineSession`). SQLite lives in the process and a read of a few rows
takes ~10 µs, while aiosqlite hands every statement to a thread and back (~300 µs, measured
with bench/). WAL readers never wait for a lock, so an inline read cannot stall the loop.
A server's writes keep the async engine: they may wait for SQLite's single write lock. Commands
that serve nobody else (`cms seed`) may write inline too (`write_session(inline=True)`).
Both kinds of session meet one typed API, `ReadSession` and `WriteSession`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, TypeVarTuple, cast, overload

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, ScalarResult, TupleResult, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from cms import models as models  # registers every table on SQLModel.metadata
from cms.direct_reads import DirectReads
from cms.settings import Settings
from cms.slow_queries import log_slow_queries

__all__ = [
    "AsyncSession",
    "check_sqlite_folder",
    "Database",
    "InlineSession",
    "ReadSession",
    "Reader",
    "RequestDatabase",
    "WriteSession",
    "as_async_session",
    "as_database",
    "create_engine",
    "create_schema",
    "database_unavailable",
    "dispose_engine",
    "normalise_url",
    "session_rows",
    "session_scope",
]

SQLITE_BEGIN_OPTION = "cms_sqlite_begin"
# Each engine's direct read pool (`Database.direct`), closed with the engine (`dispose_engine`).
_DIRECT_READS: weakref.WeakKeyDictionary[AsyncEngine, DirectReads] = weakref.WeakKeyDictionary()
_STATEMENT_TIMEOUT = "cms_statement_timeout_ms"
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
P = ParamSpec("P")
R = TypeVar("R")
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
# Runs a read statement with its parameters and returns its rows (`RequestDatabase.rows`,
# `session_rows`).
Reader = Callable[[Any, Mapping[str, Any]], Awaitable[list[Any]]]


class ReadSession(Protocol):
    """What a read may do, whether the session is an `AsyncSession` or an `InlineSession`."""

    @overload
    async def exec(
        self, statement: Select[*Ts], *, params: Params = None
    ) -> TupleResult[tuple[*Ts]]: ...
    @overload
    async def exec(
        self, statement: SelectOfScalar[T], *, params: Params = None
    ) -> ScalarResult[T]: ...
    async def get(self, entity: type[T], ident: Any) -> T | None: ...
    def get_bind(self) -> sa.Engine | sa.Connection: ...


class WriteSession(ReadSession, Protocol):
    """What a write may do, inside the transaction of `Database.write_session`."""

    @overload
    async def exec(
        self, statement: Select[*Ts], *, params: Params = None
    ) -> TupleResult[tuple[*Ts]]: ...
    @overload
    async def exec(
        self, statement: SelectOfScalar[T], *, params: Params = None
    ) -> ScalarResult[T]: ...
    @overload
    async def exec(
        self, statement: UpdateBase, *, params: Params = None
    ) -> CursorResult[*tuple[Any, ...]]: ...
    async def get(
        self, entity: type[T], ident: Any, *, with_for_update: bool = False
    ) -> T | None: ...
    async def get_one(self, entity: type[T], ident: Any) -> T: ...
    @property
    def info(self) -> dict[Any, Any]: ...
    def add(self, instance: object) -> None: ...
    async def delete(self, instance: object) -> None: ...
    async def flush(self) -> None: ...


class InlineSession:
    """A synchronous session behind the async API of `WriteSession`: the same async functions
    run on it, without a thread hop per statement (SQLite only; see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def info(self) -> dict[Any, Any]:
        return self._session.info

    async def exec(self, statement: Any, *, params: Params = None) -> Any:
        return self._session.exec(statement, params=params)

    def get_bind(self) -> sa.Engine | sa.Connection:
        return self._session.get_bind()

    async def get(self, entity: type[T], ident: Any, *, with_for_update: bool = False) -> T | None:
        return self._session.get(entity, ident, with_for_update=with_for_update)

    async def get_one(self, entity: type[T], ident: Any) -> T:
        return self._session.get_one(entity, ident)

    def add(self, instance: object) -> None:
        self._session.add(instance)

    async def delete(self, instance: object) -> None:
        self._session.delete(instance)

    async def flush(self) -> None:
        self._session.flush()

    async def close(self) -> None:
        self._session.close()


def _sessions_meet_the_protocols(session: AsyncSession, inline: InlineSession) -> None:
    # Checked by mypy, never called: both kinds of session serve reads and writes alike.
    sessions: list[WriteSession] = [session, inline]
    del sessions


def as_database(database: Database | AsyncEngine, *, slow_query_ms: float = 0) -> Database:
    """For the merge only: callers that still pass an engine (tests, `cms.cli`) get a
    `Database` around it. Remove once they pass a `Database`."""
    if isinstance(database, Database):
        return database
    return Database(database, slow_query_ms=slow_query_ms)


def as_async_session(session: ReadSession) -> AsyncSession:
    """For the merge only: hands a session to the functions of `cms.content`, `cms.reads` and
    `cms.search_index` whose parameters still say `AsyncSession`. Remove once they take
    `ReadSession` / `WriteSession`."""
    return cast(AsyncSession, session)


def normalise_url(url: str) -> URL:
    """Accept the plain URLs people write (`sqlite:///cms.db`, `postgresql://...`) and pick the
    async driver for them; an unsupported database fails here with a message naming the setting."""
    parsed = make_url(url)
    if parsed.drivername == "postgres":  # Heroku's and libpq's spelling
        parsed = parsed.set(drivername="postgresql")
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(
            f"CMS_DATABASE_URL: unsupported database {backend!r}; use sqlite:/// or postgresql://"
        )
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def check_sqlite_folder(settings: Settings) -> None:
    """For commands: refuse an SQLite file whose folder is missing before aiosqlite starts a
    thread that would outlive the failure. (A server keeps running and answers 503.)"""
    url = normalise_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database or ".").parent.is_dir():
            raise sqlite3.OperationalError("unable to open database file")


def create_engine(settings: Settings) -> AsyncEngine:
    """The async engine alone, its slow statements logged; `Database.from_settings` for the rest."""
    url = normalise_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    else:
        engine = create_async_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
        )
        _ping_idle_connections(engine)
    log_slow_queries(engine.sync_engine, settings.slow_query_ms)
    return engine


# A pooled connection left idle this long is checked before use: a restarted server (or a
# firewall) may have dropped it. One in steady use is not: a ping is a round trip, costing as
# much as a request's whole read, which `pool_pre_ping` would add to every request.
_PING_AFTER_IDLE_S = 5.0
_CHECKED_IN = "cms_checked_in"


def _ping_idle_connections(engine: AsyncEngine) -> None:
    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < _PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops the connection and checks out another (a new one if need be).
            raise sa.exc.DisconnectionError("an idle pooled connection was dropped") from error

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module would only begin a transaction before the first write, leaving the
    # reads before it outside; SQLAlchemy emits BEGIN itself instead (`_begin_sqlite_transaction`).
    dbapi_connection.isolation_level = None
    # SQLite leaves foreign keys off unless asked, per connection.
    # WAL lets readers run while a write is in progress.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # Writers begin IMMEDIATE: they take SQLite's single write lock before their first read, so
    # a version check and the write that follows it cannot interleave with another writer.
    # Readers begin DEFERRED and run beside writers (WAL), each on a consistent snapshot.
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _configure_sqlite_reader(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


class Database:
    """The one owner of a database: the async engine and, on SQLite, the inline reader and the
    `data_version` watcher. Made once (`from_settings`), disposed once (`dispose`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        slow_query_ms: float = 0,
        pool_size: int = 10,
        pool_timeout: float = 5.0,
    ) -> None:
        self.engine = engine
        self.dialect_name = engine.dialect.name
        self._slow_query_ms = slow_query_ms
        self._pool_size = pool_size
        self._pool_timeout = pool_timeout
        self._reader: sa.Engine | None = None
        self._watcher: sqlite3.Connection | None = None
        self._statement_timeout: float | None = None
        self._statement_started = 0.0
        self._autocommit: AsyncEngine | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            create_engine(settings), slow_query_ms=settings.slow_query_ms,
            pool_size=settings.db_pool_size, pool_timeout=settings.db_pool_timeout,
        )  # fmt: skip

    def limit_statements(self, seconds: float) -> None:
        """Have the database itself stop any statement still running after `seconds`, so that
        a request cut off at its time limit leaves no work behind: PostgreSQL by its
        `statement_timeout` (set once on each pooled connection, at checkout), SQLite's inline
        reads by a progress handler that interrupts them (they run on the event loop, where
        nothing else could). For servers; commands (`cms db upgrade`) set no limit."""
        if self._statement_timeout is None and self.dialect_name == "postgresql":
            event.listen(self.engine.sync_engine, "checkout", self._set_statement_timeout)
        self._statement_timeout = seconds
        direct = _DIRECT_READS.get(self.engine)
        if direct is not None:
            direct.statement_timeout = seconds

    def _set_statement_timeout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        milliseconds = max(1, round((self._statement_timeout or 0) * 1000))
        if record.info.get(_STATEMENT_TIMEOUT) == milliseconds:
            return
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {milliseconds}")
        cursor.close()
        dbapi_connection.autocommit = autocommit
        record.info[_STATEMENT_TIMEOUT] = milliseconds

    def _interrupt_late_statements(self, dbapi_connection: Any, _record: Any) -> None:
        def late() -> bool:
            limit = self._statement_timeout
            return limit is not None and time.monotonic() - self._statement_started > limit

        dbapi_connection.set_progress_handler(late, 10_000)

    def _statement_starts(self, *_: Any) -> None:
        self._statement_started = time.monotonic()

    @property
    def inline_reader(self) -> sa.Engine | None:
        """The synchronous read-only engine beside SQLite's async one; None on PostgreSQL."""
        if self.dialect_name != "sqlite":
            return None
        if self._reader is None:
            # One connection for every inline read of the process. A pool of several would let
            # the event loop block on a checkout while the connections' holders, other requests
            # on the same loop, can never give theirs back. Sharing one is safe: reads run to
            # completion without yielding to the loop, and sqlite3 opens no transaction for a
            # SELECT.
            self._reader = sa.create_engine(
                self.engine.url.set(drivername="sqlite"),
                connect_args={"check_same_thread": False},
                poolclass=StaticPool,
            )
            event.listen(self._reader, "connect", _configure_sqlite_reader)
            # One connection, used by one statement at a time: one start time is enough.
            event.listen(self._reader, "connect", self._interrupt_late_statements)
            event.listen(self._reader, "before_cursor_execute", self._statement_starts)
            log_slow_queries(self._reader, self._slow_query_ms)
        return self._reader

    @property
    def direct(self) -> DirectReads | None:
        """PostgreSQL's reads without the session (`cms.direct_reads`); None on SQLite. One
        pool per engine, however many `Database`s wrap it (`as_database`)."""
        if self.dialect_name != "postgresql":
            return None
        direct = _DIRECT_READS.get(self.engine)
        if direct is None:
            direct = _DIRECT_READS[self.engine] = DirectReads(
                self.engine.url, self.engine.dialect, pool_size=self._pool_size,
                pool_timeout=self._pool_timeout, slow_query_ms=self._slow_query_ms,
                ping_after_idle_s=_PING_AFTER_IDLE_S,
            )  # fmt: skip
            direct.statement_timeout = self._statement_timeout
        return direct

    def listen_to_statements(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener` with each data statement sent, by any of the database's connections,
        until the returned function is called (transaction control included on some)."""

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            listener(statement)

        engines = [self.engine.sync_engine, *filter(None, [self.inline_reader])]
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        listeners = self.direct.listeners if self.direct is not None else []
        listeners.append(listener)

        def stop() -> None:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)
            listeners.remove(listener)

        return stop

    def data_version(self) -> int | None:
        """SQLite's `data_version` seen from a connection kept for this alone: it changes whenever
        any other connection (another request, worker or `cms seed`) commits. Reading it costs a
        few microseconds, so "has anything changed?" needs no query. None on PostgreSQL."""
        if self.dialect_name != "sqlite":
            return None
        if self._watcher is None:
            self._watcher = sqlite3.connect(
                self.engine.url.database or ":memory:", check_same_thread=False
            )
        version: int = self._watcher.execute("PRAGMA data_version").fetchone()[0]
        return version

    def _open_read_session(self) -> AsyncSession | InlineSession:
        # A session for reads, inline on SQLite; the caller closes it.
        reader = self.inline_reader
        if reader is not None:
            return InlineSession(Session(reader, expire_on_commit=False))
        # Autocommit: no BEGIN and ROLLBACK round trips around a request's reads. It costs no
        # consistency, since under READ COMMITTED every statement sees its own snapshot anyway.
        # Made once: making it registers event listeners, a tenth of a small read's time.
        if self._autocommit is None:
            self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return AsyncSession(self._autocommit, expire_on_commit=False)

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[ReadSession]:
        """A session for reads, closed when the block ends."""
        session = self._open_read_session()
        try:
            yield session
        finally:
            await session.close()

    def write_session(self, *, inline: bool = False) -> AbstractAsyncContextManager[WriteSession]:
        """One unit of work that writes: committed when the block ends, rolled back entirely
        when it raises. On SQLite it holds the write lock from its first statement. `inline`
        (SQLite only; for commands, never a server) runs the statements without a thread hop
        each."""
        return _write_session(self.engine, inline=inline)

    async def dispose(self) -> None:
        await dispose_engine(self.engine)
        if self._reader is not None:
            self._reader.dispose()
            self._reader = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None


class RequestDatabase:
    """One request's use of the database: one read session, opened on first use, and writes.

    DataLoader batches run as concurrent tasks, and an AsyncSession must not be used by two tasks
    at once, so every use takes a lock. The request then holds at most one pooled connection,
    however many loaders it fires: a busy server cannot exhaust the pool by fanning out.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._session: AsyncSession | InlineSession | None = None
        self._lock = asyncio.Lock()

    @property
    def dialect_name(self) -> str:
        return self._database.dialect_name

    async def run(
        self,
        operation: Callable[Concatenate[ReadSession, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        async with self._lock:
            if self._session is None:
                self._session = self._database._open_read_session()
            session = self._session
            try:
                return await operation(session, *args, **kwargs)
            finally:
                if isinstance(session, AsyncSession) and self.dialect_name == "postgresql":
                    # PostgreSQL: reads autocommit, so the connection goes back to the pool after
                    # each (the session keeps what it loaded). Held to the end of the request,
                    # 16 requests in flight needed 16 connections.
                    await session.commit()

    async def rows(self, statement: Any, params: Mapping[str, Any]) -> list[Any]:
        """The rows of one read statement: on PostgreSQL straight through psycopg
        (`cms.direct_reads`), holding no session; elsewhere on the request's session."""
        direct = self._database.direct
        if direct is not None:
            return await direct.rows(statement, params)
        return await self.run(_all_rows, statement, params)

    async def write(
        self,
        operation: Callable[Concatenate[WriteSession, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run one write in a transaction of its own: committed when `operation` returns, rolled
        back entirely when it raises. Later reads in the request see the write."""
        async with self._lock:
            await self._close_read_session()
            async with self._database.write_session() as session:
                return await operation(session, *args, **kwargs)

    async def close(self) -> None:
        async with self._lock:
            await self._close_read_session()

    async def _close_read_session(self) -> None:
        # A read session keeps its snapshot (SQLite) until closed; a write makes it stale.
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _all_rows(session: ReadSession, statement: Any, params: Mapping[str, Any]) -> list[Any]:
    return list((await session.exec(statement, params=params)).all())


def session_rows(session: ReadSession) -> Reader:
    """`RequestDatabase.rows` for code that holds a session."""
    return partial(_all_rows, session)


def database_unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached (down, restarting, pool exhausted)
    rather than that a statement was wrong."""
    unreachable = (
        sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
        sqlite3.OperationalError, OSError,
    )  # fmt: skip
    return isinstance(error, unreachable) or (
        isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    )


async def create_schema(engine: AsyncEngine) -> None:
    """Create any missing table; existing tables and their rows are left as they are."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


@asynccontextmanager
async def _write_session(engine: AsyncEngine, *, inline: bool) -> AsyncIterator[WriteSession]:
    if inline and engine.dialect.name == "sqlite":
        with _inline_writer(engine) as inline_session:
            yield inline_session
        return
    writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    async with AsyncSession(writer, expire_on_commit=False) as session:
        async with session.begin():
            yield session


@contextmanager
def _inline_writer(engine: AsyncEngine) -> Iterator[InlineSession]:
    url = engine.url.set(drivername="sqlite")
    writer = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=NullPool)
    event.listen(writer, "connect", _configure_sqlite_connection)
    event.listen(writer, "begin", _begin_sqlite_transaction)
    try:
        with Session(writer.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})) as session:
            with session.begin():
                yield InlineSession(session)
    finally:
        writer.dispose()


def session_scope(engine: AsyncEngine) -> AbstractAsyncContextManager[WriteSession]:
    """For the merge only (the tests still hold an engine): `Database.write_session`."""
    return _write_session(engine, inline=False)


async def dispose_engine(engine: AsyncEngine) -> None:
    """The engine's connections closed, its direct read pool's too (`Database.direct`)."""
    await engine.dispose()
    direct = _DIRECT_READS.pop(engine, None)
    if direct is not None:
        await direct.close()

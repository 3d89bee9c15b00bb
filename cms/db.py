"""Engines, sessions and the schema.

The request path is asynchronous from end to end: Starlette and Strawberry run on one event loop,
so the database is reached through SQLAlchemy's asyncio engine (psycopg 3 for PostgreSQL,
aiosqlite for the embedded SQLite file) and a slow query never blocks other requests. Commands
that run outside a server (`cms seed`) drive the same async code with `asyncio.run`, so there is
one code path for reads and writes, not two.

One exception, for speed: on SQLite, the API's *reads* run inline on the event loop through a
plain sqlite3 connection (`inline_reader`). SQLite lives in the process and a read of a few rows
takes ~10 µs, while aiosqlite hands every statement to a thread and back (~300 µs, measured
with bench/). WAL readers never wait for a lock, so an inline read cannot stall the loop.
A server's writes keep the async engine: they may wait for SQLite's single write lock. Commands
that serve nobody else (`cms seed`) may write inline too (`session_scope(..., inline=True)`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from cms import models as models  # registers every table on SQLModel.metadata
from cms.settings import Settings
from cms.slow_queries import log_slow_queries

__all__ = [
    "AsyncSession",
    "InlineSession",
    "create_engine",
    "create_schema",
    "database_unavailable",
    "dispose_engine",
    "inline_read_session",
    "inline_reader",
    "normalise_url",
    "session_scope",
    "sqlite_data_version",
]

SQLITE_BEGIN_OPTION = "cms_sqlite_begin"
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def normalise_url(url: str) -> URL:
    """Accept the plain URLs people write (`sqlite:///cms.db`, `postgresql://...`) and pick the
    async driver for them; an unsupported database fails here with a message naming the setting."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(
            f"CMS_DATABASE_URL: unsupported database {backend!r}; use sqlite:/// or postgresql://"
        )
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def create_engine(settings: Settings) -> AsyncEngine:
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
            pool_pre_ping=True,
        )
    log_slow_queries(engine.sync_engine, settings.slow_query_ms)
    _slow_query_ms[id(engine)] = settings.slow_query_ms
    return engine


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


_inline_readers: dict[int, sa.Engine] = {}
_slow_query_ms: dict[int, float] = {}


def inline_reader(engine: AsyncEngine) -> sa.Engine | None:
    """The synchronous read-only engine beside an SQLite async engine (see the module's
    docstring); None for PostgreSQL. Made on first use, disposed with `dispose_engine`."""
    if engine.dialect.name != "sqlite":
        return None
    reader = _inline_readers.get(id(engine))
    if reader is None:
        # One connection for every inline read of the process. A pool of several would let the
        # event loop block on a checkout while the connections' holders, other requests on the
        # same loop, can never give theirs back. Sharing one is safe: reads run to completion
        # without yielding to the loop, and sqlite3 opens no transaction for a SELECT.
        reader = sa.create_engine(
            engine.url.set(drivername="sqlite"),
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
        )
        event.listen(reader, "connect", _configure_sqlite_reader)
        log_slow_queries(reader, _slow_query_ms.get(id(engine), 0))
        _inline_readers[id(engine)] = reader
    return reader


def _configure_sqlite_reader(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


class InlineSession:
    """`AsyncSession`'s API, as far as `cms.content` uses it, over a synchronous session: the
    same async functions run on it, without a thread hop per statement."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def bind(self) -> Any:
        return self._session.bind

    @property
    def info(self) -> dict[Any, Any]:
        return self._session.info

    async def exec(self, statement: Any, **kwargs: Any) -> Any:
        return self._session.exec(statement, **kwargs)

    def get_bind(self) -> Any:
        return self._session.get_bind()

    async def get(self, entity: Any, ident: Any) -> Any:
        return self._session.get(entity, ident)

    async def get_one(self, entity: Any, ident: Any) -> Any:
        return self._session.get_one(entity, ident)

    def add(self, instance: Any) -> None:
        self._session.add(instance)

    async def delete(self, instance: Any) -> None:
        self._session.delete(instance)

    async def flush(self) -> None:
        self._session.flush()

    async def close(self) -> None:
        self._session.close()


def inline_read_session(reader: sa.Engine) -> AsyncSession:
    return cast(AsyncSession, InlineSession(Session(reader, expire_on_commit=False)))


@contextmanager
def _inline_writer(engine: AsyncEngine) -> Iterator[AsyncSession]:
    url = engine.url.set(drivername="sqlite")
    writer = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=NullPool)
    event.listen(writer, "connect", _configure_sqlite_connection)
    event.listen(writer, "begin", _begin_sqlite_transaction)
    try:
        with Session(writer.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})) as session:
            with session.begin():
                yield cast(AsyncSession, InlineSession(session))
    finally:
        writer.dispose()


_change_watchers: dict[int, sqlite3.Connection] = {}


def sqlite_data_version(engine: AsyncEngine) -> int | None:
    """SQLite's `data_version` seen from a connection kept for this alone: it changes whenever
    any other connection (another request, worker or `cms seed`) commits. Reading it costs a few
    microseconds, so "has anything changed?" needs no query. None on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    watcher = _change_watchers.get(id(engine))
    if watcher is None:
        database = engine.url.database or ":memory:"
        watcher = sqlite3.connect(database, check_same_thread=False)
        _change_watchers[id(engine)] = watcher
    version: int = watcher.execute("PRAGMA data_version").fetchone()[0]
    return version


async def dispose_engine(engine: AsyncEngine) -> None:
    await engine.dispose()
    _slow_query_ms.pop(id(engine), None)
    reader = _inline_readers.pop(id(engine), None)
    if reader is not None:
        reader.dispose()
    watcher = _change_watchers.pop(id(engine), None)
    if watcher is not None:
        watcher.close()


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
async def session_scope(
    engine: AsyncEngine, *, inline: bool = False
) -> AsyncIterator[AsyncSession]:
    """One unit of work that writes: committed when the block ends, rolled back entirely when it
    raises. On SQLite it holds the write lock from its first statement. `inline` (SQLite only;
    for commands, never a server) runs the statements without a thread hop each."""
    if inline and engine.dialect.name == "sqlite":
        with _inline_writer(engine) as session:
            yield session
        return
    writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    async with AsyncSession(writer, expire_on_commit=False) as session:
        async with session.begin():
            yield session

"""Engines, sessions and the schema.

The request path is asynchronous from end to end: Starlette and Strawberry run on one event loop,
so the database is reached through SQLAlchemy's asyncio engine (aiosqlite for the embedded SQLite
file, psycopg 3 for PostgreSQL) and a slow query never blocks other requests. Commands that run
outside a server (`cms seed`) drive the same async code with `asyncio.run`, so there is one code
path for reads and writes, not two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from cms import models as models  # registers every table on SQLModel.metadata
from cms.settings import Settings

__all__ = ["AsyncSession", "create_engine", "create_schema", "normalise_url", "session_scope"]

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
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
    )


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


async def create_schema(engine: AsyncEngine) -> None:
    """Create any missing table; existing tables and their rows are left as they are."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One unit of work that writes: committed when the block ends, rolled back entirely when it
    raises. On SQLite it holds the write lock from its first statement."""
    writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    async with AsyncSession(writer, expire_on_commit=False) as session:
        async with session.begin():
            yield session

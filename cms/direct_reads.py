"""PostgreSQL reads without SQLAlchemy's session and pool: the public one-statement reads
(`cms.tree_reads`, the snippets' read) run here, on psycopg's own pool (`psycopg_pool`).

Measured on the hot article's read (1,000 in a row, CPU of the process): ~900 µs a read through
an `AsyncSession`, ~400 µs through a Core connection, ~195 µs here. The session's transaction
bookkeeping, the pool's events and the greenlet hops around each call cost more than the read.
Statements are still built and compiled by SQLAlchemy (once each), their parameters and values
go through the same type processors, and errors are raised as SQLAlchemy's: a row read here
equals the row a session would have returned, and a failure is handled the same way.
"""

from __future__ import annotations

import time
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import URL, Dialect

from cms.slow_queries import log_if_slow

__all__ = ["DirectReads"]

Processor = Callable[[Any], Any]
StatementListener = Callable[[str], None]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Every parameter's value when not given, already processed for the driver.
    defaults: dict[str, Any]
    # The processor of each parameter a caller may give (None: passed as is).
    binds: dict[str, Processor | None]
    row: Any
    # (index, processor) of each column whose value the driver's does not match the type's.
    columns: tuple[tuple[int, Processor], ...]


class DirectReads:
    """A pool of autocommit psycopg connections, opened on first use, and the reads run on it.
    One per engine, made by `cms.db.Database.direct` and closed by `cms.db.dispose_engine`."""

    def __init__(
        self,
        url: URL,
        dialect: Dialect,
        *,
        pool_size: int,
        pool_timeout: float,
        slow_query_ms: float,
        ping_after_idle_s: float,
    ) -> None:
        self._dialect = dialect
        self._slow_query_ms = slow_query_ms
        self._ping_after_idle_s = ping_after_idle_s
        self._compiled: dict[Any, _Compiled] = {}
        self._returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self.statement_timeout: float | None = None
        self.listeners: list[StatementListener] = []
        self._opened = False
        self._in_use = 0
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            min_size=1, max_size=pool_size, timeout=pool_timeout, open=False,
            kwargs={"autocommit": True}, configure=self._configure, check=self._check,
        )  # fmt: skip

    async def rows(self, statement: sa.Select[Any], params: Mapping[str, Any]) -> list[Any]:
        """The rows `statement` reads with `params`, each with an attribute per column."""
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = self._compile(statement)
        values = dict(compiled.defaults)
        binds = compiled.binds
        for name, value in params.items():
            # As with a session, a parameter the statement does not use is left out.
            if name in binds:
                values[name] = _bound(binds[name], value)
        if not self._opened:
            self._opened = True
            await self._pool.open(wait=False)
        for listener in self.listeners:
            listener(compiled.sql)
        try:
            async with self._pool.connection() as connection:
                self._in_use += 1
                try:
                    started = time.perf_counter()
                    cursor = await connection.execute(compiled.sql, values, prepare=True)
                    fetched = await cursor.fetchall()
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    log_if_slow(compiled.sql, elapsed_ms, self._slow_query_ms)
                    self._returned[connection] = time.monotonic()
                finally:
                    self._in_use -= 1
        except psycopg.Error as error:
            raise sa.exc.DBAPIError.instance(
                compiled.sql, values, error, psycopg.Error,
                connection_invalidated=isinstance(error, psycopg.OperationalError),
            ) from error  # fmt: skip
        return [_row(compiled, row) for row in fetched]

    def connections(self) -> tuple[int, int]:
        """Connections of the pool: open (or opening), and in use by a read."""
        if not self._opened:
            return 0, 0
        return self._pool.get_stats().get("pool_size", 0), self._in_use

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()

    def _compile(self, statement: sa.Select[Any]) -> _Compiled:
        dialect = self._dialect
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("a direct read cannot expand parameters: give each one its own")
        binds: dict[str, Processor | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        defaults = {name: _bound(binds[name], value) for name, value in compiled.params.items()}
        names = [column.keyname for column in compiled._result_columns]
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in compiled._result_columns
        ]
        return _Compiled(
            sql=compiled.string, defaults=defaults, binds=binds,
            row=namedtuple("DirectRow", names, rename=True),
            columns=tuple((i, p) for i, p in enumerate(processors) if p is not None),
        )  # fmt: skip

    async def _configure(self, connection: psycopg.AsyncConnection[Any]) -> None:
        # The server's own limit (`cms.db.Database.limit_statements`), as on the other pool.
        if self.statement_timeout is not None:
            milliseconds = max(1, round(self.statement_timeout * 1000))
            await connection.execute(f"SET statement_timeout = {milliseconds}")

    async def _check(self, connection: psycopg.AsyncConnection[Any]) -> None:
        # Pinged only after an idle spell, as the other pool's are: a restarted server (or a
        # firewall) may have dropped it. The pool replaces one that fails.
        returned = self._returned.get(connection)
        if returned is not None and time.monotonic() - returned >= self._ping_after_idle_s:
            await AsyncConnectionPool.check_connection(connection)


def _bound(process: Processor | None, value: Any) -> Any:
    return value if process is None or value is None else process(value)


def _row(compiled: _Compiled, values: tuple[Any, ...]) -> Any:
    if not compiled.columns:
        return compiled.row._make(values)
    processed = list(values)
    for index, process in compiled.columns:
        if processed[index] is not None:
            processed[index] = process(processed[index])
    return compiled.row._make(processed)

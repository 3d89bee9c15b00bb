"""In-process requests: the reference responses, and the SQL statements one request costs.

Run before any load, through httpx's ASGI transport, listening to every statement the server
sends (ours: `Database.listen_to_statements`, which hears its direct reads too). Each query is
sent twice and the second is counted, so one-off work on a cold process (none today, a cache
fill later) does not count as the steady-state cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from bench.floor_server import create_floor_app
from bench.queries import BenchQuery
from cms.db import Database
from cms.http import create_app
from cms.settings import Settings

__all__ = ["Probe", "probe_floor", "probe_ours"]


@dataclass(frozen=True)
class Probe:
    body: bytes
    sql_statements: int


# Calls its argument with each statement sent, until the function it returns is called.
Listen = Callable[[Callable[[str], None]], Callable[[], None]]


async def _probe(app: Starlette, listen: Listen, queries: Sequence[BenchQuery]) -> dict[str, Probe]:
    statements: list[str] = []

    probes = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
        for query in queries:
            headers = {"content-type": "application/json"}
            await client.post("/graphql", content=query.body, headers=headers)
            stop = listen(statements.append)
            try:
                statements.clear()
                response = await client.post("/graphql", content=query.body, headers=headers)
            finally:
                stop()
            if response.status_code != 200 or b'"errors"' in response.content:
                raise RuntimeError(f"{query.name}: {response.status_code} {response.text[:500]}")
            probes[query.name] = Probe(body=response.content, sql_statements=len(statements))
    return probes


async def probe_ours(
    database_url: str, queries: Sequence[BenchQuery], *, response_cache: bool = False
) -> dict[str, Probe]:
    """Each query sent twice, statements counted on the second: with the cache off, what
    executing a request costs; with it on, what a cache hit costs."""
    settings = Settings(database_url=database_url, response_cache=response_cache, _env_file=None)
    database = Database.from_settings(settings)
    try:
        app = create_app(settings, database)
        return await _probe(app, database.listen_to_statements, queries)
    finally:
        await database.dispose()


async def probe_floor(database_url: str, queries: Sequence[BenchQuery]) -> dict[str, Probe]:
    app = create_floor_app(database_url)
    engine: Engine = app.state.engine

    def listen(listener: Callable[[str], None]) -> Callable[[], None]:
        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            listener(statement)

        event.listen(engine, "before_cursor_execute", record)
        return lambda: event.remove(engine, "before_cursor_execute", record)

    try:
        return await _probe(app, listen, queries)
    finally:
        app.state.engine.dispose()

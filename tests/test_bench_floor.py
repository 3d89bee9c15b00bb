"""The benchmark's floor server answers the benchmark's queries with exactly the CMS's data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.floor_server import create_floor_app
from bench.queries import BENCH_QUERIES, BenchQuery
from cms.settings import Settings

pytestmark = pytest.mark.anyio

HEADERS = {"content-type": "application/json"}


@pytest.fixture
async def floor(seeded: AsyncEngine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_floor_app(settings.database_url)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://floor.test") as client:
            yield client
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("query", BENCH_QUERIES, ids=lambda query: query.name)
async def test_floor_answers_with_the_same_data_as_ours(
    floor: httpx.AsyncClient, client: httpx.AsyncClient, query: BenchQuery
) -> None:
    ours = await client.post("/graphql", content=query.body, headers=HEADERS)
    theirs = await floor.post("/graphql", content=query.body, headers=HEADERS)
    assert ours.status_code == theirs.status_code == 200
    ours_body, theirs_body = orjson.loads(ours.content), orjson.loads(theirs.content)
    assert "errors" not in ours_body and "errors" not in theirs_body
    assert ours_body["data"] is not None
    assert theirs_body["data"] == ours_body["data"]

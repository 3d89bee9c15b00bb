"""The slow-query log: statements over the threshold are logged with the request's id, never
with their parameters; under the threshold, nothing is logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from cms.db import create_engine, create_schema, dispose_engine
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings
from tests.conftest import SEED_DIR

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title benefits { title } } }'


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(settings)
    await create_schema(engine)
    await seed_database(engine, [SEED_DIR])
    app = create_app(settings.model_copy(update={"response_cache": False}), engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as c:
        yield c
    await dispose_engine(engine)


@pytest.fixture
async def logging_everything(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(settings.model_copy(update={"slow_query_ms": 1e-9})):
        yield client


@pytest.fixture
async def logging_slow_only(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # Far above any statement's time however busy the machine (the default, 200 ms, is not).
    async for client in _client(settings.model_copy(update={"slow_query_ms": 60_000.0})):
        yield client


def _slow(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "cms.db.slow"]


async def test_a_statement_over_the_threshold_is_logged_with_the_request_id(
    logging_everything: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cms.db.slow"):
        response = await logging_everything.post("/graphql", json={"query": READ})
    assert response.json()["data"]["article"]["title"] == "Back Walk Benefits"
    records = _slow(caplog)
    statements = [record.__dict__["statement"] for record in records]
    assert any("FROM article" in statement for statement in statements), statements
    assert {record.__dict__["request_id"] for record in records} == {
        response.headers["x-request-id"]
    }
    assert all(record.__dict__["duration_ms"] >= 0 for record in records)
    # Parameters are never logged: the slug is bound, not written into the statement.
    assert not any("back-walk" in statement for statement in statements)


async def test_statements_under_the_threshold_are_not_logged(
    logging_slow_only: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cms.db.slow"):
        response = await logging_slow_only.post("/graphql", json={"query": READ})
    assert response.status_code == 200
    assert _slow(caplog) == []

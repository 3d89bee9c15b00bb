"""Every request's id, limits, log line and metrics; an unreachable database is a clear 503."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.http import create_app
from cms.logs import ACCESS_LOGGER, AccessLogHandler, JsonFormatter, LogFormat, request_id_var
from cms.settings import Settings

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title } }'


async def test_every_response_carries_a_request_id(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    generated = await client.post("/graphql", json={"query": READ})
    assert len(generated.headers["x-request-id"]) == 32
    again = await client.post("/graphql", json={"query": READ})
    assert again.headers["x-request-id"] != generated.headers["x-request-id"]
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\x7f" * 20})
    assert replaced.headers["x-request-id"] != "bad id\x7f" * 20


async def test_a_body_over_the_limit_is_refused_before_any_work(
    engine: AsyncEngine, settings: Settings, sql_statements: list[str]
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 200})
    app = create_app(small, engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as c:
        response = await c.post("/graphql", json={"query": READ, "pad": "x" * 500})
        assert sql_statements == []
        ok = await c.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert ok.status_code == 200


async def test_a_request_over_the_time_limit_is_cut_off(
    seeded: AsyncEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms import reads, tree_reads

    async def slow(*_: Any, **__: Any) -> list[Any]:
        await asyncio.sleep(5)
        return []

    # The article's read, as the loaders make it and as PostgreSQL's one-statement read does.
    monkeypatch.setattr(reads, "articles_by_slugs", slow)
    monkeypatch.setattr(tree_reads, "article_tree", slow)
    quick = settings.model_copy(update={"request_timeout": 0.2, "response_cache": False})
    app = create_app(quick, seeded)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as c:
        response = await c.post("/graphql", json={"query": READ})
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_metrics_count_requests_operations_and_cache_hits(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    named = "query ReadArticle " + READ
    for _ in range(3):
        await client.post("/graphql", json={"query": named, "operationName": "ReadArticle"})
    text = (await client.get("/metrics")).text
    assert 'cms_http_requests_total{method="POST",route="/graphql",status="200"} 3.0' in text
    assert 'cms_graphql_operations_total{operation="ReadArticle",status="200"} 3.0' in text
    assert "cms_response_cache_hits 2.0" in text
    assert 'cms_http_request_duration_seconds_count{route="/graphql"} 3.0' in text
    if seeded.dialect.name == "postgresql":
        assert "cms_db_pool_checked_out 0.0" in text
        # The public read went through the direct pool, which holds it no longer.
        assert "cms_db_direct_pool_checked_out 0.0" in text
        assert re.search(r"^cms_db_direct_pool_connections [1-9]", text, re.M)


def test_log_lines_are_json_with_the_request_id() -> None:
    token = request_id_var.set("req-42")
    try:
        record = logging.makeLogRecord({"msg": "hello %s", "args": ("there",), "levelname": "INFO"})
        record.operation = "ReadArticle"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert (line["message"], line["request_id"], line["operation"]) == (
        "hello there", "req-42", "ReadArticle",
    )  # fmt: skip


async def test_an_unreachable_database_is_a_503_and_not_ready_but_alive(
    unreachable: httpx.AsyncClient,
) -> None:
    response = await unreachable.post("/graphql", json={"query": READ})
    assert response.status_code == 503
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    assert (await unreachable.get("/readyz")).status_code == 503
    assert (await unreachable.get("/healthz")).status_code == 200


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """The access log switched on, as `cms serve` configures it, into a buffer."""
    stream = io.StringIO()
    handler = AccessLogHandler(LogFormat.JSON, stream=stream)
    logger = logging.getLogger(ACCESS_LOGGER)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        handler.close()


async def test_the_access_log_writes_one_json_line_per_request_in_batches(
    seeded: AsyncEngine, client: httpx.AsyncClient, access_log: io.StringIO
) -> None:
    named = "query ReadArticle " + READ
    answers = [
        await client.post("/graphql", json={"query": named, "operationName": "ReadArticle"})
        for _ in range(3)  # the second and third are hot-path cache hits
    ]
    assert access_log.getvalue() == ""  # buffered: no write per request
    assert AccessLogHandler.active is not None
    AccessLogHandler.active.flush()
    lines = [json.loads(line) for line in access_log.getvalue().splitlines()]
    assert [
        (line["request_id"], line["status"], line["operation"], line["message"]) for line in lines
    ] == [
        (answer.headers["x-request-id"], 200, "ReadArticle", "POST /graphql 200")
        for answer in answers
    ]
    assert all(
        line["logger"] == "cms.http.access" and isinstance(line["duration_ms"], float)
        for line in lines
    )

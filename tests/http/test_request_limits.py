"""Limits on what one anonymous request may make the server do: nesting, document size, parses,
cache entries, time."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import sqlalchemy as sa
from graphql import DocumentNode
from graphql.language.parser import Parser
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database
from cms.http import create_app
from cms.settings import Settings

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title } }'


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [300, 2000])
async def test_deeply_nested_variables_are_a_bad_request(
    client: httpx.AsyncClient, levels: int
) -> None:
    body = '{"query": "{ __typename }", "variables": {"a": ' + _nested(levels) + "}}"
    posted = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    got = await client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"a": ' + _nested(levels) + "}"},
    )
    for response in (posted, got):
        assert response.status_code == 400, response.text
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents graphql-core parses while the test runs (its parser, counted and run)."""
    seen: list[str] = []
    parse_document = Parser.parse_document

    def counted(parser: Parser) -> DocumentNode:
        seen.append(parser._lexer.source.body)
        return parse_document(parser)

    monkeypatch.setattr(Parser, "parse_document", counted)
    return seen


@asynccontextmanager
async def _client(
    settings: Settings, database: Database, **update: object
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=update), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        yield client


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


async def test_a_document_over_the_size_limit_is_refused_before_it_is_parsed(
    settings: Settings, database: Database, parses: list[str]
) -> None:
    # Comments and whitespace count: they cost the parser as much as tokens do.
    padded = "#" + "x" * 1000 + "\n{ __typename }"
    digest = hashlib.sha256(padded.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with _client(settings, database, max_document_bytes=1000) as client:
        posted = await client.post("/graphql", json={"query": padded})
        got = await client.get("/graphql", params={"query": padded})
        registered = await client.post("/graphql", json={"query": padded, "extensions": persisted})
        within = await client.post("/graphql", json={"query": "#" + "x" * 900 + "\n{ __typename }"})
    for response in (posted, got, registered):
        assert response.status_code == 413, response.text
        assert _codes(response) == ["DOCUMENT_TOO_LARGE"]
    assert within.json()["data"] == {"__typename": "Query"}
    assert len(parses) == 1


async def test_each_document_is_parsed_once_a_request(
    client: httpx.AsyncClient, parses: list[str]
) -> None:
    fresh = "query Fresh($unused: Int) { __typename }"
    await client.post("/graphql", json={"query": fresh, "variables": {"unused": 1}})
    assert parses == [fresh]
    got = "{ got: __typename }"
    await client.get("/graphql", params={"query": got})
    assert parses == [fresh, got]
    broken = "{ __typename "
    response = await client.post("/graphql", json={"query": broken})
    assert _codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert parses == [fresh, got, broken]
    many = "{ " + "__typename " * 6000 + "}"
    response = await client.post("/graphql", json={"query": many})
    assert _codes(response) == ["TOO_MANY_TOKENS"]
    assert parses == [fresh, got, broken, many]


CACHED = "query Read($slug: String!) { article(slug: $slug) { title } }"


async def test_an_undeclared_variable_makes_no_new_cache_entry(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    reformatted = "# again\nquery Read($slug: String!) {\n  article(slug: $slug) { title, }\n}"
    answers = [
        await client.post("/graphql", json={"query": query, "variables": variables})
        for query, variables in (
            (CACHED, {"slug": "back-walk"}),
            (CACHED, {"slug": "back-walk", "junk": 1}),
            (CACHED, {"junk": [2], "slug": "back-walk"}),
            (reformatted, {"slug": "back-walk", "junk": 3}),
        )
    ]
    assert {a.json()["data"]["article"]["title"] for a in answers} == {"Back Walk Benefits"}
    metrics = (await client.get("/metrics")).text
    assert "cms_response_cache_hits 3.0" in metrics
    assert "cms_response_cache_misses 0.0" in metrics


async def test_the_caches_are_bounded_in_bytes(
    seeded: AsyncEngine, settings: Settings, database: Database, parses: list[str]
) -> None:
    digest = hashlib.sha256(CACHED.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    request = {"query": CACHED, "variables": {"slug": "back-walk"}, "extensions": persisted}
    tight = {"response_cache_bytes": 100, "document_cache_bytes": 100}
    async with _client(settings, database, **tight) as client:
        for _ in range(2):
            answer = await client.post("/graphql", json=request)
            assert answer.json()["data"]["article"] == {"title": "Back Walk Benefits"}
        by_hash = await client.post("/graphql", json={**request, "query": None})
        metrics = (await client.get("/metrics")).text
    # Nothing fits in 100 bytes: each request parses and runs again, and the hash is unknown.
    assert parses == [CACHED, CACHED]
    assert "cms_response_cache_hits 0.0" in metrics
    assert _codes(by_hash) == ["PERSISTED_QUERY_NOT_FOUND"]


# Four seconds or so of work for the database, where the time limit allows half a second.
RUNAWAY = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM (SELECT x FROM c LIMIT 10000000)",
    "postgresql": "SELECT pg_sleep(4)",
}


async def test_a_statement_outliving_the_request_time_limit_is_stopped_by_the_database(
    settings: Settings, database: Database
) -> None:
    create_app(settings.model_copy(update={"request_timeout": 0.5}), database)
    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError):
        async with database.read_session() as session:
            await session.exec(sa.text(RUNAWAY[database.dialect_name]))
    assert time.monotonic() - started < 2
    async with database.read_session() as session:  # the connection is fine for the next one
        assert (await session.exec(sa.text("SELECT 1"))).one() == (1,)

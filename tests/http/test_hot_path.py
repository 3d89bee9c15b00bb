"""The hot path: repeated anonymous queries answered in front of the framework, exactly as the full
path would answer them, and never once content has changed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.db import Database
from cms.http import create_app
from cms.settings import Settings
from tests.conftest import TokenFactory
from tests.http.test_partners import _app, _partner, _post, _usage

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title benefits { slug title } } }'
# The edit waits in the published article's pending version: published in the same request.
RENAME = (
    'mutation { benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: 1, '
    'input: {title: "Calm"}) { errors { code } } '
    'articlePublish(slug: "back-walk", expectedVersion: 2) { errors { code } } }'
)
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


def _only_revision_reads(statements: list[str]) -> bool:
    """A hit may ask the database which content revision is current, and nothing else."""
    return all("content_state" in statement for statement in statements)


async def _metric(client: httpx.AsyncClient, name: str) -> float:
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} metric")


async def _cache_hits(client: httpx.AsyncClient) -> float:
    return await _metric(client, "cms_response_cache_hits")


async def _hot_hits(client: httpx.AsyncClient) -> float:
    return await _metric(client, "cms_response_cache_hot_hits")


async def test_a_hot_answer_is_byte_identical_to_the_full_answer(
    seeded: AsyncEngine, client: httpx.AsyncClient, sql_statements: list[str]
) -> None:
    full = await client.post("/graphql", json={"query": READ})
    assert await _hot_hits(client) == 0
    sql_statements.clear()
    hot = await client.post("/graphql", json={"query": READ})
    assert _only_revision_reads(sql_statements), sql_statements
    assert await _hot_hits(client) == 1
    assert _comparable(hot) == _comparable(full)
    assert hot.json()["data"]["article"]["title"] == "Back Walk Benefits"
    assert hot.headers["x-request-id"] != full.headers["x-request-id"]


async def test_get_queries_are_hot_too_and_keep_their_cache_control(
    seeded: AsyncEngine, client: httpx.AsyncClient, sql_statements: list[str]
) -> None:
    full = await client.get("/graphql", params={"query": READ})
    sql_statements.clear()
    hot = await client.get("/graphql", params={"query": READ})
    assert _only_revision_reads(sql_statements), sql_statements
    assert await _hot_hits(client) == 1
    assert _comparable(hot) == _comparable(full)
    assert hot.headers["cache-control"].startswith("public, max-age=")


async def test_each_accepted_media_type_gets_its_own_answer(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE, "application/json", GRAPHQL_RESPONSE):
        response = await client.post("/graphql", json={"query": READ}, headers={"accept": accept})
        assert response.headers["content-type"] == accept


async def test_a_hot_answer_revalidates_with_304(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    first = await client.post("/graphql", json={"query": READ})
    await client.post("/graphql", json={"query": READ})
    etag = first.headers["etag"]
    hot = await client.post("/graphql", json={"query": READ}, headers={"if-none-match": etag})
    assert await _hot_hits(client) == 2
    assert hot.status_code == 304
    assert hot.content == b""
    assert hot.headers["etag"] == etag
    assert "content-length" not in hot.headers and "content-type" not in hot.headers


async def test_the_next_read_after_a_write_is_fresh_not_hot(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await client.post("/graphql", json={"query": READ})
    await client.post("/graphql", json={"query": READ})
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    written = await client.post(
        "/graphql", json={"query": RENAME}, headers={"Authorization": f"Bearer {token}"}
    )
    assert written.json()["data"] == {
        "benefitUpdate": {"errors": []},
        "articlePublish": {"errors": []},
    }
    hot_hits = await _hot_hits(client)
    benefits = (await client.post("/graphql", json={"query": READ})).json()["data"]["article"]
    assert benefits["benefits"][0]["title"] == "Calm"
    assert await _hot_hits(client) == hot_hits


async def test_callers_with_a_token_always_take_the_full_path(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.READ_DRAFTS)
    headers = {"Authorization": f"Bearer {token}"}
    await client.post("/graphql", json={"query": READ})
    await client.post("/graphql", json={"query": READ})
    hits, hot_hits = await _cache_hits(client), await _hot_hits(client)
    for _ in range(2):
        response = await client.post("/graphql", json={"query": READ}, headers=headers)
        assert response.headers["cache-control"] == "private, no-store"
    # The preview entry is the response cache's, a level behind: one miss, then one hit.
    assert await _cache_hits(client) == hits + 1
    assert await _hot_hits(client) == hot_hits
    bad = await client.post(
        "/graphql", json={"query": READ}, headers={"Authorization": "Bearer wrong"}
    )
    assert bad.status_code == 401


async def test_a_body_that_differs_by_one_byte_is_another_request(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    await client.post("/graphql", json={"query": READ})
    await client.post("/graphql", json={"query": READ})
    broken = await client.post(
        "/graphql", content=b'{"query": "{ article(slug: \\"back-walk\\") { nope } }"}',
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert broken.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    not_json = await client.post(
        "/graphql", content=b'{"query": "' + READ.replace('"', '\\"').encode() + b'"}',
        headers={"content-type": "text/plain"},
    )  # fmt: skip
    assert not_json.status_code == 415


async def test_a_repeated_keyless_snippet_read_is_hot_and_counted_each_time(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _app(seeded, settings, anonymous_rate_limit=4) as (app, client):
        full = await _post(client)
        hot = [await _post(client) for _ in range(2)]
        assert await _hot_hits(client) == 2
        assert [_comparable(response) for response in hot] == [_comparable(full)] * 2
        revalidated = await client.post(
            "/graphql", content=full.request.content,
            headers={"content-type": "application/json", "if-none-match": full.headers["etag"]},
        )  # fmt: skip
        assert revalidated.status_code == 304
        assert await _hot_hits(client) == 3
        # A 304 serves the snippet as much as a 200 does.
        assert await _usage(seeded, app) == [(None, "back-walk", "stress-relief", 4)]


async def test_a_hot_snippet_read_over_the_limit_is_refused_as_the_full_path_refuses_it(
    seeded: AsyncEngine, settings: Settings
) -> None:
    reader = "https://reader.example"
    async with _app(seeded, settings, anonymous_rate_limit=2) as (app, client):
        assert [(await _post(client, origin=reader)).status_code for _ in range(2)] == [200, 200]
        assert await _hot_hits(client) == 1
        hot_refusal = await _post(client, origin=reader)
        # Never seen before, so not hot: the same refusal, from the full path.
        full_refusal = await client.post(
            "/graphql", content=hot_refusal.request.content + b" ",
            headers={"content-type": "application/json", "origin": reader},
        )  # fmt: skip
        assert await _hot_hits(client) == 1
        for refusal in (hot_refusal, full_refusal):
            assert refusal.status_code == 429
            assert refusal.headers["access-control-allow-origin"] == "*"
            (error,) = refusal.json()["errors"]
            retry_after = int(refusal.headers["retry-after"])
            assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
        # Equal but for the seconds left in the window, which may tick between the two.
        assert _refusal_shape(hot_refusal) == _refusal_shape(full_refusal)
        assert await _usage(seeded, app) == [(None, "back-walk", "stress-relief", 2)]


async def test_keyed_snippet_reads_are_never_hot(seeded: AsyncEngine, settings: Settings) -> None:
    key = await _partner(seeded)
    async with _app(seeded, settings) as (app, client):
        for _ in range(3):
            assert (await _post(client, key=key)).status_code == 200
        assert await _hot_hits(client) == 0
        assert await _usage(seeded, app) == [("acme", "back-walk", "stress-relief", 3)]


def _refusal_shape(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, body = _comparable(response)
    retry_after = response.headers["retry-after"]
    kept = [(k, v) for k, v in headers if k not in ("retry-after", "content-length")]
    return status, kept, body.replace(retry_after.encode(), b"N")


async def test_the_oldest_hot_answer_goes_first_when_the_table_is_full(
    seeded: AsyncEngine, database: Database, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"response_cache_entries": 2}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        queries = [READ, "{ articles(first: 1) { totalCount } }", "{ __typename }"]
        for query in queries:  # the third takes the first's place
            await client.post("/graphql", json={"query": query})
        for query in reversed(queries):
            await client.post("/graphql", json={"query": query})
        # The second and third answered hot; the first went the full way and is kept again.
        assert await _hot_hits(client) == 2

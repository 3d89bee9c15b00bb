"""The keyless snippet limit holds whatever shape the request takes: escaped field names, URL-
encoded GETs, hash-only persisted queries; and the websocket serves subscriptions only."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.http import create_app
from cms.settings import Settings
from tests.graphql_ws import Subscriber, wait_for_subscribers
from tests.http.test_partners import SNIPPETS, _app, _partner, _post, _usage
from tests.live_server import live_server

pytestmark = pytest.mark.anyio

# `benefit\u0053nippets`, as JSON may spell it: the raw body never holds "benefitSnippet".
ESCAPED_BODY = b'{"query": "{ benefit\\u0053nippets(article: \\"back-walk\\") { slug } }"}'
ESCAPED_GET = (
    "/graphql?query=%7B%20benefit%53nippets(article%3A%20%22back-walk%22)%20%7B%20slug%20%7D%20%7D"
)
BENEFITS = [
    "detoxification",
    "emotional-release",
    "enhanced-energy-flow",
    "improved-circulation",
    "increased-flexibility",
    "pain-management",
    "stress-relief",
]


def _counted(times: int) -> list[tuple[str | None, str, str, int]]:
    return [(None, "back-walk", benefit, times) for benefit in BENEFITS]


def _sorted(rows: list[tuple[str | None, str, str, int]]) -> list[tuple[str | None, str, str, int]]:
    return sorted(rows, key=lambda row: row[2])


async def _escaped(client: httpx.AsyncClient, key: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", **({"X-Partner-Key": key} if key else {})}
    return await client.post("/graphql", content=ESCAPED_BODY, headers=headers)


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    body = response.json()
    assert body.get("data") is None  # none at all when answered from the cache
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert error["message"] == f"Over 2 snippet reads a minute; retry in {retry_after} s."


async def test_an_escaped_field_name_counts_against_the_keyless_limit(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _app(seeded, settings, anonymous_rate_limit=2) as (app, client):
        first, second = await _escaped(client), await _escaped(client)
        assert first.status_code == second.status_code == 200
        assert len(first.json()["data"]["benefitSnippets"]) == 7
        _assert_limited(await _escaped(client))
        # The plain spelling shares the window: refused before execution by the middleware.
        plain = await _post(client)
        assert plain.status_code == 429
        assert plain.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert _sorted(await _usage(seeded, app)) == _counted(2)


async def test_after_plain_reads_spend_the_window_an_escaped_one_is_refused(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _app(seeded, settings, anonymous_rate_limit=2) as (app, client):
        assert [(await _post(client)).status_code for _ in range(3)] == [200, 200, 429]
        _assert_limited(await _escaped(client))
        assert await _usage(seeded, app) == [(None, "back-walk", "stress-relief", 2)]


async def test_a_url_encoded_get_counts_against_the_keyless_limit(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _app(seeded, settings, anonymous_rate_limit=2) as (app, client):
        statuses = [(await client.get(ESCAPED_GET)).status_code for _ in range(2)]
        assert statuses == [200, 200]  # the second from the response cache
        _assert_limited(await client.get(ESCAPED_GET))
        assert _sorted(await _usage(seeded, app)) == _counted(2)


async def test_a_hash_only_persisted_query_counts_against_the_keyless_limit(
    seeded: AsyncEngine, settings: Settings
) -> None:
    query = SNIPPETS
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    variables = {"article": "back-walk"}
    async with _app(seeded, settings, anonymous_rate_limit=2) as (app, client):
        registered = await client.post(
            "/graphql", json={"query": query, "variables": variables, "extensions": extensions}
        )
        assert registered.status_code == 200
        by_hash = {"variables": variables, "extensions": extensions}
        again = await client.post("/graphql", json=by_hash)  # from the response cache
        assert again.json() == registered.json()
        _assert_limited(await client.post("/graphql", json=by_hash))
        get = await client.get(
            "/graphql",
            params={
                "variables": orjson.dumps(variables).decode(),
                "extensions": orjson.dumps(extensions).decode(),
            },
        )
        _assert_limited(get)
        assert _sorted(await _usage(seeded, app)) == _counted(2)


async def test_a_request_with_several_snippet_fields_counts_once(
    seeded: AsyncEngine, settings: Settings
) -> None:
    body = (
        b'{"query": "{ a: benefit\\u0053nippets(article: \\"back-walk\\") { slug } '
        b'b: benefit\\u0053nippet(article: \\"back-walk\\", '
        b'benefit: \\"stress-relief\\") { slug } }"}'
    )
    headers = {"content-type": "application/json"}
    # Without the response cache, so that every request executes.
    async with _app(seeded, settings, anonymous_rate_limit=2, response_cache=False) as (_, client):
        first = await client.post("/graphql", content=body, headers=headers)
        assert first.status_code == 200
        assert first.json()["data"]["b"] == {"slug": "stress-relief"}
        assert (await client.post("/graphql", content=body, headers=headers)).status_code == 200
        third = await client.post("/graphql", content=body, headers=headers)
        assert third.status_code == 429
        assert [e["path"] for e in third.json()["errors"]] in (
            [["a"], ["b"]],
            [["b"], ["a"]],
        )


async def test_a_keyed_escaped_read_counts_once_against_its_partner(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded, limit=2)
    async with _app(seeded, settings, anonymous_rate_limit=2) as (app, client):
        statuses = [(await _escaped(client, key)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        # The partner's requests spent nothing of this IP's keyless window.
        assert (await _escaped(client)).status_code == 200
        rows = await _usage(seeded, app)
        assert sorted(r for r in rows if r[0] == "acme") == [
            ("acme", "back-walk", benefit, 2) for benefit in BENEFITS
        ]
        assert _sorted([r for r in rows if r[0] is None]) == _counted(1)


async def test_queries_and_mutations_over_the_websocket_are_refused(
    seeded: AsyncEngine, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"webhooks_dispatch": False}))
    mutation = (
        'mutation { articlePublish(slug: "back-walk", expectedVersion: 1) { errors { code } } }'
    )
    with live_server(app) as url:
        async with Subscriber.connect(url) as subscriber:
            for id, query in (("1", '{ benefitSnippets(article: "back-walk") { slug } }'),
                              ("2", mutation)):  # fmt: skip
                await subscriber.subscribe(query, id=id)
                message: dict[str, Any] = await subscriber.receive()
                assert message["id"] == id
                assert message["type"] in ("next", "error")
                payload = message["payload"]
                errors = payload["errors"] if message["type"] == "next" else payload
                assert [e["extensions"]["code"] for e in errors] == ["OPERATION_NOT_OVER_WEBSOCKET"]
                if message["type"] == "next":
                    assert payload.get("data") is None
                    assert (await subscriber.receive())["type"] == "complete"
            # Subscriptions still work on the same connection.
            await subscriber.subscribe("subscription { contentChanged { slug } }", id="3")
            await wait_for_subscribers(url, 1)
    assert _sorted(await _usage(seeded, app)) == []

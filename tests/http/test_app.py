"""The HTTP surface: GraphiQL for people, GET and POST for clients, health and readiness."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.http import create_app
from cms.settings import Settings
from tests.conftest import without_cost

pytestmark = pytest.mark.anyio


async def test_a_browser_gets_graphiql(engine: AsyncEngine, client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_the_root_sends_people_to_graphiql(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get("/")
    assert (response.status_code, response.headers["location"]) == (307, "/graphql")


async def test_queries_work_over_get(seeded: AsyncEngine, client: httpx.AsyncClient) -> None:
    query = quote('{ article(slug: "back-walk") { title } }')
    response = await client.get(f"/graphql?query={query}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"article": {"title": "Back Walk Benefits"}}}


async def test_an_unexpected_error_is_masked(
    seeded: AsyncEngine, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms import reads

    async def explode(*_: object, **__: object) -> None:
        raise RuntimeError("secret detail /etc/passwd SELECT * FROM article")

    monkeypatch.setattr(reads, "articles_by_slugs", explode)
    response = await client.post("/graphql", json={"query": '{ article(slug: "x") { id } }'})
    (error,) = response.json()["errors"]
    assert error["message"] == "Internal server error."
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_health_and_readiness(engine: AsyncEngine, client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok"})


async def test_many_concurrent_requests_are_all_answered(
    seeded: AsyncEngine, settings: Settings
) -> None:
    """More requests at once than any pool has connections: none may wait on another forever
    (a blocking checkout on the event loop would stall them all)."""
    uncached = settings.model_copy(update={"response_cache": False})
    app = create_app(uncached, seeded)
    query = {"query": '{ article(slug: "back-walk") { benefits { title } precautions { title } } }'}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as c:
        responses = await asyncio.wait_for(
            asyncio.gather(*(c.post("/graphql", json=query) for _ in range(48))), timeout=60
        )
    assert {r.status_code for r in responses} == {200}
    assert all(len(r.json()["data"]["article"]["benefits"]) == 7 for r in responses)

"""CORS: wildcard for keyless reads of the public API, nothing for credentialed requests."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cms.access import Scope
from cms.http.cors import PublicCORS
from tests.conftest import TokenFactory

pytestmark = pytest.mark.anyio

PARTNER = "https://partner.example"
ORIGIN = {"Origin": PARTNER}
QUERY = {"query": '{ benefitSnippet(article: "back-walk", benefit: "stress-relief") { slug } }'}
EMBED = "http://cms.test/embed/back-walk/stress-relief"


async def test_keyless_reads_get_a_wildcard_origin(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    responses = [
        await client.get("/graphql", params=QUERY, headers=ORIGIN),
        await client.post("/graphql", json=QUERY, headers=ORIGIN),
        await client.get("/oembed", params={"url": EMBED}, headers=ORIGIN),
        await client.get("/embed.js", headers=ORIGIN),
        await client.get("/oembed", params={"url": "nope"}, headers=ORIGIN),  # errors too
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 400]
    for response in responses:
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


async def test_requests_with_credentials_get_no_cors_headers(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.READ_DRAFTS)
    authorized = await client.get(
        "/graphql", params=QUERY, headers={**ORIGIN, "Authorization": f"Bearer {token}"}
    )
    assert authorized.status_code == 200
    with_cookie = await client.get("/embed.js", headers={**ORIGIN, "Cookie": "session=x"})
    assert with_cookie.status_code == 200
    for response in (authorized, with_cookie):
        assert not [name for name in response.headers if name.startswith("access-control-")]


async def test_preflights_allow_get_and_post_with_content_type_and_partner_key(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    # On /graphql a preflight for a partner key is for the partner layer (see test_partners.py).
    asked = {"/graphql": "content-type", "/oembed": "content-type, x-partner-key",
             "/embed.js": "content-type, x-partner-key"}  # fmt: skip
    for path, requested_headers in asked.items():
        response = await client.options(
            path,
            headers={
                **ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": requested_headers,
            },
        )
        assert response.status_code == 204, path
        cors = {k: v for k, v in response.headers.items() if k.startswith("access-control-")}
        allowed = {h.strip().lower() for h in cors.pop("access-control-allow-headers").split(",")}
        assert {"content-type", "x-partner-key"} <= allowed
        assert cors == {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, POST",
            "access-control-max-age": "7200",
        }


async def test_other_routes_get_no_cors(engine: AsyncEngine, client: httpx.AsyncClient) -> None:
    page = await client.get("/embed/back-walk/stress-relief", headers=ORIGIN)
    health = await client.get("/healthz", headers=ORIGIN)
    preflight = await client.options(
        "/admin/login", headers={**ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    for response in (page, health, preflight):
        assert "access-control-allow-origin" not in response.headers
    assert preflight.status_code != 204


async def test_responses_vary_on_credentials_once_each(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    # Origin too: Starlette's CORSMiddleware answers a request with an Origin differently.
    query = await client.get("/graphql", params=QUERY, headers=ORIGIN)
    assert query.headers["vary"] == "Authorization, Accept, Origin, Cookie"
    script = await client.get("/embed.js", headers=ORIGIN)
    assert script.headers["vary"] == "Origin, Authorization, Cookie"


async def test_a_response_naming_its_own_origin_keeps_it() -> None:
    async def keyed(request: Request) -> Response:
        return PlainTextResponse("ok", headers={"Access-Control-Allow-Origin": PARTNER})

    app = PublicCORS(Starlette(routes=[Route("/graphql", keyed)]), partners_inside=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        response = await client.get("/graphql", headers={"X-Partner-Key": "pk", "Origin": PARTNER})
    assert response.headers.get_list("access-control-allow-origin") == [PARTNER]


async def test_a_hot_answer_made_without_origin_still_gets_cors_for_a_page(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    # The hot path keeps answers as they left; the CORS answer depends on the Origin.
    read = {"query": '{ article(slug: "back-walk") { title } }'}
    first = await client.get("/graphql", params=read)
    again = await client.get("/graphql", params=read)
    from_page = await client.get("/graphql", params=read, headers=ORIGIN)
    assert "access-control-allow-origin" not in first.headers
    assert "access-control-allow-origin" not in again.headers
    assert from_page.headers["access-control-allow-origin"] == "*"


async def test_a_refusal_of_a_large_body_can_be_read_by_the_page(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/graphql", content=b"x" * 2_000_000, headers={**ORIGIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == "*"

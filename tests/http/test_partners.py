"""Partner keys over HTTP: identification, CORS by origin, rate limits and usage counts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms import content, partners
from cms.db import Database, session_scope
from cms.http import create_app
from cms.http.policy import PolicyMiddleware, count_served
from cms.http.rate_limit import Limiter
from cms.models import ArticleStatus
from cms.settings import Settings
from cms.usage import UsageBuffer
from tests.conftest import without_cost
from tests.documents import article_document

pytestmark = pytest.mark.anyio

ACME = "https://acme.example"
SNIPPET = """
query Snippet($article: String!, $benefit: String!) {
  benefitSnippet(article: $article, benefit: $benefit) { slug title disclaimer }
}
"""
SNIPPETS = "query Snippets($article: String!) { benefitSnippets(article: $article) { slug } }"
ARTICLES = "{ articles(first: 1) { nodes { slug } } }"
STRESS = {"article": "back-walk", "benefit": "stress-relief"}


@asynccontextmanager
async def _app(
    engine: AsyncEngine, settings: Settings, **overrides: Any
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    # A client's window starts at its first request (`limits`' fixed window), so a test's
    # requests share one window unless the test outlasts a minute.
    app = create_app(settings.model_copy(update=overrides), engine)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield app, client
    finally:
        await app.state.limiter.close()


async def _partner(
    engine: AsyncEngine, name: str = "acme", *, origins: tuple[str, ...] = (ACME,), limit: int = 600
) -> str:
    async with session_scope(engine) as session:
        _, key = await partners.create_partner(
            session, name=name, origins=origins, rate_limit=limit
        )
    return key


async def _post(
    client: httpx.AsyncClient,
    query: str = SNIPPET,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    origin: str | None = None,
) -> httpx.Response:
    headers = {"X-Partner-Key": key} if key else {}
    if origin:
        headers["Origin"] = origin
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or STRESS}, headers=headers
    )


async def _usage(engine: AsyncEngine, app: Starlette) -> list[tuple[str | None, str, str, int]]:
    await app.state.usage.flush()
    async with session_scope(engine) as session:
        rows = await partners.usage_by_snippet(session)
    return [(r.partner, r.article_slug, r.benefit_slug, r.count) for r in rows]


async def test_a_partner_key_serves_snippets_and_counts_them_for_the_partner(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded)
    async with _app(seeded, settings) as (app, client):
        for _ in range(3):  # the second and third are answered from the response cache
            response = await _post(client, key=key)
            assert response.status_code == 200
            assert response.json()["data"]["benefitSnippet"]["slug"] == "stress-relief"
        await _post(client, SNIPPETS, {"article": "back-walk"}, key=key)
        assert await _usage(seeded, app) == [
            ("acme", "back-walk", "stress-relief", 4),
            ("acme", "back-walk", "detoxification", 1),
            ("acme", "back-walk", "emotional-release", 1),
            ("acme", "back-walk", "enhanced-energy-flow", 1),
            ("acme", "back-walk", "improved-circulation", 1),
            ("acme", "back-walk", "increased-flexibility", 1),
            ("acme", "back-walk", "pain-management", 1),
        ]
        # A second flush adds to the stored rows rather than writing new ones.
        await _post(client, key=key)
        assert (await _usage(seeded, app))[0] == ("acme", "back-walk", "stress-relief", 5)


async def test_keyless_snippets_are_counted_under_no_partner(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded)
    async with _app(seeded, settings) as (app, client):
        await _post(client)
        await _post(client)
        await _post(client, key=key)
        await _post(client, ARTICLES)
        assert await _usage(seeded, app) == [
            (None, "back-walk", "stress-relief", 2),
            ("acme", "back-walk", "stress-relief", 1),
        ]


async def test_an_unknown_or_revoked_key_is_refused_with_401(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded)
    async with _app(seeded, settings) as (app, client):
        unknown = await _post(client, key="cmsp_not-a-key")
        async with session_scope(seeded) as session:
            await partners.revoke_partner(session, name="acme")
        revoked = await _post(client, key=key)
        for response in (unknown, revoked):
            assert response.status_code == 401
            assert response.json() == {
                "errors": [
                    {
                        "message": "The partner key is unknown or revoked.",
                        "extensions": {"code": "INVALID_PARTNER_KEY"},
                    }
                ]
            }
            assert "access-control-allow-origin" not in response.headers  # no Origin: no browser
        # From a page, the refusal is readable, so its script can say what to fix.
        from_page = await _post(client, key="cmsp_not-a-key", origin="https://evil.example")
        assert from_page.status_code == 401
        assert from_page.headers.get_list("access-control-allow-origin") == ["https://evil.example"]
        assert "access-control-allow-credentials" not in from_page.headers
        assert await _usage(seeded, app) == []


async def test_an_allowed_origin_is_echoed_exactly_never_the_wildcard(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded, origins=(ACME, "https://shop.acme.example:8443"))
    async with _app(seeded, settings) as (_, client):
        for origin in (ACME, "https://shop.acme.example:8443"):
            response = await _post(client, key=key, origin=origin)
            assert response.status_code == 200
            assert response.headers.get_list("access-control-allow-origin") == [origin]
            assert response.headers["vary"] == "Authorization, Accept, Origin, X-Partner-Key"


async def test_a_keyed_request_from_another_origin_is_a_readable_403_without_content(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded)
    async with _app(seeded, settings) as (app, client):
        for origin in ("https://evil.example", "https://acme.example.evil.example", "null"):
            response = await _post(client, key=key, origin=origin)
            assert response.status_code == 403
            assert response.json() == {
                "errors": [
                    {
                        "message": f"This partner key is not allowed from {origin}.",
                        "extensions": {"code": "ORIGIN_NOT_ALLOWED"},
                    }
                ]
            }
            # Readable by the page's script (to name the fix), never with credentials.
            cors = {k: v for k, v in response.headers.items() if k.startswith("access-control-")}
            assert cors == {
                "access-control-allow-origin": origin,
                "access-control-expose-headers": "Retry-After, ETag",
            }
            assert "Origin, X-Partner-Key" in response.headers["vary"]
        assert await _usage(seeded, app) == []


async def test_a_keyed_request_without_origin_is_served_without_cors_headers(
    seeded: AsyncEngine, settings: Settings
) -> None:
    # Server-to-server: no browser, no Origin, nothing to allow.
    key = await _partner(seeded)
    async with _app(seeded, settings) as (_, client):
        response = await _post(client, key=key)
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_for_a_keyed_request_allows_the_key_header(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _app(seeded, settings) as (_, client):
        response = await client.options(
            "/graphql",
            headers={
                "Origin": ACME,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-partner-key",
            },
        )
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == ACME
        assert response.headers["access-control-allow-headers"] == "content-type, x-partner-key"
        assert response.headers["vary"] == "Origin"


async def test_a_partner_over_its_limit_gets_429_with_retry_after(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded, limit=3)
    other = await _partner(seeded, "globex", limit=3)
    async with _app(seeded, settings, anonymous_rate_limit=1000) as (app, client):
        statuses = [(await _post(client, key=key, origin=ACME)).status_code for _ in range(3)]
        refused = await _post(client, key=key, origin=ACME)
        assert statuses == [200, 200, 200]
        assert refused.status_code == 429
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 60
        # The same extensions as a refusal inside a GraphQL result (test_snippet_limits.py).
        assert refused.json()["errors"][0]["extensions"] == {
            "code": "RATE_LIMITED",
            "retryAfter": retry_after,
        }
        # The partner's page can read the refusal: it comes from its own origin.
        assert refused.headers["access-control-allow-origin"] == ACME
        # Each partner has its own window; keyless readers are not affected either.
        assert (await _post(client, key=other)).status_code == 200
        assert (await _post(client)).status_code == 200
        assert await _usage(seeded, app) == [
            ("acme", "back-walk", "stress-relief", 3),
            (None, "back-walk", "stress-relief", 1),
            ("globex", "back-walk", "stress-relief", 1),
        ]


async def test_keyless_snippet_reads_have_a_stricter_limit_per_client_ip(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded, limit=100)
    async with _app(seeded, settings, anonymous_rate_limit=2) as (_, client):
        statuses = [(await _post(client)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        get = await client.get(
            "/graphql", params={"query": '{ benefitSnippets(article: "x") { slug } }'}
        )
        assert get.status_code == 429
        assert "retry-after" in get.headers
        # Other reads are not snippet reads; a partner key has its own limit.
        assert [(await _post(client, ARTICLES)).status_code for _ in range(4)] == [200] * 4
        assert (await _post(client, key=key)).status_code == 200


async def test_another_client_ip_has_its_own_keyless_window(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _app(seeded, settings, anonymous_rate_limit=1) as (app, client):
        assert (await _post(client)).status_code == 200
        assert (await _post(client)).status_code == 429
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as second:
            assert (await _post(second)).status_code == 200


async def test_embed_routes_are_covered_by_key_checks_and_limits(
    seeded: AsyncEngine, settings: Settings
) -> None:
    # The embed pages are another module's; the checks apply by path prefix all the same.
    key = await _partner(seeded)
    async with _app(seeded, settings, anonymous_rate_limit=1) as (_, client):
        bad = await client.get("/embed/back-walk/stress-relief", params={"partner_key": "nope"})
        assert bad.status_code == 401
        refused = await client.get(
            "/embed/back-walk/stress-relief",
            params={"partner_key": key},
            headers={"Origin": "https://evil.example"},
        )
        assert refused.status_code == 403
        keyed = await client.get(
            "/embed/back-walk/stress-relief", params={"partner_key": key}, headers={"Origin": ACME}
        )
        assert keyed.status_code != 401 and keyed.status_code != 403
        assert keyed.headers["access-control-allow-origin"] == ACME
        first = await client.get("/embed/back-walk/stress-relief")
        second = await client.get("/embed/back-walk/stress-relief")
        assert first.status_code != 429
        assert second.status_code == 429


async def test_a_partner_sees_only_published_snippets(
    engine: AsyncEngine, settings: Settings
) -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(
            session, article_document(slug="open", draft_benefit=True)
        )
        await content.save_article_document(
            session, article_document(slug="closed", status=ArticleStatus.DRAFT)
        )
    key = await _partner(engine)
    async with _app(engine, settings) as (app, client):
        drafts = await _post(client, SNIPPETS, {"article": "open"}, key=key)
        assert without_cost(drafts.json()) == {
            "data": {"benefitSnippets": [{"slug": "public-benefit"}]}
        }
        hidden = await _post(
            client, SNIPPET, {"article": "open", "benefit": "draft-benefit"}, key=key
        )
        unpublished = await _post(client, SNIPPETS, {"article": "closed"}, key=key)
        assert without_cost(hidden.json()) == {"data": {"benefitSnippet": None}}
        assert without_cost(unpublished.json()) == {"data": {"benefitSnippets": []}}
        assert await _usage(engine, app) == [("acme", "open", "public-benefit", 1)]


def _redis_url() -> str:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    return url


async def test_with_redis_the_limit_holds_across_workers(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded, limit=3)
    shared = {"redis_url": _redis_url(), "redis_prefix": f"test-{uuid.uuid4().hex}"}
    async with (
        _app(seeded, settings, **shared) as (_, first),
        _app(seeded, settings, **shared) as (_, second),
    ):
        # Two apps with their own limiter each, as two worker processes have.
        statuses = [(await _post(client, key=key)).status_code
                    for client in (first, second, first, second)]  # fmt: skip
        assert statuses == [200, 200, 200, 429]
        refused = await _post(first, key=key)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_an_unreachable_redis_lets_requests_through(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded, limit=1)
    async with _app(seeded, settings, redis_url="redis://127.0.0.1:1/0") as (_, client):
        assert [(await _post(client, key=key)).status_code for _ in range(2)] == [200, 200]


async def test_a_keyed_response_never_keeps_an_inner_wildcard_and_embed_servings_count(
    seeded: AsyncEngine, database: Database
) -> None:
    # A stand-in for the embed routes, which answer every request with the public wildcard.
    async def embed(request: Request) -> Response:
        count_served(request.scope, "back-walk", request.path_params["benefit"])
        return Response("<p>snippet</p>", headers={"Access-Control-Allow-Origin": "*"})

    key = await _partner(seeded)
    usage = UsageBuffer(seeded)
    app = Starlette(
        routes=[Route("/embed/back-walk/{benefit}", embed)],
        middleware=[
            Middleware(
                PolicyMiddleware,
                database=database,
                usage=usage,
                anonymous_rate_limit=100,
                limiter=Limiter(),
                key_in_query=True,
                limit_every_request=True,
            )
        ],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        keyed = await client.get(
            "/embed/back-walk/detoxification", params={"partner_key": key}, headers={"Origin": ACME}
        )
        keyless = await client.get("/embed/back-walk/detoxification", headers={"Origin": ACME})
    assert keyed.headers.get_list("access-control-allow-origin") == [ACME]
    assert keyless.headers.get_list("access-control-allow-origin") == ["*"]
    await usage.flush()
    async with session_scope(seeded) as session:
        rows = await partners.usage_by_snippet(session)
    assert [(r.partner, r.benefit_slug, r.count) for r in rows] == [
        (None, "detoxification", 1),
        ("acme", "detoxification", 1),
    ]


async def test_embed_pages_are_counted_in_partner_usage(
    seeded: AsyncEngine, settings: Settings
) -> None:
    key = await _partner(seeded)
    async with _app(seeded, settings) as (app, client):
        for _ in range(3):  # the second and third pages come from the page cache
            keyed = await client.get(
                "/embed/back-walk/stress-relief",
                params={"partner_key": key},
                headers={"Origin": ACME},
            )
            assert keyed.status_code == 200
        keyless = await client.get("/embed/back-walk/detoxification")
        assert keyless.status_code == 200
        missing = await client.get("/embed/back-walk/no-such-benefit")
        assert missing.status_code == 404
        assert await _usage(seeded, app) == [
            ("acme", "back-walk", "stress-relief", 3),
            (None, "back-walk", "detoxification", 1),
        ]

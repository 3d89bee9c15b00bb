"""Caching that is never wrong: the response cache, ETags, Cache-Control, persisted queries."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.models import ArticleStatus
from cms.seed import seed_database
from tests.conftest import SEED_DIR, TokenFactory

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title status benefits { slug title } } }'
LIST = "{ articles { totalCount nodes { slug } } }"


def _mutation(body: str) -> str:
    return "mutation { " + body + " { errors { code } } }"


async def _post(
    client: httpx.AsyncClient, query: str, token: str | None = None, **headers: str
) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def _data(client: httpx.AsyncClient, query: str, token: str | None = None) -> Any:
    response = await _post(client, query, token)
    assert response.status_code == 200, response.text
    return response.json()["data"]


# An edit of the published article waits in its pending version: publishing it is the write the
# public sees (the two run in order, in one request).
WRITES = {
    "update": 'benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: 1, '
    'input: {title: "Calm"}) { errors { code } } '
    'articlePublish(slug: "back-walk", expectedVersion: 2)',
    "unpublish": 'articleUnpublish(slug: "back-walk", expectedVersion: 1)',
    "delete": 'articleDelete(slug: "back-walk", expectedVersion: 1)',
    "archive": 'articleArchive(slug: "back-walk", expectedVersion: 1)',
}


@pytest.mark.parametrize("write", sorted(WRITES))
async def test_the_next_read_after_any_write_is_fresh(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory, write: str
) -> None:
    before = await _data(client, READ)
    assert await _data(client, READ) == before  # now from the cache
    listing = await _data(client, LIST)
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    assert (await _post(client, _mutation(WRITES[write]), token)).json()["data"] is not None
    after = await _data(client, READ)
    assert after != before
    if write == "update":
        assert after["article"]["benefits"][0]["title"] == "Calm"
    else:
        assert after["article"] is None
        assert (await _data(client, LIST)) != listing


async def test_a_publication_is_visible_on_the_next_read(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.PUBLISH)
    await _post(client, _mutation(WRITES["unpublish"]), token)
    assert (await _data(client, READ))["article"] is None
    await _post(client, _mutation('articlePublish(slug: "back-walk", expectedVersion: 2)'), token)
    assert (await _data(client, READ))["article"]["status"] == "PUBLISHED"


async def test_a_write_from_outside_the_server_is_seen_at_once(
    seeded: AsyncEngine, client: httpx.AsyncClient, tmp_path: Any
) -> None:
    """A `cms seed` run by another process changes the content revision the cache keys on."""
    before = await _data(client, READ)
    edited = tmp_path / "back-walk.yaml"
    edited.write_text(
        (SEED_DIR / "back-walk.yaml")
        .read_text("utf-8")
        .replace("title: Stress Relief", "title: Ease")
    )
    await seed_database(seeded, [edited])
    after = await _data(client, READ)
    assert (
        after["article"]["benefits"][0]["title"]
        == "Ease"
        != before["article"]["benefits"][0]["title"]
    )


async def test_a_preview_never_fills_the_public_cache(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    async with session_scope(seeded) as session:
        current = await content.get_article_document(session, slug="back-walk")
        assert current is not None
        draft = current.model_copy(update={"status": ArticleStatus.DRAFT})
        await content.save_article_document(session, draft)
    preview = await make_token(Scope.READ_DRAFTS)
    assert (await _data(client, READ, preview))["article"]["status"] == "DRAFT"
    assert (await _data(client, READ))["article"] is None
    assert (await _data(client, READ, preview))["article"]["status"] == "DRAFT"


async def test_an_unchanged_response_revalidates_with_304(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    first = await client.get("/graphql", params={"query": READ})
    etag = first.headers["etag"]
    again = await client.get("/graphql", params={"query": READ}, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)

    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await _post(client, _mutation(WRITES["update"]), token)
    changed = await client.get("/graphql", params={"query": READ}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_cache_control_lets_cdns_keep_public_gets_only(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    public = await client.get("/graphql", params={"query": READ})
    assert public.headers["cache-control"] == "public, max-age=0"
    token = await make_token(Scope.READ_DRAFTS)
    private = await client.get(
        "/graphql", params={"query": READ}, headers={"Authorization": f"Bearer {token}"}
    )
    assert private.headers["cache-control"] == "private, no-store"
    assert "Authorization" in public.headers["vary"]


async def test_errors_are_never_cached(seeded: AsyncEngine, client: httpx.AsyncClient) -> None:
    bad = "{ articles(first: 1000) { totalCount } }"
    first = await _post(client, bad)
    assert first.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "etag" not in first.headers


def _apq(query: str | None, digest: str) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


async def test_automatic_persisted_queries(seeded: AsyncEngine, client: httpx.AsyncClient) -> None:
    digest = hashlib.sha256(READ.encode()).hexdigest()
    unknown = (await client.post("/graphql", json=_apq(None, digest))).json()
    assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = (await client.post("/graphql", json=_apq(READ, digest))).json()
    assert registered["data"]["article"]["title"] == "Back Walk Benefits"

    extensions = orjson.dumps(_apq(None, digest)["extensions"]).decode()
    by_url = await client.get("/graphql", params={"extensions": extensions})
    assert by_url.json() == registered
    assert by_url.headers["cache-control"] == "public, max-age=0"


async def test_a_persisted_query_with_a_wrong_hash_is_refused(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    body = (await client.post("/graphql", json=_apq(READ, "0" * 64))).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    digest = hashlib.sha256(READ.encode()).hexdigest()
    still_unknown = (await client.post("/graphql", json=_apq(None, digest))).json()
    assert still_unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_scheduled_publication_is_served_once_it_comes_due(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    """Nothing is written when the time comes; the caches notice the clock passing it."""
    token = await make_token(Scope.PUBLISH)
    unpublished = await _post(
        client, _mutation('articleUnpublish(slug: "back-walk", expectedVersion: 1)'), token
    )
    assert unpublished.json()["data"]["articleUnpublish"]["errors"] == []
    # Far enough ahead that the reads below come before it even on a busy machine.
    due = datetime.now(UTC) + timedelta(seconds=3)
    schedule = (
        f'articlePublish(slug: "back-walk", expectedVersion: 2, publishAt: "{due.isoformat()}")'
    )
    scheduled = await _post(client, _mutation(schedule), token)
    assert scheduled.json()["data"]["articlePublish"]["errors"] == []
    for _ in range(3):  # the full path, then the response cache and the hot path
        assert (await _data(client, READ))["article"] is None
    await anyio.sleep((due - datetime.now(UTC)).total_seconds() + 0.1)
    assert (await _data(client, READ))["article"]["title"] == "Back Walk Benefits"


async def test_an_expiry_is_served_once_it_comes_due(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    """Nothing is written when the time comes; the caches notice the clock passing it."""
    token = await make_token(Scope.PUBLISH)
    # Far enough ahead that the reads below come before it even on a busy machine.
    due = datetime.now(UTC) + timedelta(seconds=3)
    expire = (
        f'articlePublish(slug: "back-walk", expectedVersion: 1, unpublishAt: "{due.isoformat()}")'
    )
    assert (await _post(client, _mutation(expire), token)).json()["data"]["articlePublish"][
        "errors"
    ] == []
    for _ in range(3):  # the full path, then the response cache and the hot path
        assert (await _data(client, READ))["article"]["title"] == "Back Walk Benefits"
    await anyio.sleep((due - datetime.now(UTC)).total_seconds() + 0.1)
    assert (await _data(client, READ))["article"] is None

"""Renames keep links working: the old slug of an article or a benefit stays an alias, for the
embed page (301 to the address now), oEmbed, GraphQL and the change feed, and cannot be reused.
A benefit renamed in a published article's pending version keeps its live slug (and the aliases
leading to it) until the rename is published."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms.access import Scope
from cms.db import session_scope
from cms.models import OutboxEvent
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

PAYLOAD = "article { slug version benefits { slug } } errors { field code message }"
RENAME = f"""
mutation Rename($slug: String!, $new: String!, $v: Int!) {{
  articleRename(slug: $slug, newSlug: $new, expectedVersion: $v) {{ {PAYLOAD} }}
}}
"""
BENEFIT_RENAME = f"""
mutation Rename($v: Int!, $old: String!, $new: String!) {{
  benefitUpdate(article: "back-walk", slug: $old, expectedVersion: $v, input: {{slug: $new}}) {{
    {PAYLOAD}
  }}
}}
"""
BENEFIT_ADD = f"""
mutation Add($article: String!, $v: Int!, $slug: String!) {{
  benefitAdd(article: $article, expectedVersion: $v,
             input: {{slug: $slug, title: "New", body: "New."}}) {{ {PAYLOAD} }}
}}
"""
ARTICLE_CREATE = f"""
mutation Create($slug: String!) {{
  articleCreate(input: {{slug: $slug, title: "T", author: {{slug: "penci"}}}}) {{ {PAYLOAD} }}
}}
"""
SNIPPET = """
query Snippet($article: String!, $benefit: String!) {
  benefitSnippet(article: $article, benefit: $benefit) { slug article { slug } }
  article(slug: $article) { slug }
}
"""
PUBLISH = """
mutation Publish($v: Int!) {
  articlePublish(slug: "back-walk", expectedVersion: $v) { errors { field code message } }
}
"""
DISCARD = """
mutation Discard($v: Int!) {
  articleDiscardPendingChanges(slug: "back-walk", expectedVersion: $v) { errors { code } }
}
"""
CHANGES = "{ changes { nodes { type slug rename { kind oldSlug newSlug } } } }"


def _ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    assert result["errors"] == [], result
    return result


async def _rename_benefit(
    graphql: GraphQL, token: str, old: str = "detoxification", new: str = "lymph-support",
    *, v: int = 1, publish: bool = True,
) -> int:  # fmt: skip
    """Rename a benefit of the published back-walk (in its pending version) and, unless told
    not to, publish the rename: the article's version afterwards."""
    variables = {"v": v, "old": old, "new": new}
    saved = _ok(await graphql(BENEFIT_RENAME, variables, token=token), "benefitUpdate")
    version: int = saved["article"]["version"]
    if not publish:
        return version
    body = await graphql(PUBLISH, {"v": version}, token=token)
    assert body == {"data": {"articlePublish": {"errors": []}}}, body
    return version + 1


async def _renamed_events(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with session_scope(engine) as session:
        statement = (
            select(OutboxEvent)
            .where(OutboxEvent.event_type == "article.renamed")
            .order_by(col(OutboxEvent.revision))
        )
        return [event.payload for event in (await session.exec(statement)).all()]


async def test_a_renamed_benefit_keeps_its_embed_address_as_a_redirect(
    seeded: AsyncEngine, graphql: GraphQL, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await _rename_benefit(graphql, token, publish=False)
    # Pending: the public still reads the benefit under its live slug, and nothing else.
    assert (await client.get("/embed/back-walk/detoxification?theme=dark")).status_code == 200
    assert (await client.get("/embed/back-walk/lymph-support")).status_code == 404
    body = await graphql(PUBLISH, {"v": 2}, token=token)
    assert body == {"data": {"articlePublish": {"errors": []}}}, body
    response = await client.get("/embed/back-walk/detoxification?theme=dark")
    assert response.status_code == 301
    assert response.headers["location"] == (
        "http://cms.test/embed/back-walk/lymph-support?theme=dark"
    )
    assert (await client.get(response.headers["location"])).status_code == 200
    assert (await client.get("/embed/back-walk/no-such-benefit")).status_code == 404


async def test_oembed_answers_for_an_old_url_with_the_canonical_one(
    seeded: AsyncEngine, graphql: GraphQL, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    v = await _rename_benefit(graphql, token)
    _ok(await graphql(RENAME, {"slug": "back-walk", "new": "back-walking", "v": v}, token=token),
        "articleRename")  # fmt: skip
    old = "http://cms.test/embed/back-walk/detoxification"
    response = await client.get("/oembed", params={"url": old})
    assert response.status_code == 200, response.text
    assert 'src="http://cms.test/embed/back-walking/lymph-support"' in response.json()["html"]
    embed = await client.get("/embed/back-walk/detoxification")
    assert embed.headers["location"] == "http://cms.test/embed/back-walking/lymph-support"


async def test_graphql_resolves_old_slugs_to_the_canonical_ones(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    v = await _rename_benefit(graphql, token)
    _ok(await graphql(RENAME, {"slug": "back-walk", "new": "back-walking", "v": v}, token=token),
        "articleRename")  # fmt: skip
    body = await graphql(SNIPPET, {"article": "back-walk", "benefit": "detoxification"})
    assert "errors" not in body, body
    assert body["data"] == {
        "benefitSnippet": {"slug": "lymph-support", "article": {"slug": "back-walking"}},
        "article": {"slug": "back-walking"},
    }
    body = await graphql(SNIPPET, {"article": "nothing", "benefit": "detoxification"})
    assert body["data"] == {"benefitSnippet": None, "article": None}


async def test_a_pending_benefit_rename_is_announced_when_published(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await _rename_benefit(graphql, token, publish=False)
    nodes = (await graphql(CHANGES))["data"]["changes"]["nodes"]
    assert [node for node in nodes if node["type"] == "RENAMED"] == []
    assert await _renamed_events(seeded) == []
    body = await graphql(PUBLISH, {"v": 2}, token=token)
    assert body == {"data": {"articlePublish": {"errors": []}}}, body
    assert [payload["rename"] for payload in await _renamed_events(seeded)] == [
        {"kind": "benefit", "old_slug": "detoxification", "new_slug": "lymph-support"}
    ]


async def test_the_change_feed_reports_renames(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    v = await _rename_benefit(graphql, token)
    _ok(await graphql(RENAME, {"slug": "back-walk", "new": "back-walking", "v": v}, token=token),
        "articleRename")  # fmt: skip
    nodes = (await graphql(CHANGES))["data"]["changes"]["nodes"]
    assert nodes[-3:] == [
        {"type": "UPDATED", "slug": "back-walk", "rename": None},
        {
            "type": "RENAMED",
            "slug": "back-walk",
            "rename": {"kind": "benefit", "oldSlug": "detoxification", "newSlug": "lymph-support"},
        },
        {
            "type": "RENAMED",
            "slug": "back-walking",
            "rename": {"kind": "article", "oldSlug": "back-walk", "newSlug": "back-walking"},
        },
    ]
    # Webhooks send the outbox payload: the event type and the rename are in it.
    payloads = await _renamed_events(seeded)
    assert [(p["event"], p["article"]["slug"], p["rename"]) for p in payloads] == [
        ("article.renamed", "back-walk",
         {"kind": "benefit", "old_slug": "detoxification", "new_slug": "lymph-support"}),
        ("article.renamed", "back-walking",
         {"kind": "article", "old_slug": "back-walk", "new_slug": "back-walking"}),
    ]  # fmt: skip


async def test_an_old_slug_cannot_be_reused(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    # Refused in the pending version that renames the benefit, and once it is published.
    await _rename_benefit(graphql, token, publish=False)
    body = await graphql(
        BENEFIT_ADD, {"article": "back-walk", "v": 2, "slug": "detoxification"}, token=token
    )
    assert [e["code"] for e in body["data"]["benefitAdd"]["errors"]] == ["SLUG_IS_ALIAS"]
    assert await graphql(PUBLISH, {"v": 2}, token=token) == {
        "data": {"articlePublish": {"errors": []}}
    }
    body = await graphql(
        BENEFIT_ADD, {"article": "back-walk", "v": 3, "slug": "detoxification"}, token=token
    )
    assert [e["code"] for e in body["data"]["benefitAdd"]["errors"]] == ["SLUG_IS_ALIAS"]
    _ok(await graphql(RENAME, {"slug": "back-walk", "new": "back-walking", "v": 3}, token=token),
        "articleRename")  # fmt: skip
    body = await graphql(ARTICLE_CREATE, {"slug": "back-walk"}, token=token)
    errors = body["data"]["articleCreate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("input.slug", "SLUG_IS_ALIAS")]
    assert "old slug of article 'back-walking'" in errors[0]["message"]
    _ok(await graphql(ARTICLE_CREATE, {"slug": "other"}, token=token), "articleCreate")
    body = await graphql(RENAME, {"slug": "other", "new": "back-walk", "v": 1}, token=token)
    assert [(e["field"], e["code"]) for e in body["data"]["articleRename"]["errors"]] == [
        ("newSlug", "SLUG_IS_ALIAS")
    ]


async def test_an_article_may_take_back_its_old_slug(
    seeded: AsyncEngine, graphql: GraphQL, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    # Renaming the published article changes its public URLs at once: a publishing act.
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    _ok(await graphql(RENAME, {"slug": "back-walk", "new": "back-walking", "v": 1}, token=token),
        "articleRename")  # fmt: skip
    result = _ok(
        await graphql(RENAME, {"slug": "back-walking", "new": "back-walk", "v": 2}, token=token),
        "articleRename",
    )
    assert result["article"]["slug"] == "back-walk"
    assert (await client.get("/embed/back-walk/stress-relief")).status_code == 200
    redirect = await client.get("/embed/back-walking/stress-relief")
    assert redirect.headers["location"] == "http://cms.test/embed/back-walk/stress-relief"


async def test_only_a_slug_not_found_looks_up_aliases(
    seeded: AsyncEngine,
    graphql: GraphQL,
    client: httpx.AsyncClient,
    make_token: TokenFactory,
    sql_statements: list[str],
) -> None:
    await _rename_benefit(graphql, await make_token(Scope.WRITE, Scope.PUBLISH))
    sql_statements.clear()
    body = await graphql(SNIPPET, {"article": "back-walk", "benefit": "lymph-support"})
    assert body["data"]["benefitSnippet"]["slug"] == "lymph-support"
    assert (await client.get("/embed/back-walk/lymph-support")).status_code == 200
    assert [s for s in sql_statements if "slug_alias" in s] == []
    await graphql(SNIPPET, {"article": "back-walk", "benefit": "detoxification"})
    assert len([s for s in sql_statements if "slug_alias" in s]) == 1


async def test_a_pending_rename_leaves_the_live_aliases_alone_until_published(
    seeded: AsyncEngine, graphql: GraphQL, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    v = await _rename_benefit(graphql, token)
    # Renamed again, twice, in the pending version: the live slug and its alias stay as they are.
    v = await _rename_benefit(graphql, token, "lymph-support", "drainage", v=v, publish=False)
    v = await _rename_benefit(graphql, token, "drainage", "lymph-flow", v=v, publish=False)
    old = await client.get("/embed/back-walk/detoxification")
    assert old.headers["location"] == "http://cms.test/embed/back-walk/lymph-support"
    assert (await client.get("/embed/back-walk/lymph-support")).status_code == 200
    assert (await client.get("/embed/back-walk/drainage")).status_code == 404
    body = await graphql(PUBLISH, {"v": v}, token=token)
    assert body == {"data": {"articlePublish": {"errors": []}}}, body
    for slug in ("detoxification", "lymph-support"):
        moved = await client.get(f"/embed/back-walk/{slug}")
        assert moved.headers["location"] == "http://cms.test/embed/back-walk/lymph-flow", slug
    assert (await client.get("/embed/back-walk/drainage")).status_code == 404
    assert [payload["rename"]["new_slug"] for payload in await _renamed_events(seeded)] == [
        "lymph-support",
        "lymph-flow",
    ]


async def test_a_discarded_rename_leaves_the_benefit_free_to_be_renamed_again(
    seeded: AsyncEngine, graphql: GraphQL, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    v = await _rename_benefit(graphql, token, publish=False)
    assert await graphql(DISCARD, {"v": v}, token=token) == {
        "data": {"articleDiscardPendingChanges": {"errors": []}}
    }
    # Discarded: the article is at its live version again.
    v = await _rename_benefit(graphql, token, new="cleansing", v=1)
    moved = await client.get("/embed/back-walk/detoxification")
    assert moved.headers["location"] == "http://cms.test/embed/back-walk/cleansing"
    assert (await client.get("/embed/back-walk/lymph-support")).status_code == 404

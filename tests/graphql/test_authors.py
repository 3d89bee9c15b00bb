"""Authors as their own entity: an article references its author and never changes it; only
`authorCreate` and `authorUpdate` do, and an update reaches every byline with a new version, a
revision and a change event."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from cms.access import Scope
from cms.db import session_scope
from cms.models import OutboxEvent
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

ARTICLE_CREATE = """
mutation Create($input: ArticleInput!) {
  articleCreate(input: $input) {
    article { slug author { slug name bio } }
    errors { field code message }
  }
}
"""
AUTHOR_CREATE = """
mutation Create($input: AuthorCreateInput!) {
  authorCreate(input: $input) { author { slug name version } errors { field code } }
}
"""
AUTHOR_UPDATE = """
mutation Update($slug: String!, $v: Int!, $input: AuthorUpdateInput!) {
  authorUpdate(slug: $slug, expectedVersion: $v, input: $input) {
    author { slug name bio version }
    affectedArticles { slug version }
    errors { field code currentVersion }
  }
}
"""
BYLINE = """{
  article(slug: "back-walk") { version author { name version } revisions { version action } }
  benefitSnippet(article: "back-walk", benefit: "stress-relief") { article { authorName } }
}"""
AUTHORS = """{
  authors { slug name version } author(slug: "penci") { name } nobody: author(slug: "x") { name }
}"""
CHANGES = "{ changes { nodes { type slug } } }"
NEW = {
    "slug": "cupping",
    "title": "Cupping",
    "benefits": [{"slug": "relief", "title": "Relief", "body": "It may relieve."}],
}


async def _events(engine: AsyncEngine) -> int:
    async with session_scope(engine) as session:
        return int((await session.exec(select(func.count()).select_from(OutboxEvent))).one())


async def _byline(graphql: GraphQL, token: str) -> dict[str, Any]:
    body = await graphql(BYLINE, token=token)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_a_draft_cannot_rewrite_a_published_byline(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    before, events = await _byline(graphql, token), await _events(seeded)
    author = {"slug": "penci", "name": "Mallory", "bio": ""}
    body = await graphql(ARTICLE_CREATE, {"input": {**NEW, "author": author}}, token=token)
    result = body["data"]["articleCreate"]
    assert result["article"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("input.author.name", "INVALID")]
    assert await _byline(graphql, token) == before
    assert await _events(seeded) == events


async def test_an_article_references_its_author_by_slug(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    before = await _byline(graphql, token)
    body = await graphql(
        ARTICLE_CREATE, {"input": {**NEW, "author": {"slug": "penci"}}}, token=token
    )
    article = body["data"]["articleCreate"]["article"]
    assert article["author"]["name"] == "Penci"
    assert article["author"]["bio"].startswith("Hey there.")
    assert await _byline(graphql, token) == before


async def test_an_unknown_author_is_refused(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    author = {"slug": "mallory", "name": "Mallory"}
    body = await graphql(ARTICLE_CREATE, {"input": {**NEW, "author": author}}, token=token)
    assert [(e["field"], e["code"]) for e in body["data"]["articleCreate"]["errors"]] == [
        ("input.author.slug", "INVALID")
    ]


async def test_an_author_update_reaches_every_byline_with_a_revision_and_an_event(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    events = await _events(seeded)
    body = await graphql(
        AUTHOR_UPDATE,
        {"slug": "penci", "v": 1, "input": {"name": "Penci Sharma"}},
        token=token,
    )
    result = body["data"]["authorUpdate"]
    assert result["errors"] == []
    assert result["author"]["name"] == "Penci Sharma"
    assert result["author"]["version"] == 2
    assert result["author"]["bio"].startswith("Hey there.")
    assert result["affectedArticles"] == [{"slug": "back-walk", "version": 2}]
    byline = await _byline(graphql, token)
    assert byline["article"]["author"] == {"name": "Penci Sharma", "version": 2}
    assert byline["article"]["revisions"][0] == {"version": 2, "action": "author updated"}
    assert byline["benefitSnippet"] == {"article": {"authorName": "Penci Sharma"}}
    assert await _events(seeded) == events + 1
    nodes = (await graphql(CHANGES))["data"]["changes"]["nodes"]
    assert nodes[-1] == {"type": "UPDATED", "slug": "back-walk"}


async def test_changing_a_public_byline_needs_the_publish_scope(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    writer = await make_token(Scope.WRITE)
    before = await _byline(graphql, writer)
    body = await graphql(
        AUTHOR_UPDATE, {"slug": "penci", "v": 1, "input": {"name": "Mallory"}}, token=writer
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await _byline(graphql, writer) == before


async def test_an_author_update_from_a_stale_version_conflicts(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.PUBLISH, Scope.WRITE)
    variables = {"slug": "penci", "v": 1, "input": {"name": "One"}}
    assert (await graphql(AUTHOR_UPDATE, variables, token=token))["data"]["authorUpdate"][
        "errors"
    ] == []
    body = await graphql(AUTHOR_UPDATE, {**variables, "input": {"name": "Two"}}, token=token)
    assert body["data"]["authorUpdate"]["errors"] == [
        {"field": "expectedVersion", "code": "CONFLICT", "currentVersion": 2}
    ]
    assert (await _byline(graphql, token))["article"]["author"]["name"] == "One"


async def test_an_author_without_articles_is_created_and_changed_with_the_write_scope(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    input = {"slug": "mallory", "name": "Mallory"}
    body = await graphql(AUTHOR_CREATE, {"input": input}, token=token)
    assert body["data"]["authorCreate"] == {
        "author": {"slug": "mallory", "name": "Mallory", "version": 1},
        "errors": [],
    }
    again = await graphql(AUTHOR_CREATE, {"input": input}, token=token)
    assert again["data"]["authorCreate"]["errors"] == [{"field": "input.slug", "code": "INVALID"}]
    body = await graphql(
        AUTHOR_UPDATE, {"slug": "mallory", "v": 1, "input": {"bio": "Writes."}}, token=token
    )
    assert body["data"]["authorUpdate"]["affectedArticles"] == []
    assert body["data"]["authorUpdate"]["author"]["version"] == 2
    listed = (await graphql(AUTHORS))["data"]
    assert listed == {
        "authors": [
            {"slug": "mallory", "name": "Mallory", "version": 2},
            {"slug": "penci", "name": "Penci", "version": 1},
        ],
        "author": {"name": "Penci"},
        "nobody": None,
    }

"""Reads cost a constant number of SQL statements, whatever the number of children or articles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import Database, session_scope
from cms.http import create_app
from cms.settings import Settings
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document

pytestmark = pytest.mark.anyio

HOT_QUERY = """
query Hot($slug: String!) {
  article(slug: $slug) {
    title headline intro(format: HTML)
    author { name bio }
    sections { title kind body(format: HTML) }
    benefits { title body(format: HTML) }
    nutritionTips { kind title body(format: HTML) }
    precautions { title body(format: HTML) }
    conclusion { title body(format: HTML) }
  }
}
"""

LIST_QUERY = """
query List($first: Int!) {
  articles(first: $first) {
    totalCount
    nodes { slug author { name } benefits { title } precautions { title } sections { title }
            nutritionTips { title } }
  }
}
"""


async def _save_articles(engine: AsyncEngine, count: int, benefit_count: int) -> None:
    async with session_scope(engine) as session:
        for n in range(count):
            document = article_document(slug=f"a-{n:03d}", benefit_count=benefit_count)
            await content.save_article_document(session, document)


@pytest.mark.parametrize("benefit_count", [1, 40])
async def test_one_article_with_all_children_takes_a_constant_number_of_statements_then_none(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], benefit_count: int
) -> None:
    await _save_articles(engine, 1, benefit_count)
    sql_statements.clear()
    body = await graphql(HOT_QUERY, {"slug": "a-000"})
    assert len(body["data"]["article"]["benefits"]) == benefit_count
    # content revision, next scheduled publication (read once after each write), then the
    # article with its author and items in one statement
    assert len(sql_statements) == 3, sql_statements
    sql_statements.clear()
    assert await graphql(HOT_QUERY, {"slug": "a-000"}) == body
    # Answered from the response cache. PostgreSQL reads the content revision; SQLite knows it
    # is unchanged from `PRAGMA data_version`, which is no statement of ours.
    assert len(sql_statements) == (0 if engine.dialect.name == "sqlite" else 1), sql_statements


@pytest.mark.parametrize("article_count", [1, 25])
async def test_a_page_of_articles_with_children_takes_a_constant_number_of_statements(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], article_count: int
) -> None:
    await _save_articles(engine, article_count, 3)
    sql_statements.clear()
    body = await graphql(LIST_QUERY, {"first": 100})
    assert len(body["data"]["articles"]["nodes"]) == article_count
    # content revision, next scheduled publication (read once after each write), then the page
    # with its count, authors and items in one statement
    assert len(sql_statements) == 3, sql_statements


BENEFIT_UPDATE = """
mutation Edit($version: Int!) {
  benefitUpdate(
    article: "back-walk", slug: "stress-relief", expectedVersion: $version,
    input: {title: "Less Stress"}
  ) {
    article { version }
    errors { field message }
  }
}
"""


async def test_a_one_field_edit_takes_twelve_statements(
    seeded: AsyncEngine,
    graphql: GraphQL,
    make_token: TokenFactory,
    sql_statements: list[str],
) -> None:
    from cms.access import Scope

    token = await make_token(Scope.WRITE)
    version = (await graphql('{ article(slug: "back-walk") { version } }', token=token))["data"][
        "article"
    ]["version"]
    sql_statements.clear()
    body = await graphql(BENEFIT_UPDATE, {"version": version}, token=token)
    assert body["data"]["benefitUpdate"] == {"article": {"version": version + 1}, "errors": []}
    # The edit waits in the article's pending version, whose search documents editors search:
    # one statement writes them (one per changed part on later edits).
    assert len(sql_statements) == 12, "\n".join(sql_statements)


async def _metric(client: httpx.AsyncClient, name: str) -> float:
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} metric")


# The statements of one uncached request: Strawberry's (its loaders), then the compiled path's
# (each root field with what it needs, in one statement).
@pytest.mark.parametrize(("query", "variables", "strawberry", "compiled_path"), [
    # article, author, every item of every kind
    (HOT_QUERY, {"slug": "a-000"}, 3, 1),
    # page, count, authors, every item of every kind
    (LIST_QUERY, {"first": 100}, 4, 1),
    # the same and the article's translations (`availableLocales`)
    ('{ article(slug: "a-000", locale: "de") { title availableLocales author { name } '
     "benefits { title } } }", None, 4, 1),
    # a page after a cursor: the page, and whether there are articles before the cursor
    ('{ articles(first: 2, after: "djE6c2x1ZzphLTAwMA") { pageInfo { hasPreviousPage } '
     "nodes { slug author { name } precautions { title } } } }", None, 4, 2),
    # two root fields: one statement each
    ('{ a: article(slug: "a-000") { title author { name } } '
     'b: article(slug: "a-001") { sections { title } } }', None, 3, 2),
])  # fmt: skip
async def test_the_compiled_path_reads_no_more_than_strawberry(
    database: Database,
    settings: Settings,
    sql_statements: list[str],
    query: str,
    variables: dict[str, Any] | None,
    strawberry: int,
    compiled_path: int,
) -> None:
    await _save_articles(database.engine, 3, 3)
    uncached = settings.model_copy(update={"response_cache": False})
    for compiled in (True, False):
        app = create_app(uncached.model_copy(update={"compiled_reads": compiled}), database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            before = await _metric(client, "cms_compiled_reads") if compiled else 0
            sql_statements.clear()
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            assert "errors" not in response.json()
            expected = compiled_path if compiled else strawberry
            assert len(sql_statements) == expected, (compiled, sql_statements)
            if compiled:
                assert await _metric(client, "cms_compiled_reads") == before + 1

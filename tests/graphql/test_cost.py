"""Query cost: a query that may return more objects than the limit is refused before it runs,
and every answer says what it was estimated to cost."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import GraphQL

pytestmark = pytest.mark.anyio

MULTIPLYING_LISTS = """
query Fan($n: Int!) {
  articles(first: $n) { nodes { related(first: $n) { related(first: $n) { slug } } } }
}
"""


async def test_multiplying_lists_are_refused_before_any_database_work(
    seeded: AsyncEngine, graphql: GraphQL, sql_statements: list[str]
) -> None:
    body = await graphql(MULTIPLYING_LISTS, {"n": 100})
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "This query may return up to 1010101 objects; the limit is 10000. "
            "Ask for smaller pages (`first`) or fewer nested lists.",
            "extensions": {"code": "QUERY_TOO_COSTLY", "cost": 1010101, "maximum": 10000},
        }
    ]
    assert sql_statements == []


async def test_the_same_document_with_small_pages_runs_and_reports_its_cost(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(MULTIPLYING_LISTS, {"n": 3})
    assert "errors" not in body
    assert body["data"]["articles"]["nodes"] == [{"related": []}]
    assert body["extensions"]["cost"] == {"requested": 1 + 3 + 9 + 27, "maximum": 10000}


async def test_lists_without_a_page_size_count_ten_objects(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql('{ article(slug: "back-walk") { author { name } benefits { title } } }')
    assert body["data"]["article"]["author"] == {"name": "Penci"}
    assert body["extensions"]["cost"] == {"requested": 1 + 1 + 10, "maximum": 10000}

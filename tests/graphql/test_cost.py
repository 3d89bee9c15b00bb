"""Query cost: a query that may return more objects than the limit is refused before it runs,
and every answer says what it was estimated to cost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import GraphQL

pytestmark = pytest.mark.anyio


async def _answer(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    """The whole answer, `extensions` included (the `graphql` fixture checks and drops cost)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


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
            "message": "This query may return up to 1010100 nodes; the limit is 10000. "
            "Ask for smaller pages (`first`) or fewer nested lists.",
            "extensions": {"code": "QUERY_TOO_COSTLY", "cost": 1010100, "maximum": 10000},
        }
    ]
    assert sql_statements == []


async def test_the_same_document_with_small_pages_runs_and_reports_its_cost(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    body = await _answer(client, MULTIPLYING_LISTS, {"n": 3})
    assert "errors" not in body
    assert body["data"]["articles"]["nodes"] == [{"related": []}]
    assert body["extensions"]["cost"] == {"requested": 3 + 9 + 27, "maximum": 10000}


async def test_lists_without_a_page_size_count_ten_nodes(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    query = '{ article(slug: "back-walk") { author { name } benefits { title } } }'
    body = await _answer(client, query, {})
    assert body["data"]["article"]["author"] == {"name": "Penci"}
    assert body["extensions"]["cost"] == {"requested": 1 + 1 + 10, "maximum": 10000}


async def test_an_estimate_beyond_exact_json_numbers_is_capped(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    nested = "slug"
    for _ in range(9):
        nested = f"related(first: 100) {{ {nested} }}"
    body = await graphql(f'{{ article(slug: "back-walk") {{ {nested} }} }}')
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] == 2**53 - 1

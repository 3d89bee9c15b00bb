"""`articles`: a Relay connection with opaque keyset cursors and exact page info at both ends."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import session_scope
from cms.graphql.pagination import encode_cursor
from tests.conftest import GraphQL
from tests.documents import article_document

pytestmark = pytest.mark.anyio

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String) {
  articles(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

SLUGS = [f"article-{n:02d}" for n in range(1, 8)]


@pytest.fixture
async def seven_articles(engine: AsyncEngine) -> None:
    async with session_scope(engine) as session:
        for slug in reversed(SLUGS):
            await content.save_article_document(session, article_document(slug=slug))


async def _page(graphql: GraphQL, **variables: object) -> dict[str, object]:
    body = await graphql(PAGE, variables)
    assert "errors" not in body, body
    connection: dict[str, object] = body["data"]["articles"]
    return connection


def _slugs(connection: dict[str, object]) -> list[str]:
    return [edge["node"]["slug"] for edge in connection["edges"]]  # type: ignore[attr-defined, index]


async def test_forward_pages_cover_every_article_once_in_slug_order(
    seven_articles: None, graphql: GraphQL
) -> None:
    seen: list[str] = []
    after = None
    pages = []
    while True:
        page = await _page(graphql, first=3, after=after)
        pages.append(page["pageInfo"])
        seen += _slugs(page)
        if not page["pageInfo"]["hasNextPage"]:  # type: ignore[index]
            break
        after = page["pageInfo"]["endCursor"]  # type: ignore[index]
    assert seen == SLUGS
    assert [(p["hasPreviousPage"], p["hasNextPage"]) for p in pages] == [  # type: ignore[index]
        (False, True), (True, True), (True, False),
    ]  # fmt: skip


async def test_backward_pages_cover_every_article_once(
    seven_articles: None, graphql: GraphQL
) -> None:
    seen: list[str] = []
    before = None
    flags = []
    while True:
        page = await _page(graphql, last=3, before=before)
        seen = _slugs(page) + seen
        info = page["pageInfo"]
        flags.append((info["hasPreviousPage"], info["hasNextPage"]))  # type: ignore[index]
        if not info["hasPreviousPage"]:  # type: ignore[index]
            break
        before = info["startCursor"]  # type: ignore[index]
    assert seen == SLUGS
    assert flags == [(True, False), (True, True), (False, True)]


async def test_total_count_counts_the_whole_list(seven_articles: None, graphql: GraphQL) -> None:
    assert (await _page(graphql, first=2))["totalCount"] == 7


async def test_an_exact_last_page_reports_no_next_page(
    seven_articles: None, graphql: GraphQL
) -> None:
    page = await _page(graphql, first=2, after=encode_cursor("article-05"))
    assert _slugs(page) == ["article-06", "article-07"]
    assert page["pageInfo"] == {
        "hasNextPage": False, "hasPreviousPage": True,
        "startCursor": encode_cursor("article-06"), "endCursor": encode_cursor("article-07"),
    }  # fmt: skip


async def test_an_empty_list_has_no_pages(engine: AsyncEngine, graphql: GraphQL) -> None:
    page = await _page(graphql, first=5)
    assert page == {
        "totalCount": 0, "edges": [],
        "pageInfo": {
            "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None,
        },
    }  # fmt: skip


async def test_cursors_are_opaque_strings(seven_articles: None, graphql: GraphQL) -> None:
    page = await _page(graphql, first=1)
    cursor = page["edges"][0]["cursor"]  # type: ignore[index]
    assert "article-01" not in cursor


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100; got 101."),
        ({"last": -1}, "`last` must be between 0 and 100; got -1."),
        ({"first": 1, "last": 1}, "Pass either `first` or `last`, not both."),
        ({"after": "bm9wZQ"}, "`after` is not a valid cursor; pass a cursor this API returned."),
        ({"before": "%%%"}, "`before` is not a valid cursor; pass a cursor this API returned."),
    ],
)
async def test_bad_page_arguments_are_clear_client_errors(
    seven_articles: None, graphql: GraphQL, variables: dict[str, object], message: str
) -> None:
    body = await graphql(PAGE, variables)
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]

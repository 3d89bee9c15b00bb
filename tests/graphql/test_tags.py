"""Tags on articles and benefits, `articles(filter: {tag:})`, and `Article.related`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.documents import ArticleDocument
from cms.models import ArticleStatus, utc_now
from tests.conftest import GraphQL, TokenFactory
from tests.documents import text_document

pytestmark = pytest.mark.anyio

TAGGED = """
query Tagged($tag: String!, $first: Int, $after: String, $last: Int, $before: String) {
  articles(filter: {tag: $tag}, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    nodes { slug tags }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
RELATED = """
query Related($slug: String!, $first: Int) {
  article(slug: $slug) { related(first: $first) { slug } }
}
"""


async def _save(engine: AsyncEngine, *documents: ArticleDocument) -> None:
    async with session_scope(engine) as session:
        for document in documents:
            await content.save_article_document(session, document)


async def _data(graphql: GraphQL, query: str, token: str | None = None, **variables: Any) -> Any:
    body = await graphql(query, variables, token=token)
    assert "errors" not in body, body
    return body["data"]


async def test_the_seed_tags_reach_graphql(seeded: AsyncEngine, graphql: GraphQL) -> None:
    data = await _data(graphql, '{ article(slug: "back-walk") { tags benefits { slug tags } } }')
    article = data["article"]
    assert article["tags"] == ["massage", "back-pain", "stress-relief", "wellness"]
    assert article["benefits"][:2] == [
        {"slug": "stress-relief", "tags": ["stress-relief", "relaxation"]},
        {"slug": "pain-management", "tags": ["back-pain", "pain-relief"]},
    ]


@pytest.fixture
async def tagged(engine: AsyncEngine) -> None:
    await _save(
        engine,
        text_document("e", "E", tags=["yoga"]),
        text_document("a", "A", tags=["yoga", "calm", "sleep"]),
        text_document("c", "C", tags=["yoga"]),
        text_document("b", "B", tags=["calm", "yoga"]),
        text_document("d", "D", tags=["sleep", "calm"]),
        text_document("f", "F", tags=["massage"]),
        text_document("g", "G", tags=["yoga", "calm", "sleep"], status=ArticleStatus.DRAFT),
        text_document("h", "H", tags=["yoga", "calm"], published_at=utc_now() + timedelta(days=1)),
    )


async def test_the_tag_filter_pages_in_slug_order_with_exact_counts(
    tagged: None, graphql: GraphQL
) -> None:
    first = (await _data(graphql, TAGGED, tag="yoga", first=2))["articles"]
    assert [n["slug"] for n in first["nodes"]] == ["a", "b"]
    assert first["totalCount"] == 4
    assert (first["pageInfo"]["hasPreviousPage"], first["pageInfo"]["hasNextPage"]) == (False, True)
    second = (
        await _data(graphql, TAGGED, tag="yoga", first=2, after=first["pageInfo"]["endCursor"])
    )["articles"]
    assert [n["slug"] for n in second["nodes"]] == ["c", "e"]
    assert (second["pageInfo"]["hasPreviousPage"], second["pageInfo"]["hasNextPage"]) == (
        True,
        False,
    )
    back = (
        await _data(graphql, TAGGED, tag="yoga", last=1, before=second["pageInfo"]["startCursor"])
    )["articles"]
    assert [n["slug"] for n in back["nodes"]] == ["b"]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (True, True)
    assert [n["tags"] for n in first["nodes"]] == [["yoga", "calm", "sleep"], ["calm", "yoga"]]


async def test_the_tag_filter_shows_drafts_only_with_the_drafts_scope(
    tagged: None, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.READ_DRAFTS)
    editor = (await _data(graphql, TAGGED, token=token, tag="calm"))["articles"]
    assert [n["slug"] for n in editor["nodes"]] == ["a", "b", "d", "g", "h"]
    assert editor["totalCount"] == 5
    public = (await _data(graphql, TAGGED, tag="calm"))["articles"]
    assert ([n["slug"] for n in public["nodes"]], public["totalCount"]) == (["a", "b", "d"], 3)
    unknown = (await _data(graphql, TAGGED, tag="no-such-tag"))["articles"]
    assert (unknown["nodes"], unknown["totalCount"]) == ([], 0)


@pytest.mark.parametrize("tag", ["Yoga", "two words", "", "-x", "x" * 101])
async def test_a_tag_filter_that_is_no_tag_is_bad_user_input(
    engine: AsyncEngine, graphql: GraphQL, tag: str
) -> None:
    body = await graphql(TAGGED, {"tag": tag})
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", ["articles"])
    ]
    assert body["errors"][0]["message"].startswith("`filter.tag` must be a tag")


async def test_related_articles_share_the_most_tags_ties_by_slug(
    tagged: None, graphql: GraphQL, make_token: TokenFactory
) -> None:
    async def related(slug: str, token: str | None = None, **variables: Any) -> list[str]:
        data = await _data(graphql, RELATED, token=token, slug=slug, **variables)
        return [article["slug"] for article in data["article"]["related"]]

    # a shares calm+yoga with b, calm+sleep with d, yoga with c and e; f shares nothing.
    assert await related("a") == ["b", "d", "c", "e"]
    assert await related("a", first=2) == ["b", "d"]
    assert await related("a", first=0) == []
    assert await related("f") == []
    token = await make_token(Scope.READ_DRAFTS)
    assert await related("a", token=token) == ["g", "b", "d", "h", "c"]
    assert await related("g", token=token, first=2) == ["a", "b"]


async def test_related_asks_at_most_the_page_size(tagged: None, graphql: GraphQL) -> None:
    body = await graphql(RELATED, {"slug": "a", "first": 101})
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("`first` must be between 0 and 100; got 101.", "BAD_USER_INPUT")
    ]


LIST = """
query List($withRelated: Boolean!) {
  articles(first: 100) {
    nodes {
      slug tags
      related(first: 3) @include(if: $withRelated) { slug tags }
      short: related(first: 1) @include(if: $withRelated) { slug }
    }
  }
}
"""


@pytest.mark.parametrize("article_count", [3, 30])
async def test_tags_and_related_of_a_page_cost_two_statements_in_all(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], article_count: int
) -> None:
    await _save(
        engine,
        *(
            text_document(f"a-{n:02d}", f"A {n}", tags=["all", f"group-{n % 3}"])
            for n in range(article_count)
        ),
    )
    await _data(graphql, "{ articles(first: 1) { nodes { slug } } }")  # reads the revision once
    sql_statements.clear()
    plain = await _data(graphql, LIST, withRelated=False)
    without_related = len(sql_statements)
    sql_statements.clear()
    data = await _data(graphql, LIST, withRelated=True)
    nodes = data["articles"]["nodes"]
    assert len(nodes) == article_count == len(plain["articles"]["nodes"])
    # a-00 shares group-0 and `all` with a-03, a-06, ...; then `all` alone with the rest.
    expected = ["a-03", "a-06", "a-09"] if article_count > 3 else ["a-01", "a-02"]
    assert [r["slug"] for r in nodes[0]["related"]] == expected
    assert [r["slug"] for r in nodes[0]["short"]] == expected[:1]
    # page, tags; with related one more, for both `related` fields (the related articles' tags
    # come from the same loader). PostgreSQL also reads the content revision per request.
    revision = 0 if engine.dialect.name == "sqlite" else 1
    assert (without_related, len(sql_statements)) == (2 + revision, 3 + revision), sql_statements


ARTICLE_CREATE = """
mutation Create($input: ArticleInput!) {
  articleCreate(input: $input) {
    article { slug tags benefits { tags } } errors { field message code }
  }
}
"""
ARTICLE_UPDATE = """
mutation Update($v: Int!, $input: ArticleUpdateInput!) {
  articleUpdate(slug: "fresh", expectedVersion: $v, input: $input) {
    article { version tags } errors { field message code }
  }
}
"""
BENEFIT_UPDATE = """
mutation Update($v: Int!, $input: BenefitUpdateInput!) {
  benefitUpdate(article: "fresh", slug: "calm", expectedVersion: $v, input: $input) {
    article { version benefits { slug tags } } errors { field message code }
  }
}
"""
NEW = {
    "slug": "fresh",
    "title": "Fresh",
    "author": {"slug": "penci", "name": "Penci"},
    "tags": ["yoga", "sleep"],
    "benefits": [{"slug": "calm", "title": "Calm", "body": "Calms.", "tags": ["calm"]}],
}


async def test_tags_are_written_and_changed_through_mutations(
    penci: None, engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    created = (await _data(graphql, ARTICLE_CREATE, token=token, input=NEW))["articleCreate"]
    assert created == {
        "article": {"slug": "fresh", "tags": ["yoga", "sleep"], "benefits": [{"tags": ["calm"]}]},
        "errors": [],
    }
    updated = (await _data(graphql, ARTICLE_UPDATE, token=token, v=1, input={"tags": ["sleep"]}))[
        "articleUpdate"
    ]
    assert updated == {"article": {"version": 2, "tags": ["sleep"]}, "errors": []}
    benefit = (
        await _data(graphql, BENEFIT_UPDATE, token=token, v=2, input={"tags": ["calm", "rest"]})
    )["benefitUpdate"]
    assert benefit == {
        "article": {"version": 3, "benefits": [{"slug": "calm", "tags": ["calm", "rest"]}]},
        "errors": [],
    }
    filtered = (await _data(graphql, TAGGED, token=token, tag="sleep"))["articles"]
    assert [n["slug"] for n in filtered["nodes"]] == ["fresh"]


@pytest.mark.parametrize(
    ("tags", "errors"),
    [
        (
            ["Yoga"],
            [("input.tags[0]", "String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$'")],
        ),
        (["yoga", "yoga"], [("input.tags", "duplicate tag 'yoga'")]),
        (
            [f"t-{n}" for n in range(21)],
            [("input.tags", "Value should have at most 20 items after validation, not 21")],
        ),
    ],
)
async def test_bad_tags_are_refused_and_nothing_is_written(
    penci: None,
    engine: AsyncEngine,
    graphql: GraphQL,
    make_token: TokenFactory,
    tags: list[str],
    errors: list[tuple[str, str]],
) -> None:
    token = await make_token(Scope.WRITE)
    result = (await _data(graphql, ARTICLE_CREATE, token=token, input={**NEW, "tags": tags}))[
        "articleCreate"
    ]
    assert result["article"] is None
    assert [(e["field"], e["message"]) for e in result["errors"]] == errors
    assert {e["code"] for e in result["errors"]} == {"INVALID"}
    assert (await _data(graphql, TAGGED, token=token, tag="sleep"))["articles"]["nodes"] == []

"""The `locale` an article is read for reaches the articles found from it: `related`, the nodes
of `search(locale:)` and the `article(locale:)` of change-feed entries; translations are still
loaded in one statement per page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content, translations
from cms.db import session_scope
from cms.documents import ArticleDocument, TranslationDocument
from tests.conftest import GraphQL
from tests.documents import text_document

pytestmark = pytest.mark.anyio

FIELD_LOCALES = "fieldLocales { field locale fallback }"
RELATED = f"""
query Related($slug: String!, $locale: String) {{
  article(slug: $slug, locale: $locale) {{
    title locale related {{ slug title locale {FIELD_LOCALES} }}
  }}
}}
"""
SEARCH = """
query Search($q: String!, $locale: String) {
  search(query: $q, locale: $locale) {
    edges { excerpt(format: TEXT) node { slug title locale } }
  }
}
"""
FEED = """
query Feed($locale: String) {
  changes { nodes { type slug article(locale: $locale) { title locale } } }
}
"""


async def _save(engine: AsyncEngine, *documents: ArticleDocument | dict[str, Any]) -> None:
    async with session_scope(engine) as session:
        for document in documents:
            if isinstance(document, ArticleDocument):
                await content.save_article_document(session, document)
            else:
                translation = TranslationDocument.model_validate(document)
                await translations.save_article_translation(session, translation)


def _german(slug: str, title: str) -> dict[str, Any]:
    return {"translation_of": slug, "locale": "de", "title": title}


@pytest.fixture
async def translated(engine: AsyncEngine) -> None:
    """Three articles on massage sharing a tag; `b` is translated into German, `c` is not."""
    await _save(
        engine,
        text_document("a", "Massage A", intro="About massage.", tags=["massage"]),
        text_document("b", "Massage B", intro="More massage.", tags=["massage"]),
        text_document("c", "Massage C", intro="Even more massage.", tags=["massage"]),
        _german("a", "Massage A (de)"),
        _german("b", "Massage B (de)"),
    )


async def _data(graphql: GraphQL, query: str, **variables: Any) -> Any:
    body = await graphql(query, variables)
    assert "errors" not in body, body
    return body["data"]


async def test_related_articles_are_read_in_the_locale_of_their_article(
    translated: None, graphql: GraphQL
) -> None:
    article = (await _data(graphql, RELATED, slug="a", locale="de-AT"))["article"]
    assert (article["title"], article["locale"]) == ("Massage A (de)", "de-AT")
    assert article["related"] == [
        {
            "slug": "b", "title": "Massage B (de)", "locale": "de-AT",
            "fieldLocales": [
                {"field": "title", "locale": "de", "fallback": False},
                {"field": "headline", "locale": "en", "fallback": True},
                {"field": "intro", "locale": "en", "fallback": True},
            ],
        },
        {
            "slug": "c", "title": "Massage C", "locale": "de-AT",
            "fieldLocales": [
                {"field": f, "locale": "en", "fallback": True}
                for f in ("title", "headline", "intro")
            ],
        },
    ]  # fmt: skip


async def test_without_a_locale_related_articles_read_in_their_own(
    translated: None, graphql: GraphQL
) -> None:
    article = (await _data(graphql, RELATED, slug="a"))["article"]
    assert [(r["slug"], r["title"], r["locale"]) for r in article["related"]] == [
        ("b", "Massage B", "en"),
        ("c", "Massage C", "en"),
    ]


async def test_search_reads_its_nodes_in_the_locale_asked_for(
    translated: None, graphql: GraphQL
) -> None:
    edges = (await _data(graphql, SEARCH, q="massage", locale="de"))["search"]["edges"]
    assert sorted((e["node"]["slug"], e["node"]["title"], e["node"]["locale"]) for e in edges) == [
        ("a", "Massage A (de)", "de"),
        ("b", "Massage B (de)", "de"),
        ("c", "Massage C", "de"),
    ]
    # The excerpt is the base text that matched (its title or intro), never the translation.
    english = {"Massage A", "Massage B", "Massage C", "About massage.", "More massage."}
    assert {e["excerpt"] for e in edges} <= english | {"Even more massage."}
    plain = (await _data(graphql, SEARCH, q="massage"))["search"]["edges"]
    assert {e["node"]["locale"] for e in plain} == {"en"}
    assert sorted(e["node"]["title"] for e in plain) == ["Massage A", "Massage B", "Massage C"]


async def test_a_malformed_search_locale_is_bad_user_input(
    translated: None, graphql: GraphQL
) -> None:
    body = await graphql(SEARCH, {"q": "massage", "locale": "deutsch"})
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "Invalid locale 'deutsch': expected a BCP 47 tag such as `de` or `de-AT`.",
            "BAD_USER_INPUT",
        )
    ]


async def test_change_feed_articles_are_read_in_the_locale_asked_for(
    translated: None, graphql: GraphQL
) -> None:
    german = (await _data(graphql, FEED, locale="de"))["changes"]["nodes"]
    # Saving each article and then each translation: five changes, all of them updates of a
    # published article (the first save of each creates it).
    assert [(n["slug"], n["article"]) for n in german] == [
        ("a", {"title": "Massage A (de)", "locale": "de"}),
        ("b", {"title": "Massage B (de)", "locale": "de"}),
        ("c", {"title": "Massage C", "locale": "de"}),
        ("a", {"title": "Massage A (de)", "locale": "de"}),
        ("b", {"title": "Massage B (de)", "locale": "de"}),
    ]
    own = (await _data(graphql, FEED))["changes"]["nodes"]
    assert [n["article"]["locale"] for n in own] == ["en"] * 5


# --- cost --------------------------------------------------------------------------------------

PAGE = """
query Page($locale: String) {
  articles(first: 100, locale: $locale, filter: {tag: "page"}) {
    nodes { slug title related(first: 1) { slug title } }
  }
}
"""
SEARCH_PAGE = """
query Search($q: String!, $locale: String) {
  search(query: $q, first: 100, locale: $locale) { edges { node { slug title author { name } } } }
}
"""


async def _save_many(engine: AsyncEngine, count: int) -> None:
    """`p-NN` on the page, each related most closely to `r-NN`, which is not; all translated."""
    slugs = [f"{kind}-{n:02d}" for n in range(count) for kind in ("p", "r")]
    await _save(
        engine,
        *(
            text_document(
                slug,
                f"Massage {slug}",
                tags=[
                    *(["page"] if slug.startswith("p") else []),
                    f"pair-{slug[2:]}",
                    f"two-{slug[2:]}",
                ],
            )
            for slug in slugs
        ),  # fmt: skip
        *(_german(slug, f"Massage {slug} (de)") for slug in slugs),
    )


@pytest.mark.parametrize("article_count", [3, 30])
async def test_related_in_a_locale_loads_their_translations_in_one_statement(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], article_count: int
) -> None:
    await _save_many(engine, article_count)
    sql_statements.clear()
    nodes = (await _data(graphql, PAGE, locale="de"))["articles"]["nodes"]
    assert len(nodes) == article_count
    assert nodes[0]["related"] == [{"slug": "r-00", "title": "Massage r-00 (de)"}]
    # content revision, next scheduled publication (read once after each write), the page with
    # its translations (one statement), related, their translations
    assert len(sql_statements) == 5, sql_statements


@pytest.mark.parametrize("article_count", [1, 25])
async def test_search_in_a_locale_costs_one_statement_more(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], article_count: int
) -> None:
    await _save_many(engine, article_count)
    sql_statements.clear()
    edges = (await _data(graphql, SEARCH_PAGE, q="massage", locale="de"))["search"]["edges"]
    assert len(edges) == 2 * article_count
    assert {e["node"]["title"].endswith("(de)") for e in edges} == {True}
    # content revision, next scheduled publication (read once after each write), the ranked
    # page, excerpts, translations, authors
    assert len(sql_statements) == 6, sql_statements

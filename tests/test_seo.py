"""The meta title and description: set by mutations, read with their fallbacks over GraphQL,
kept by export, and what `cms.seo` cuts an intro to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.seed import export_articles
from cms.seed_files import read_seed_files
from cms.seo import meta_description
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

SEO = '{ article(slug: "back-walk") { title metaTitle metaDescription intro(format: TEXT) } }'
UPDATE = """
mutation Update($v: Int!, $input: ArticleUpdateInput!) {
  articleUpdate(slug: "back-walk", expectedVersion: $v, input: $input) {
    article { metaTitle metaDescription } errors { field message code }
  }
}
"""
PUBLISH = """
mutation Publish($v: Int!) {
  articlePublish(slug: "back-walk", expectedVersion: $v) { errors { field code } }
}
"""
CREATE = """
mutation Create($input: ArticleInput!) {
  articleCreate(input: $input) { article { metaTitle metaDescription } errors { field code } }
}
"""


async def test_unset_meta_fields_fall_back_to_the_title_and_the_intro(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    article = (await graphql(SEO))["data"]["article"]
    assert article["metaTitle"] == article["title"] == "Back Walk Benefits"
    description = article["metaDescription"]
    assert len(description) <= 160 and description.endswith("…")
    words = " ".join(article["intro"].split())  # runs of white space are one space
    assert words.startswith(description.removesuffix("…"))
    assert words[len(description) - 1] == " "  # cut on a word boundary
    assert description == (
        "Back walking, also known as back walking therapy or back walking massage. It is an "
        "ancient healing practice that has been used for centuries in various…"
    )


async def test_mutations_set_and_clear_the_meta_fields(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, tmp_path: Path
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    seo = {"metaTitle": "Back walking: benefits", "metaDescription": "What a back walk does."}
    answer = await graphql(UPDATE, {"v": 1, "input": seo}, token=token)
    assert answer["data"]["articleUpdate"] == {"article": seo, "errors": []}
    # The article is published: the public reads the meta texts it had until the edit is.
    public = (await graphql(SEO))["data"]["article"]
    assert public["metaTitle"] == public["title"] != seo["metaTitle"]
    published = await graphql(PUBLISH, {"v": 2}, token=token)
    assert published["data"]["articlePublish"] == {"errors": []}
    assert {k: v for k, v in (await graphql(SEO))["data"]["article"].items() if k in seo} == seo

    await export_articles(seeded, tmp_path)
    (exported,) = read_seed_files([tmp_path / "back-walk.yaml"])
    assert (exported.document.meta_title, exported.document.meta_description) == (
        "Back walking: benefits",
        "What a back walk does.",
    )

    cleared = {"metaTitle": "", "metaDescription": ""}
    answer = await graphql(UPDATE, {"v": 3, "input": cleared}, token=token)
    assert answer["data"]["articleUpdate"]["article"]["metaTitle"] == "Back Walk Benefits"


async def test_article_create_takes_the_meta_fields_and_refuses_overlong_ones(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    article: dict[str, Any] = {
        "slug": "cupping",
        "title": "Cupping",
        "author": {"slug": "penci", "name": "Penci"},
        "metaTitle": "Cupping, explained",
    }
    answer = await graphql(CREATE, {"input": article}, token=token)
    assert answer["data"]["articleCreate"] == {
        "article": {"metaTitle": "Cupping, explained", "metaDescription": ""},
        "errors": [],
    }
    overlong = {**article, "slug": "cupping-2", "metaDescription": "D" * 301}
    answer = await graphql(CREATE, {"input": overlong}, token=token)
    assert answer["data"]["articleCreate"] == {
        "article": None,
        "errors": [{"field": "input.metaDescription", "code": "INVALID"}],
    }


def test_a_long_intro_is_cut_on_a_word_boundary_with_an_ellipsis() -> None:
    assert meta_description(intro="Short *intro*.", meta_description="") == "Short intro."
    assert meta_description(intro="x", meta_description="Given.") == "Given."
    long_word = "a" * 200
    assert meta_description(intro=long_word, meta_description="") == "a" * 159 + "…"
    words = "word, " * 40
    cut = meta_description(intro=words, meta_description="")
    assert cut == "word, " * 25 + "word…" and len(cut) == 155


TRANSLATE = """
mutation Save($v: Int!, $input: ArticleTranslationInput!) {
  articleTranslationSave(slug: "back-walk", locale: "fr", expectedVersion: $v, input: $input) {
    article { metaTitle metaDescription } errors { field code }
  }
}
"""
IN_FRENCH = """
{ article(slug: "back-walk", locale: "fr") {
    metaTitle metaDescription jsonLd benefits { slug } } }
"""


async def test_meta_fields_are_read_in_the_requested_locale(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    # The article is published: its edits and translations go live when it is published.
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    english = {"metaTitle": "Back walking: benefits", "metaDescription": "What a back walk does."}
    await graphql(UPDATE, {"v": 1, "input": english}, token=token)
    published = await graphql(PUBLISH, {"v": 2}, token=token)
    assert published["data"]["articlePublish"] == {"errors": []}

    # Title and intro translated, meta texts not: the English ones would not fit, so the French
    # title and intro stand in.
    french = {"title": "Les bienfaits", "intro": "La marche sur le dos détend."}
    answer = await graphql(TRANSLATE, {"v": 0, "input": french}, token=token)
    assert answer["data"]["articleTranslationSave"] == {
        "article": {
            "metaTitle": "Les bienfaits",
            "metaDescription": "La marche sur le dos détend.",
        },
        "errors": [],
    }
    # Translated meta texts are the French reader's, in the API and the JSON-LD.
    seo = {"metaTitle": "Marcher sur le dos", "metaDescription": "Ce que fait la marche."}
    answer = await graphql(TRANSLATE, {"v": 1, "input": {**french, **seo}}, token=token)
    assert answer["data"]["articleTranslationSave"] == {"article": seo, "errors": []}
    published = await graphql(PUBLISH, {"v": 3}, token=token)
    assert published["data"]["articlePublish"] == {"errors": []}
    article = (await graphql(IN_FRENCH))["data"]["article"]
    assert (article["metaTitle"], article["metaDescription"]) == tuple(seo.values())
    assert (article["jsonLd"]["headline"], article["jsonLd"]["description"]) == tuple(seo.values())
    # Only the title translated: the English meta description still stands for the intro.
    answer = await graphql(TRANSLATE, {"v": 3, "input": {"title": "Les bienfaits"}}, token=token)
    assert answer["data"]["articleTranslationSave"]["article"] == {
        "metaTitle": "Les bienfaits",
        "metaDescription": "What a back walk does.",
    }

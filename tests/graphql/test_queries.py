"""The public read API: one article with everything it owns, formats, visibility, node lookups."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content, reads
from cms.content_model import BENEFIT
from cms.db import session_scope
from cms.models import ArticleStatus, utc_now
from tests.conftest import SOURCE_ARTICLE, GraphQL

pytestmark = pytest.mark.anyio

FULL_ARTICLE = """
query FullArticle($slug: String!, $format: TextFormat!) {
  article(slug: $slug) {
    id slug title headline status version publishedAt
    intro(format: $format)
    author { id slug name bio(format: $format) }
    sections { id slug kind title position body(format: $format) }
    benefits { id slug title position body(format: $format) }
    nutritionTips { id slug kind title position body(format: $format) }
    precautions { id slug title position body(format: $format) }
    conclusion { title body(format: $format) }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id __typename
    ... on Article { slug }
    ... on Author { name }
    ... on ArticleItem { slug title }
  }
}
"""

BENEFIT_SLUGS = """
query { article(slug: "back-walk") { benefits { slug } sections { slug } } }
"""


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?:])\s+", text) if s]


def _normalise(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


async def test_every_sentence_of_the_source_article_is_served_unchanged(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(FULL_ARTICLE, {"slug": "back-walk", "format": "TEXT"})
    article = body["data"]["article"]
    served = [
        article["title"], article["headline"], article["intro"],
        article["author"]["name"], article["author"]["bio"],
        article["conclusion"]["title"], article["conclusion"]["body"],
    ]  # fmt: skip
    for section in article["sections"]:
        served += [section["title"], section["body"]]
    # The source writes each list item as "Title: body" on one line.
    for item in article["benefits"] + article["nutritionTips"] + article["precautions"]:
        served += [item["title"], item["body"], f"{item['title']}: {item['body']}"]
    served_text = _normalise(" \n ".join(served))

    # "Written By" is the page's byline label, not content: the author's name and bio carry it.
    paragraphs = [p for p in SOURCE_ARTICLE.read_text("utf-8").split("\n\n") if p.strip()]
    missing = [
        sentence
        for paragraph in paragraphs
        if paragraph.strip() != "Written By"
        for sentence in _sentences(_normalise(paragraph))
        if sentence not in served_text
    ]
    assert missing == []


async def test_article_holds_its_seven_benefits_three_precautions_and_two_tips_in_order(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    article = (await graphql(FULL_ARTICLE, {"slug": "back-walk", "format": "MARKDOWN"}))["data"][
        "article"
    ]
    assert [b["title"] for b in article["benefits"]] == [
        "Stress Relief", "Pain Management", "Improved Circulation", "Detoxification",
        "Increased Flexibility", "Enhanced Energy Flow", "Emotional Release",
    ]  # fmt: skip
    assert [b["position"] for b in article["benefits"]] == list(range(7))
    assert [p["title"] for p in article["precautions"]] == [
        "Pregnancy", "Medical Conditions", "Pressure",
    ]  # fmt: skip
    assert [(t["slug"], t["kind"]) for t in article["nutritionTips"]] == [
        ("balanced-diet", "NUTRITION"), ("hydration", "HYDRATION"),
    ]  # fmt: skip
    assert [s["kind"] for s in article["sections"]] == [
        "PROSE", "BENEFITS", "NUTRITION", "PRECAUTIONS",
    ]  # fmt: skip
    assert article["headline"] == (
        "The Incredible Benefits of Back Walk: A Healing Journey for Body and Mind"
    )
    assert article["author"]["name"] == "Penci"
    assert article["status"] == "PUBLISHED"
    assert article["version"] == 1


async def test_prose_is_served_as_markdown_sanitised_html_or_plain_text(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(
        engine, benefit_body="Feel **calm** <script>alert(1)</script> [more](https://a.example)"
    )
    query = """{ article(slug: "x") { benefits {
        md: body html: body(format: HTML) text: body(format: TEXT) } } }"""
    benefit = (await graphql(query))["data"]["article"]["benefits"][0]
    assert benefit["md"] == "Feel **calm** <script>alert(1)</script> [more](https://a.example)"
    assert benefit["html"] == (
        "<p>Feel <strong>calm</strong> &lt;script&gt;alert(1)&lt;/script&gt; "
        '<a href="https://a.example" rel="noopener noreferrer nofollow">more</a></p>'
    )
    assert benefit["text"] == "Feel calm <script>alert(1)</script> more"


async def test_nutrition_tips_can_be_filtered_by_kind(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    query = '{ article(slug: "back-walk") { nutritionTips(kind: HYDRATION) { slug } } }'
    assert (await graphql(query))["data"]["article"]["nutritionTips"] == [{"slug": "hydration"}]


async def test_unknown_slug_returns_null(seeded: AsyncEngine, graphql: GraphQL) -> None:
    body = await graphql('{ article(slug: "no-such-article") { id } }')
    assert body == {"data": {"article": None}}


async def test_every_type_is_reachable_by_its_global_id(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    article = (await graphql(FULL_ARTICLE, {"slug": "back-walk", "format": "TEXT"}))["data"][
        "article"
    ]
    expected = [
        (article["id"], "Article"),
        (article["author"]["id"], "Author"),
        (article["sections"][0]["id"], "Section"),
        (article["benefits"][3]["id"], "Benefit"),
        (article["nutritionTips"][1]["id"], "NutritionTip"),
        (article["precautions"][2]["id"], "Precaution"),
    ]
    for global_id, typename in expected:
        node = (await graphql(NODE, {"id": global_id}))["data"]["node"]
        assert (node["id"], node["__typename"]) == (global_id, typename)
    benefit = (await graphql(NODE, {"id": article["benefits"][3]["id"]}))["data"]["node"]
    assert benefit["title"] == "Detoxification"


async def test_a_malformed_global_id_is_a_client_error(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(NODE, {"id": "not-a-global-id"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_drafts_are_invisible_to_public_reads(engine: AsyncEngine, graphql: GraphQL) -> None:
    await _save(engine, slug="draft-article", status=ArticleStatus.DRAFT)
    draft_id = await _article_global_id(engine, "draft-article")
    assert (await graphql('{ article(slug: "draft-article") { id } }'))["data"]["article"] is None
    assert (await graphql(NODE, {"id": draft_id}))["data"]["node"] is None
    listing = await graphql("{ articles { totalCount nodes { slug } } }")
    assert listing["data"]["articles"] == {"totalCount": 0, "nodes": []}


async def test_a_scheduled_article_is_invisible_until_its_time(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(engine, slug="soon", published_at=utc_now() + timedelta(days=1))
    await _save(engine, slug="past", published_at=utc_now() - timedelta(days=1))
    listing = await graphql("{ articles { totalCount nodes { slug } } }")
    assert listing["data"]["articles"] == {"totalCount": 1, "nodes": [{"slug": "past"}]}


async def test_a_draft_child_of_a_published_article_is_invisible(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(engine, slug="x", draft_benefit=True)
    body = await graphql('{ article(slug: "x") { benefits { slug } } }')
    assert body["data"]["article"]["benefits"] == [{"slug": "public-benefit"}]
    async with session_scope(engine) as session:
        items = await reads.every_item_by_article_ids(session, [1], include_drafts=True)
    draft = [item for item in items if item.item_kind is BENEFIT]
    from strawberry.relay import to_base64

    hidden_id = to_base64("Benefit", next(b.id for b in draft if b.is_draft))
    assert (await graphql(NODE, {"id": hidden_id}))["data"]["node"] is None


async def _article_global_id(engine: AsyncEngine, slug: str) -> str:
    from strawberry.relay import to_base64

    async with session_scope(engine) as session:
        (row,) = await reads.articles_by_slugs(session, [slug], include_drafts=True)
    return to_base64("Article", row.id)


async def _save(
    engine: AsyncEngine,
    *,
    slug: str = "x",
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    published_at: object = None,
    benefit_body: str = "A body.",
    draft_benefit: bool = False,
) -> None:
    from tests.documents import article_document

    document = article_document(
        slug=slug, status=status, published_at=published_at, benefit_body=benefit_body,
        draft_benefit=draft_benefit,
    )  # fmt: skip
    async with session_scope(engine) as session:
        await content.save_article_document(session, document)

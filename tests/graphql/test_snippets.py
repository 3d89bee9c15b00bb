"""Benefit snippets over GraphQL: always with precautions, attribution, disclaimer; public only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import Database, session_scope
from cms.documents import ArticleDocument
from cms.http import create_app
from cms.lint import Rule
from cms.models import ArticleStatus
from cms.settings import Settings
from cms.snippets import DISCLAIMER
from tests.conftest import GraphQL, TokenFactory
from tests.documents import REVIEW, article_document, overriding

pytestmark = pytest.mark.anyio

SNIPPET = """
query Snippet($article: String!, $benefit: String!) {
  benefitSnippet(article: $article, benefit: $benefit) {
    slug title url body(format: TEXT)
    article { slug title url authorName reviewedBy lastReviewed }
    precautions { slug title body(format: TEXT) }
    disclaimer
  }
}
"""

SNIPPETS = """
query Snippets($article: String!) { benefitSnippets(article: $article) { slug } }
"""

HTML_AND_JSON_LD = """
query Snippet($article: String!, $benefit: String!) {
  benefitSnippet(article: $article, benefit: $benefit) { html jsonLd }
}
"""


async def _save(engine: AsyncEngine, document: ArticleDocument) -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(session, document)


async def test_a_snippet_carries_its_benefit_precautions_attribution_and_disclaimer(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(SNIPPET, {"article": "back-walk", "benefit": "stress-relief"})
    assert body == {
        "data": {
            "benefitSnippet": {
                "slug": "stress-relief",
                "title": "Stress Relief",
                "url": "http://127.0.0.1:8000/articles/back-walk#stress-relief",
                "body": "Back walking therapy is deeply relaxing and has been shown to reduce "
                "stress and anxiety levels. The rhythmic and flowing movements help calm the "
                "nervous system, promoting a sense of tranquility and well-being.",
                "article": {
                    "slug": "back-walk",
                    "title": "Back Walk Benefits",
                    "url": "http://127.0.0.1:8000/articles/back-walk",
                    "authorName": "Penci",
                    "reviewedBy": None,
                    "lastReviewed": None,
                },
                "precautions": [
                    {
                        "slug": "pregnancy",
                        "title": "Pregnancy",
                        "body": "Pregnant individuals should avoid back walk, especially during "
                        "the first trimester, unless it is performed by a practitioner "
                        "experienced in prenatal massage.",
                    },
                    {
                        "slug": "medical-conditions",
                        "title": "Medical Conditions",
                        "body": "If you have any pre-existing medical conditions or injuries, it "
                        "is essential to consult with your healthcare provider before trying "
                        "back walk.",
                    },
                    {
                        "slug": "pressure",
                        "title": "Pressure",
                        "body": "Communicate with the practitioner about your comfort level with "
                        "the pressure applied during the session. Too much pressure can cause "
                        "discomfort or bruising.",
                    },
                ],
                "disclaimer": DISCLAIMER,
            }
        }
    }


async def test_every_published_benefit_is_a_snippet_in_reading_order(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(SNIPPETS, {"article": "back-walk"})
    assert [s["slug"] for s in body["data"]["benefitSnippets"]] == [
        "stress-relief",
        "pain-management",
        "improved-circulation",
        "detoxification",
        "increased-flexibility",
        "enhanced-energy-flow",
        "emotional-release",
    ]


async def test_a_snippet_shows_the_medical_review(engine: AsyncEngine, graphql: GraphQL) -> None:
    review = REVIEW
    await _save(engine, article_document(review=review))
    body = await graphql(SNIPPET, {"article": "x", "benefit": "public-benefit"})
    article = body["data"]["benefitSnippet"]["article"]
    assert (article["reviewedBy"], article["lastReviewed"]) == (
        "Dr. Ada Example, MD",
        "2026-11-20",
    )


@pytest.mark.parametrize("preview", [False, True], ids=["public", "preview token"])
async def test_a_draft_benefit_has_no_snippet(
    engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, preview: bool
) -> None:
    """Not even for an editor who may read drafts: a snippet is what partners syndicate."""
    await _save(engine, article_document(draft_benefit=True))
    token = await make_token(Scope.READ_DRAFTS) if preview else None
    one = await graphql(SNIPPET, {"article": "x", "benefit": "draft-benefit"}, token=token)
    every = await graphql(SNIPPETS, {"article": "x"}, token=token)
    assert one == {"data": {"benefitSnippet": None}}
    assert every == {"data": {"benefitSnippets": [{"slug": "public-benefit"}]}}


async def test_a_draft_article_has_no_snippets_even_for_a_preview_token(
    engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    await _save(engine, article_document(status=ArticleStatus.DRAFT))
    token = await make_token(Scope.READ_DRAFTS)
    one = await graphql(SNIPPET, {"article": "x", "benefit": "public-benefit"}, token=token)
    assert one == {"data": {"benefitSnippet": None}}


@pytest.mark.parametrize("status", [ArticleStatus.DRAFT, ArticleStatus.UNPUBLISHED])
async def test_an_unpublished_article_has_no_snippets(
    engine: AsyncEngine, graphql: GraphQL, status: ArticleStatus
) -> None:
    await _save(engine, article_document(status=status))
    one = await graphql(SNIPPET, {"article": "x", "benefit": "public-benefit"})
    every = await graphql(SNIPPETS, {"article": "x"})
    assert (one, every) == (
        {"data": {"benefitSnippet": None}},
        {"data": {"benefitSnippets": []}},
    )


async def test_a_benefit_without_precautions_is_never_syndicated(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    # Only an override lets such an article be published at all (`cms.gate`).
    with overriding(Rule.MISSING_PRECAUTIONS):
        await _save(engine, article_document(with_precautions=False))
    one = await graphql(SNIPPET, {"article": "x", "benefit": "public-benefit"})
    every = await graphql(SNIPPETS, {"article": "x"})
    assert (one, every) == (
        {"data": {"benefitSnippet": None}},
        {"data": {"benefitSnippets": []}},
    )


async def test_an_unknown_benefit_returns_null(seeded: AsyncEngine, graphql: GraphQL) -> None:
    body = await graphql(SNIPPET, {"article": "back-walk", "benefit": "flying"})
    assert body == {"data": {"benefitSnippet": None}}


async def test_html_and_json_ld_come_with_the_snippet(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(HTML_AND_JSON_LD, {"article": "back-walk", "benefit": "stress-relief"})
    snippet = body["data"]["benefitSnippet"]
    assert snippet["html"].startswith('<article class="bwk-snippet" lang="en">')
    assert DISCLAIMER in snippet["html"]
    assert snippet["jsonLd"]["@type"] == "MedicalWebPage"
    assert [part["name"] for part in snippet["jsonLd"]["hasPart"]] == ["Stress Relief"]


@pytest.mark.parametrize("benefit_count", [1, 40])
async def test_snippets_with_their_article_take_a_fixed_number_of_statements(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], benefit_count: int
) -> None:
    await _save(engine, article_document(benefit_count=benefit_count))
    sql_statements.clear()
    body = await graphql(
        'query { benefitSnippets(article: "x") { html jsonLd article { authorName } '
        'precautions { title } } article(slug: "x") { jsonLd benefits { title } } }'
    )
    assert len(body["data"]["benefitSnippets"]) == benefit_count
    # content revision (for the response cache), next scheduled publication (read once after
    # each write), the snippets' article with all that travels with it in one statement of its
    # own (a statement costs more than the reads it would share), the article with its author
    # and items in one statement, and the medical review with its reviewer
    assert len(sql_statements) == 5, sql_statements


# The benchmark's partner read (bench/queries.py): bodies as HTML, attribution, disclaimer.
PARTNER_READ = """
query Snippet($article: String!, $benefit: String!) {
  benefitSnippet(article: $article, benefit: $benefit) {
    slug title url body(format: HTML) disclaimer
    article { title url authorName reviewedBy reviewStatus }
    precautions { slug title body(format: HTML) }
  }
}
"""


@pytest.mark.parametrize("compiled", [True, False])
async def test_an_anonymous_snippet_read_takes_one_statement(
    database: Database, settings: Settings, sql_statements: list[str], compiled: bool
) -> None:
    await _save(database.engine, article_document(benefit_count=3, review=REVIEW))
    uncached = settings.model_copy(update={"response_cache": False, "compiled_reads": compiled})
    app = create_app(uncached, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        for _ in range(2):  # the first read after a write pays for nothing more
            sql_statements.clear()
            variables = {"article": "x", "benefit": "benefit-2"}
            response = await client.post(
                "/graphql", json={"query": PARTNER_READ, "variables": variables}
            )
            snippet = response.json()["data"]["benefitSnippet"]
            assert snippet["article"]["reviewedBy"] == "Dr. Ada Example, MD"
            assert [p["slug"] for p in snippet["precautions"]] == ["care"]
            # The article, its author, public benefits and precautions and its approvals with
            # their reviewers, in one statement.
            assert len(sql_statements) == 1, sql_statements
        assert app.state.usage.pending == 2  # counted in memory, written later in one batch

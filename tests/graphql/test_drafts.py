"""Drafts never leak, by any read path: a draft article, and draft items under a published one.

Each path is read anonymously (must not show the draft) and with a preview token (must show it),
so a test that passed only because the draft was missing altogether would fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from strawberry.relay import to_base64

from cms import content, reads
from cms.access import Scope
from cms.db import session_scope
from cms.documents import ArticleDocument
from cms.models import Author, Benefit, NutritionTip, Precaution, Section
from tests.conftest import SEED_DIR, GraphQL, TokenFactory, without_cost
from tests.documents import article_document

pytestmark = pytest.mark.anyio

EVERYTHING = """
query {
  article(slug: "back-walk") {
    sections { slug } benefits { slug } precautions { slug }
    nutritionTips { slug } hydration: nutritionTips(kind: HYDRATION) { slug }
  }
  secret: article(slug: "secret") { slug }
  articles(first: 10) { totalCount nodes { slug } }
  lastPage: articles(last: 10) { totalCount nodes { slug } }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { id } }"


@pytest.fixture
async def drafts(seeded: AsyncEngine) -> dict[str, str]:
    """Draft items in the published article, and a whole draft article by an author of its own.
    Returns the global ids of every draft thing."""
    async with session_scope(seeded) as session:
        current = await content.get_article_document(session, slug="back-walk")
        assert current is not None
        data = current.model_dump()
        draft = {"draft": True, "body": "Not yet."}
        data["sections"].append({"slug": "draft-section", "title": "Soon", **draft})
        data["benefits"].append({"slug": "draft-benefit", "title": "Soon", **draft})
        data["precautions"].append({"slug": "draft-precaution", "title": "Soon", **draft})
        data["nutrition_tips"].append(
            {"slug": "draft-tip", "kind": "hydration", "title": "Soon", **draft}
        )
        await content.save_article_document(session, ArticleDocument.model_validate(data))
        secret = article_document(slug="secret", status="draft", author_slug="ghost")
        await content.save_article_document(session, secret)

        ids = {}
        for model in (Section, Benefit, Precaution, NutritionTip):
            rows = (await session.exec(select(model).where(model.slug.startswith("draft-")))).all()
            ids[model.__name__] = to_base64(model.__name__, rows[0].id)
        (secret_row,) = await reads.articles_by_slugs(session, ["secret"], include_drafts=True)
        ids["Article"] = to_base64("Article", secret_row.id)
        secret_benefit = (
            await session.exec(select(Benefit).where(Benefit.article_id == secret_row.id))
        ).first()
        assert secret_benefit is not None
        ids["Benefit of a draft article"] = to_base64("Benefit", secret_benefit.id)
        ghost = (await session.exec(select(Author).where(Author.slug == "ghost"))).one()
        ids["Author of drafts only"] = to_base64("Author", ghost.id)
    return ids


def _slugs(items: list[dict[str, Any]]) -> list[str]:
    return [item["slug"] for item in items]


async def test_public_reads_show_no_draft_anywhere(
    drafts: dict[str, str], graphql: GraphQL
) -> None:
    data = (await graphql(EVERYTHING))["data"]
    article = data["article"]
    for field in ("sections", "benefits", "precautions", "nutritionTips", "hydration"):
        assert not any(slug.startswith("draft-") for slug in _slugs(article[field])), field
    assert data["secret"] is None
    for listing in (data["articles"], data["lastPage"]):
        assert listing == {"totalCount": 1, "nodes": [{"slug": "back-walk"}]}


async def test_no_draft_is_reachable_by_global_id(drafts: dict[str, str], graphql: GraphQL) -> None:
    for what, global_id in drafts.items():
        assert (await graphql(NODE, {"id": global_id}))["data"]["node"] is None, what


async def test_a_preview_token_sees_every_draft(
    drafts: dict[str, str], graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.READ_DRAFTS)
    data = (await graphql(EVERYTHING, token=token))["data"]
    article = data["article"]
    assert _slugs(article["benefits"])[-1] == "draft-benefit"
    assert _slugs(article["sections"])[-1] == "draft-section"
    assert _slugs(article["precautions"])[-1] == "draft-precaution"
    assert _slugs(article["hydration"]) == ["hydration", "draft-tip"]
    assert data["secret"] == {"slug": "secret"}
    assert data["articles"]["totalCount"] == 2
    for what, global_id in drafts.items():
        assert (await graphql(NODE, {"id": global_id}, token=token))["data"]["node"] == {
            "id": global_id
        }, what


async def test_queries_over_get_show_no_draft(drafts: dict[str, str], client: Any) -> None:
    response = await client.get(
        "/graphql", params={"query": '{ article(slug: "secret") { slug } }'}
    )
    assert without_cost(response.json()) == {"data": {"article": None}}


def test_the_seed_file_has_no_drafts_to_begin_with() -> None:
    assert "draft: true" not in (SEED_DIR / "back-walk.yaml").read_text("utf-8")

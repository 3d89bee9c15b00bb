"""Builders of small, valid article documents for tests that need content other than the seed."""

from __future__ import annotations

from typing import Any

from cms.documents import ArticleDocument
from cms.models import ArticleStatus


def article_document(
    *,
    slug: str = "x",
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    published_at: Any = None,
    benefit_body: str = "A body.",
    draft_benefit: bool = False,
    benefit_count: int = 1,
    author_slug: str = "penci",
) -> ArticleDocument:
    benefits: list[dict[str, Any]] = [
        {"slug": "public-benefit", "title": "Public", "body": benefit_body}
    ]
    benefits += [
        {"slug": f"benefit-{i}", "title": f"Benefit {i}", "body": f"Body {i}."}
        for i in range(1, benefit_count)
    ]
    if draft_benefit:
        benefits.append(
            {"slug": "draft-benefit", "title": "Draft", "body": "Not yet.", "draft": True}
        )
    return ArticleDocument.model_validate(
        {
            "slug": slug,
            "title": f"Article {slug}",
            "status": status,
            "published_at": published_at,
            "author": {"slug": author_slug, "name": "Penci"},
            "intro": "An intro.",
            "sections": [{"slug": "lead", "title": "Lead", "body": "Lead body."}],
            "benefits": benefits,
            "nutrition_tips": [
                {"slug": "water", "kind": "hydration", "title": "Water", "body": "Drink."}
            ],
            "precautions": [{"slug": "care", "title": "Care", "body": "Take care."}],
            "conclusion": {"title": "End", "body": "The end."},
        }
    )

"""Builders of small, valid article documents for tests that need content other than the seed."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from cms.documents import ArticleDocument
from cms.gate import RuleOverride, WriteRules, gated_writes
from cms.lint import Finding, Rule
from cms.models import ArticleStatus

# A review of the document's text as seeded, by Dr. Ada Example, MD, that runs out long after
# any test.
REVIEW: dict[str, Any] = {
    "review": {
        "reviewer": {"slug": "ada-example", "name": "Dr. Ada Example", "credentials": "MD"},
        "reviewed_on": "2026-11-20",
        "next_review_due": "2099-01-01",
    }
}


def article_document(
    *,
    slug: str = "x",
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    published_at: Any = None,
    benefit_body: str = "A body.",
    draft_benefit: bool = False,
    benefit_count: int = 1,
    author_slug: str = "penci",
    benefit_title: str = "Public",
    precaution_title: str = "Care",
    precaution_body: str = "Take care.",
    with_precautions: bool = True,
    review: dict[str, Any] | None = None,
) -> ArticleDocument:
    benefits: list[dict[str, Any]] = [
        {"slug": "public-benefit", "title": benefit_title, "body": benefit_body}
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
            "precautions": (
                [{"slug": "care", "title": precaution_title, "body": precaution_body}]
                if with_precautions
                else []
            ),
            **(review or {}),
            "conclusion": {"title": "End", "body": "The end."},
        }
    )


def text_document(
    slug: str,
    title: str,
    *,
    intro: str = "",
    benefits: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    published_at: Any = None,
) -> ArticleDocument:
    """An article with just the text a search or tag test needs."""
    return ArticleDocument.model_validate(
        {
            "slug": slug,
            "title": title,
            "status": status,
            "published_at": published_at,
            "author": {"slug": "penci", "name": "Penci"},
            "intro": intro,
            "benefits": benefits or [],
            "tags": tags or [],
        }
    )


def overriding(*rules: Rule) -> AbstractContextManager[list[Finding]]:
    """Saves inside publish despite `rules`: content only an override makes public (`cms.gate`),
    for tests of what must still never reach readers."""
    return gated_writes(WriteRules(), override=RuleOverride(frozenset(rules), "a test"))

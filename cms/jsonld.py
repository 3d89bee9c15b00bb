"""schema.org structured data (JSON-LD) of an article and of its snippets.

An article is a `MedicalWebPage` for patients (its `headline` and `description` what search
engines show, `cms.seo`) about a `MedicalTherapy`: its benefits are parts of the page
(`hasPart` of `WebPageElement`s) and its precautions are the therapy's `contraindication`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cms.citations import Citation, citation_url
from cms.reviews import ReviewStatus
from cms.snippets import Snippet, SnippetItem, SyndicatedArticle
from cms.text import to_text

__all__ = ["article_json_ld", "snippet_json_ld"]

SCHEMA_ORG = "https://schema.org"
# Who every article is written for: lay readers, not clinicians.
READERS = {"@type": "MedicalAudience", "audienceType": "Patient"}


def article_json_ld(article: SyndicatedArticle) -> dict[str, Any]:
    """The whole article, every published benefit included."""
    return _medical_web_page(article, article.benefits)


def snippet_json_ld(snippet: Snippet) -> dict[str, Any]:
    """The article as seen through one snippet: the same page, with only that benefit as a part."""
    return _medical_web_page(snippet.article, (snippet.benefit,))


def _medical_web_page(
    article: SyndicatedArticle, benefits: Sequence[SnippetItem]
) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@context": SCHEMA_ORG,
        "@type": "MedicalWebPage",
        "@id": article.url,
        "url": article.url,
        "name": article.title,
        "inLanguage": article.language,
        "author": {"@type": "Person", "name": article.author_name},
        "dateModified": _instant(article.updated_at),
    }
    page["headline"] = article.meta.title
    if article.meta.description:
        page["description"] = article.meta.description
    page["medicalAudience"] = READERS
    if article.published_at is not None:
        page["datePublished"] = _instant(article.published_at)
    review = article.review
    # Only a review of the text as it is now is claimed.
    if review.status is ReviewStatus.CURRENT and review.reviewed_on is not None:
        page["lastReviewed"] = review.reviewed_on.isoformat()
        page["reviewedBy"] = {"@type": "Person", "name": review.reviewer}
    page["about"] = {
        "@type": "MedicalTherapy",
        "name": article.title,
        "contraindication": [
            _cited(
                {
                    "@type": "MedicalContraindication",
                    "name": p.title,
                    "description": to_text(p.body),
                },
                p,
            )
            for p in article.precautions
        ],
    }
    page["hasPart"] = [_part(article, b) for b in benefits]
    return page


def _part(article: SyndicatedArticle, benefit: SnippetItem) -> dict[str, Any]:
    part: dict[str, Any] = {
        "@type": "WebPageElement",
        "@id": f"{article.url}#{benefit.slug}",
        "url": f"{article.url}#{benefit.slug}",
        "name": benefit.title,
        "text": to_text(benefit.body),
    }
    if benefit.body_locale != article.language:
        part["inLanguage"] = benefit.body_locale  # not translated: its text fell back
    return _cited(part, benefit)


def _cited(node: dict[str, Any], item: SnippetItem) -> dict[str, Any]:
    """The node with its sources as schema.org `citation`s (`ScholarlyArticle` or `WebPage`)."""
    if item.citations:
        node["citation"] = [_citation(c) for c in item.citations]
    return node


def _citation(citation: Citation) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "ScholarlyArticle" if citation.doi or citation.pmid else "WebPage",
        "name": citation.title,
        "url": citation_url(citation),
    }
    identifiers = []
    if citation.doi:
        identifiers.append(f"https://doi.org/{citation.doi}")
    if citation.pmid:
        identifiers.append(f"https://pubmed.ncbi.nlm.nih.gov/{citation.pmid}/")
    if identifiers:
        node["sameAs"] = identifiers
    if citation.publisher:
        node["publisher"] = {"@type": "Organization", "name": citation.publisher}
    if citation.year:
        node["datePublished"] = str(citation.year)
    return node


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

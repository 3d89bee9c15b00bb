"""schema.org structured data (JSON-LD) of an article and of its snippets.

An article is a `MedicalWebPage` for patients (its `headline` and `description` what search
engines show, `cms.seo`) about a `MedicalTherapy`: its benefits are parts of the page
(`hasPart` of `WebPageElement`s) and its precautions are the therapy's `contraindication`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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
    if article.last_reviewed is not None:
        page["lastReviewed"] = article.last_reviewed.isoformat()
    if article.reviewed_by:
        page["reviewedBy"] = {"@type": "Person", "name": article.reviewed_by}
    page["about"] = {
        "@type": "MedicalTherapy",
        "name": article.title,
        "contraindication": [
            {"@type": "MedicalContraindication", "name": p.title, "description": to_text(p.body)}
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
    return part


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""schema.org structured data: a MedicalWebPage that parses as JSON-LD, real schema.org terms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pyld import jsonld
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import session_scope
from tests.conftest import GraphQL
from tests.documents import REVIEW, article_document

pytestmark = pytest.mark.anyio

ARTICLE_JSON_LD = '{ article(slug: "x") { jsonLd } }'

# Every schema.org term the CMS emits, checked by hand against https://schema.org/ (types, then
# properties). A misspelt or invented term expands to an IRI outside this set and fails the test.
SCHEMA_ORG_TERMS = {
    "MedicalWebPage", "Person", "MedicalTherapy", "MedicalContraindication", "WebPageElement",
    "url", "name", "inLanguage", "author", "dateModified", "datePublished", "headline",
    "lastReviewed", "reviewedBy", "about", "contraindication", "description", "hasPart", "text",
    "MedicalAudience", "medicalAudience", "audienceType",
}  # fmt: skip

# The schema.org context, reduced to what expansion needs offline: every term is schema.org's.
_OFFLINE_CONTEXT = {"@context": {"@vocab": "https://schema.org/"}}


def _load_document(url: str, options: Any = None) -> dict[str, Any]:
    assert url.rstrip("/") == "https://schema.org", url
    return {"contextUrl": None, "documentUrl": url, "document": _OFFLINE_CONTEXT}


def _iris(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type":
                found |= set(value)
            elif not key.startswith("@"):
                found.add(key)
            found |= _iris(value)
    return found


async def _seed_reviewed_article(engine: AsyncEngine) -> None:
    review = REVIEW
    document = article_document(
        review=review, published_at=datetime(2026, 11, 1, tzinfo=UTC), benefit_count=2
    )
    async with session_scope(engine) as session:
        await content.save_article_document(
            session, document, now=datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        )


async def test_an_article_is_a_medical_web_page(engine: AsyncEngine, graphql: GraphQL) -> None:
    await _seed_reviewed_article(engine)
    body = await graphql(ARTICLE_JSON_LD)
    url = "http://127.0.0.1:8000/articles/x"
    assert body["data"]["article"]["jsonLd"] == {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": "Article x",
        "inLanguage": "en",
        "author": {"@type": "Person", "name": "Penci"},
        "dateModified": "2026-11-02T09:30:00Z",
        "datePublished": "2026-11-01T00:00:00Z",
        "headline": "Article x",
        "description": "An intro.",
        "medicalAudience": {"@type": "MedicalAudience", "audienceType": "Patient"},
        "lastReviewed": "2026-11-20",
        "reviewedBy": {"@type": "Person", "name": "Dr. Ada Example, MD"},
        "about": {
            "@type": "MedicalTherapy",
            "name": "Article x",
            "contraindication": [
                {"@type": "MedicalContraindication", "name": "Care", "description": "Take care."}
            ],
        },
        "hasPart": [
            {
                "@type": "WebPageElement",
                "@id": f"{url}#public-benefit",
                "url": f"{url}#public-benefit",
                "name": "Public",
                "text": "A body.",
            },
            {
                "@type": "WebPageElement",
                "@id": f"{url}#benefit-1",
                "url": f"{url}#benefit-1",
                "name": "Benefit 1",
                "text": "Body 1.",
            },
        ],
    }


async def test_json_ld_expands_to_schema_org_terms_only(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql('{ article(slug: "back-walk") { jsonLd } }')
    expanded = jsonld.expand(body["data"]["article"]["jsonLd"], {"documentLoader": _load_document})
    iris = _iris(expanded)
    assert {iri.removeprefix("https://schema.org/") for iri in iris} <= SCHEMA_ORG_TERMS
    assert all(iri.startswith("https://schema.org/") for iri in iris)
    assert "https://schema.org/contraindication" in iris


async def test_the_seo_fields_are_the_headline_and_description(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    document = article_document().model_copy(
        update={"meta_title": "Back walking, explained", "meta_description": "What it does."}
    )
    async with session_scope(engine) as session:
        await content.save_article_document(session, document)
    page = (await graphql(ARTICLE_JSON_LD))["data"]["article"]["jsonLd"]
    assert (page["name"], page["headline"], page["description"]) == (
        "Article x",
        "Back walking, explained",
        "What it does.",
    )
    expanded = jsonld.expand(page, {"documentLoader": _load_document})
    audience = expanded[0]["https://schema.org/medicalAudience"][0]
    assert audience["@type"] == ["https://schema.org/MedicalAudience"]
    assert audience["https://schema.org/audienceType"] == [{"@value": "Patient"}]

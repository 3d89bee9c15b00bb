"""Sources: citations on benefits, precautions and sections, validated, kept by translations and
exports, and shown in the API, snippets, embeds and JSON-LD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.errors import InvalidContent
from cms.seed import export_articles, seed_database
from cms.seed_files import discover_seed_files, read_seed_files
from tests.conftest import SEED_DIR, GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

TRIAL = {
    "title": "Walking backwards and knee pain: a randomised trial",
    "doi": "10.1136/bjsports-2020-102345",
    "pmid": "31234567",
    "publisher": "British Journal of Sports Medicine",
    "year": 2021,
}
GUIDE = {
    "title": "Exercise in pregnancy",
    "url": "https://www.example.org/pregnancy",
    "publisher": "Example Health Service",
    "accessed": "2026-11-20",
}
ADD = """
mutation Add($input: BenefitInput!) {
  benefitAdd(article: "back-walk", expectedVersion: 1, input: $input) {
    article { version } errors { field message code }
  }
}
"""
CITATIONS = "citations { title doi pmid url publisher year accessed }"


def _cited_seed(tmp_path: Path) -> Path:
    """The seed article with a cited first benefit and first precaution."""
    seed = tmp_path / "seed"
    seed.mkdir()
    for name in ("back-walk.yaml", "back-walk.de.yaml"):
        (seed / name).write_text((SEED_DIR / name).read_text("utf-8"), "utf-8")
    path = seed / "back-walk.yaml"
    text = path.read_text("utf-8")
    trial = (
        "    citations:\n"
        f"      - title: '{TRIAL['title']}'\n        doi: {TRIAL['doi']}\n"
        f"        pmid: '{TRIAL['pmid']}'\n        publisher: {TRIAL['publisher']}\n"
        f"        year: {TRIAL['year']}\n"
    )
    guide = (
        "    citations:\n"
        f"      - title: {GUIDE['title']}\n        url: {GUIDE['url']}\n"
        f"        publisher: {GUIDE['publisher']}\n        accessed: {GUIDE['accessed']}\n"
    )
    text = text.replace("  - slug: pain-management\n", trial + "  - slug: pain-management\n", 1)
    text = text.replace("  - slug: medical-conditions\n", guide + "  - slug: medical-conditions\n")
    path.write_text(text, "utf-8")
    return seed


def _graphql_citation(citation: dict[str, Any]) -> dict[str, Any]:
    keys = ("title", "doi", "pmid", "url", "publisher", "year", "accessed")
    return {key: citation.get(key) for key in keys}


async def test_citations_are_read_in_every_locale_and_exported(
    engine: AsyncEngine, graphql: GraphQL, tmp_path: Path
) -> None:
    await seed_database(engine, [_cited_seed(tmp_path)])
    for locale in ("en", "de"):
        query = (
            f'{{ article(slug: "back-walk", locale: "{locale}") {{ benefits {{ {CITATIONS} }} '
            f"precautions {{ {CITATIONS} }} }} }}"
        )
        article = (await graphql(query))["data"]["article"]
        assert article["benefits"][0]["citations"] == [_graphql_citation(TRIAL)]
        assert article["benefits"][1]["citations"] == []
        assert article["precautions"][0]["citations"] == [_graphql_citation(GUIDE)]
    written, _ = await export_articles(engine, tmp_path / "export")
    assert written.read_text("utf-8") == (tmp_path / "seed" / "back-walk.yaml").read_text("utf-8")


async def test_snippets_list_the_sources_of_their_benefit_and_precautions(
    engine: AsyncEngine, graphql: GraphQL, tmp_path: Path
) -> None:
    await seed_database(engine, [_cited_seed(tmp_path)])
    body = await graphql(
        '{ benefitSnippet(article: "back-walk", benefit: "stress-relief") { html jsonLd } }'
    )
    snippet = body["data"]["benefitSnippet"]
    html = snippet["html"]
    assert '<h3 class="bwk-snippet__sources-title">Sources</h3>' in html
    assert (
        '<a href="https://www.example.org/pregnancy" rel="noopener noreferrer" '
        'target="_blank">Exercise in pregnancy</a>. Example Health Service.'
    ) in html
    trial = (
        f'<a href="https://doi.org/{TRIAL["doi"]}" rel="noopener noreferrer" target="_blank">'
        f"{TRIAL['title']}</a>. British Journal of Sports Medicine, 2021."
    )
    assert trial in html
    assert html.index(trial) < html.index("Exercise in pregnancy</a>")  # the claim's first
    (part,) = snippet["jsonLd"]["hasPart"]
    assert [c["name"] for c in part["citation"]] == [TRIAL["title"]]
    # Another benefit of the article travels with the precautions' sources only.
    other = await graphql(
        '{ benefitSnippet(article: "back-walk", benefit: "pain-management") { html } }'
    )
    assert TRIAL["title"] not in other["data"]["benefitSnippet"]["html"]
    assert "Exercise in pregnancy</a>" in other["data"]["benefitSnippet"]["html"]


async def test_json_ld_cites_with_schema_org_terms(
    engine: AsyncEngine, graphql: GraphQL, tmp_path: Path
) -> None:
    await seed_database(engine, [_cited_seed(tmp_path)])
    page = (await graphql('{ article(slug: "back-walk") { jsonLd } }'))["data"]["article"]["jsonLd"]
    assert page["hasPart"][0]["citation"] == [
        {
            "@type": "ScholarlyArticle",
            "name": TRIAL["title"],
            "url": f"https://doi.org/{TRIAL['doi']}",
            "sameAs": [
                f"https://doi.org/{TRIAL['doi']}",
                f"https://pubmed.ncbi.nlm.nih.gov/{TRIAL['pmid']}/",
            ],
            "publisher": {"@type": "Organization", "name": TRIAL["publisher"]},
            "datePublished": "2021",
        }
    ]
    assert page["about"]["contraindication"][0]["citation"][0]["@type"] == "WebPage"
    expanded = jsonld.expand(page, {"documentLoader": _offline_schema_org})
    (node,) = expanded
    # Every term is schema.org's own, checked by hand against https://schema.org/.
    terms = {"citation", "ScholarlyArticle", "WebPage", "sameAs", "publisher", "Organization"}
    assert terms <= {iri.removeprefix("https://schema.org/") for iri in _iris(expanded)}
    cited = node["https://schema.org/hasPart"][0]["https://schema.org/citation"][0]
    assert cited["@type"] == ["https://schema.org/ScholarlyArticle"]
    assert cited["https://schema.org/name"] == [{"@value": TRIAL["title"]}]


@pytest.mark.parametrize(
    ("citation", "field", "message"),
    [
        ({"title": "T", "doi": "doi:10.1/x"}, "input.citations[0].doi", "String should match"),
        ({"title": "T", "pmid": "PMC123"}, "input.citations[0].pmid", "String should match"),
        (
            {"title": "T", "url": "javascript:alert(1)"},
            "input.citations[0].url",
            "not an http(s) URL",
        ),
        ({"title": "T"}, "input.citations[0]", "a citation needs at least one of doi, pmid"),
        ({"title": "", "pmid": "1"}, "input.citations[0].title", "String should have at least"),
    ],
    ids=["doi", "pmid", "url", "nothing to find it by", "no title"],
)
async def test_a_bad_citation_is_refused_naming_its_field(
    seeded: AsyncEngine,
    graphql: GraphQL,
    make_token: TokenFactory,
    citation: dict[str, Any],
    field: str,
    message: str,
) -> None:
    benefit = {"slug": "new", "title": "New", "body": "Some words here.", "citations": [citation]}
    body = await graphql(ADD, {"input": benefit}, token=await make_token(Scope.WRITE))
    result = body["data"]["benefitAdd"]
    assert result["article"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, "INVALID")]
    assert result["errors"][0]["message"].startswith(message)


def test_a_bad_citation_in_a_seed_file_names_its_line(tmp_path: Path) -> None:
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    bad = "    citations:\n      - title: T\n        doi: 10.12/short\n"
    (tmp_path / "back-walk.yaml").write_text(
        text.replace("  - slug: pain-management\n", bad + "  - slug: pain-management\n", 1),
        "utf-8",
    )
    with pytest.raises(InvalidContent) as raised:
        read_seed_files(discover_seed_files([tmp_path]))
    (problem,) = raised.value.problems
    line = text[: text.index("  - slug: pain-management\n")].count("\n") + 3
    assert (problem.field, problem.line) == ("benefits[0].citations[0].doi", line)


def _iris(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_iris(item) for item in node))
    if isinstance(node, dict):
        found = set(node.get("@type", []))
        for key, value in node.items():
            found |= _iris(value) | ({key} if not key.startswith("@") else set())
        return found
    return set()


def _offline_schema_org(url: str, options: Any = None) -> dict[str, Any]:
    assert url.rstrip("/") == "https://schema.org", url
    document = {"@context": {"@vocab": "https://schema.org/"}}
    return {"contextUrl": None, "documentUrl": url, "document": document}

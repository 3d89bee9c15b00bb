"""Reading content for a locale: the argument cascades to every nested field, each text field
falls back on its own (requested -> its language -> the article's locale) and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.documents import TranslationDocument
from cms.seed import export_articles, seed_database
from cms.translations import save_article_translation
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document

pytestmark = pytest.mark.anyio

FIELD_LOCALES = "fieldLocales { field locale fallback }"

ARTICLE = f"""
query Article($slug: String!, $locale: String) {{
  article(slug: $slug, locale: $locale) {{
    locale baseLocale availableLocales title {FIELD_LOCALES}
    benefits {{ slug title body locale {FIELD_LOCALES} }}
    precautions {{ slug title body locale {FIELD_LOCALES} }}
    conclusion {{ title locale {FIELD_LOCALES} }}
  }}
}}
"""

SNIPPET = f"""
query Snippet($locale: String) {{
  benefitSnippet(article: "x", benefit: "public-benefit", locale: $locale) {{
    locale title disclaimer html jsonLd {FIELD_LOCALES}
    precautions {{ title locale {FIELD_LOCALES} }}
    article {{ title {FIELD_LOCALES} }}
  }}
}}
"""

NODE = f"""
query Node($id: ID!, $locale: String) {{
  node(id: $id, locale: $locale) {{
    ... on Benefit {{ title locale {FIELD_LOCALES} }}
    ... on Article {{ title locale }}
  }}
}}
"""

# A partial German translation, and an Austrian one of the title alone: the precaution is
# translated in neither, so it must come back in English, reported as such.
GERMAN = {
    "translation_of": "x",
    "locale": "de",
    "title": "Artikel x",
    "benefits": {"public-benefit": {"title": "Öffentlich", "body": "Ein Text."}},
    "conclusion": {"title": "Ende"},
}
AUSTRIAN = {"translation_of": "x", "locale": "de-AT", "title": "Artikel x (AT)"}


def _fields(**locales: tuple[str, bool]) -> list[dict[str, Any]]:
    return [
        {"field": field, "locale": locale, "fallback": fallback}
        for field, (locale, fallback) in locales.items()
    ]


async def _save(engine: AsyncEngine, *translations: dict[str, Any], slug: str = "x") -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(session, article_document(slug=slug))
        for translation in translations:
            document = TranslationDocument.model_validate({**translation, "translation_of": slug})
            await save_article_translation(session, document)


async def test_the_shipped_german_translation_reads_end_to_end(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(ARTICLE, {"slug": "back-walk", "locale": "de"})
    article = body["data"]["article"]
    assert (article["locale"], article["baseLocale"], article["availableLocales"]) == (
        "de",
        "en",
        ["en", "de"],
    )
    assert article["title"] == "Die Vorteile des Back Walk"
    assert [b["title"] for b in article["benefits"]] == [
        "Stressabbau", "Schmerzlinderung", "Bessere Durchblutung", "Entgiftung",
        "Mehr Beweglichkeit", "Verbesserter Energiefluss", "Emotionale Entlastung",
    ]  # fmt: skip
    assert [p["title"] for p in article["precautions"]] == [
        "Schwangerschaft",
        "Erkrankungen",
        "Druck",
    ]
    german = _fields(title=("de", False), body=("de", False))
    for item in article["benefits"] + article["precautions"]:
        assert (item["locale"], item["fieldLocales"]) == ("de", german)


async def test_the_articles_structured_data_is_in_the_locale_read(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    query = 'query($l: String) { article(slug: "back-walk", locale: $l) { jsonLd } }'
    json_ld = (await graphql(query, {"l": "de"}))["data"]["article"]["jsonLd"]
    assert (json_ld["inLanguage"], json_ld["name"]) == ("de", "Die Vorteile des Back Walk")
    assert json_ld["hasPart"][0]["name"] == "Stressabbau"
    assert "inLanguage" not in json_ld["hasPart"][0]
    assert json_ld["about"]["contraindication"][0]["name"] == "Schwangerschaft"
    english = (await graphql(query, {"l": None}))["data"]["article"]["jsonLd"]
    assert (english["inLanguage"], english["name"]) == ("en", "Back Walk Benefits")


async def test_without_a_locale_the_article_reads_in_its_own(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    article = (await graphql(ARTICLE, {"slug": "back-walk"}))["data"]["article"]
    assert (article["locale"], article["title"]) == ("en", "Back Walk Benefits")
    assert article["fieldLocales"] == _fields(
        title=("en", False), headline=("en", False), intro=("en", False)
    )
    assert article["benefits"][0]["title"] == "Stress Relief"
    assert article["benefits"][0]["fieldLocales"] == _fields(
        title=("en", False), body=("en", False)
    )


async def test_each_field_falls_back_on_its_own_along_the_chain(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(engine, GERMAN, AUSTRIAN)
    article = (await graphql(ARTICLE, {"slug": "x", "locale": "de-AT"}))["data"]["article"]
    assert article["locale"] == "de-AT"
    assert article["availableLocales"] == ["en", "de", "de-AT"]
    assert article["title"] == "Artikel x (AT)"
    assert article["fieldLocales"] == _fields(
        title=("de-AT", False), headline=("en", True), intro=("en", True)
    )
    (benefit,) = article["benefits"]
    assert (benefit["title"], benefit["body"]) == ("Öffentlich", "Ein Text.")
    assert benefit["fieldLocales"] == _fields(title=("de", False), body=("de", False))
    (precaution,) = article["precautions"]
    assert (precaution["title"], precaution["body"]) == ("Care", "Take care.")
    assert (precaution["locale"], precaution["fieldLocales"]) == (
        "de-AT",
        _fields(title=("en", True), body=("en", True)),
    )
    assert article["conclusion"] == {
        "title": "Ende",
        "locale": "de-AT",
        "fieldLocales": _fields(title=("de", False), body=("en", True)),
    }


async def test_a_locale_with_no_translation_falls_back_entirely(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(engine, GERMAN)
    article = (await graphql(ARTICLE, {"slug": "x", "locale": "fr-CA"}))["data"]["article"]
    assert (article["locale"], article["title"]) == ("fr-CA", "Article x")
    assert article["fieldLocales"] == _fields(
        title=("en", True), headline=("en", True), intro=("en", True)
    )
    assert article["benefits"][0]["fieldLocales"] == _fields(title=("en", True), body=("en", True))


async def test_a_locale_is_read_case_insensitively(engine: AsyncEngine, graphql: GraphQL) -> None:
    await _save(engine, GERMAN, AUSTRIAN)
    article = (await graphql(ARTICLE, {"slug": "x", "locale": "DE-at"}))["data"]["article"]
    assert (article["locale"], article["title"]) == ("de-AT", "Artikel x (AT)")


@pytest.mark.parametrize("locale", ["german", "de_AT_x", "", "d", "de-", "de-AT-extra"])
async def test_a_malformed_locale_is_bad_user_input(
    seeded: AsyncEngine, graphql: GraphQL, locale: str
) -> None:
    body = await graphql(ARTICLE, {"slug": "back-walk", "locale": locale})
    assert body["data"] == {"article": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        f"Invalid locale {locale!r}: expected a BCP 47 tag such as `de` or `de-AT`."
    )


async def test_the_list_of_articles_takes_the_locale(engine: AsyncEngine, graphql: GraphQL) -> None:
    await _save(engine, GERMAN)
    await _save(engine, slug="y")
    query = """query($locale: String) { articles(first: 10, locale: $locale) {
      nodes { slug title locale benefits { title } } } }"""
    nodes = (await graphql(query, {"locale": "de"}))["data"]["articles"]["nodes"]
    assert nodes == [
        {"slug": "x", "title": "Artikel x", "locale": "de", "benefits": [{"title": "Öffentlich"}]},
        {"slug": "y", "title": "Article y", "locale": "de", "benefits": [{"title": "Public"}]},
    ]


async def test_a_node_lookup_takes_the_locale(engine: AsyncEngine, graphql: GraphQL) -> None:
    await _save(engine, GERMAN)
    ids = (await graphql('{ article(slug: "x") { id benefits { id } } }'))["data"]["article"]
    benefit = (await graphql(NODE, {"id": ids["benefits"][0]["id"], "locale": "de"}))["data"]
    assert benefit["node"] == {
        "title": "Öffentlich",
        "locale": "de",
        "fieldLocales": _fields(title=("de", False), body=("de", False)),
    }
    english = (await graphql(NODE, {"id": ids["benefits"][0]["id"]}))["data"]["node"]
    assert (english["title"], english["locale"]) == ("Public", "en")
    article = (await graphql(NODE, {"id": ids["id"], "locale": "de"}))["data"]["node"]
    assert article == {"title": "Artikel x", "locale": "de"}
    bad = await graphql(NODE, {"id": ids["id"], "locale": "??"})
    assert [e["extensions"]["code"] for e in bad["errors"]] == ["BAD_USER_INPUT"]


async def test_a_snippet_carries_its_language_and_marks_what_fell_back(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(engine, GERMAN, AUSTRIAN)
    snippet = (await graphql(SNIPPET, {"locale": "de-AT"}))["data"]["benefitSnippet"]
    assert (snippet["locale"], snippet["title"]) == ("de-AT", "Öffentlich")
    assert snippet["disclaimer"].startswith("Diese Informationen dienen")
    assert snippet["fieldLocales"] == _fields(
        title=("de", False), body=("de", False), disclaimer=("de", False)
    )
    assert snippet["precautions"] == [
        {
            "title": "Care",
            "locale": "de-AT",
            "fieldLocales": _fields(title=("en", True), body=("en", True)),
        }
    ]
    assert snippet["article"] == {
        "title": "Artikel x (AT)",
        "fieldLocales": [{"field": "title", "locale": "de-AT", "fallback": False}],
    }
    html = snippet["html"]
    assert html.startswith('<article class="bwk-snippet" lang="de-AT">')
    assert '<h2 class="bwk-snippet__title" lang="de">Öffentlich</h2>' in html
    # The untranslated precaution travels with the claim, in English and marked so.
    assert (
        '<li class="bwk-snippet__precaution" lang="en"><strong class="bwk-snippet__precaution-'
        'title">Care</strong><p>Take care.</p></li>'
    ) in html
    assert '<h3 class="bwk-snippet__precautions-title" lang="de">Vorsichtsmaßnahmen</h3>' in html
    json_ld = snippet["jsonLd"]
    assert (json_ld["inLanguage"], json_ld["name"]) == ("de-AT", "Artikel x (AT)")
    assert [(part["name"], part["inLanguage"]) for part in json_ld["hasPart"]] == [
        ("Öffentlich", "de")
    ]


async def test_an_english_snippet_is_unchanged_by_translations(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(engine, GERMAN)
    snippet = (await graphql(SNIPPET, {}))["data"]["benefitSnippet"]
    assert snippet["html"].startswith('<article class="bwk-snippet" lang="en">')
    assert ' lang="' not in snippet["html"].removeprefix('<article class="bwk-snippet" lang="en">')
    assert snippet["jsonLd"]["inLanguage"] == "en"
    assert "inLanguage" not in snippet["jsonLd"]["hasPart"][0]


async def test_snippets_list_takes_the_locale(seeded: AsyncEngine, graphql: GraphQL) -> None:
    query = """{ benefitSnippets(article: "back-walk", locale: "de") {
      title jsonLd precautions { title } } }"""
    snippets = (await graphql(query))["data"]["benefitSnippets"]
    assert [s["title"] for s in snippets][:2] == ["Stressabbau", "Schmerzlinderung"]
    assert {s["jsonLd"]["inLanguage"] for s in snippets} == {"de"}
    assert [p["title"] for p in snippets[0]["precautions"]] == [
        "Schwangerschaft", "Erkrankungen", "Druck",
    ]  # fmt: skip


async def test_cached_responses_in_two_locales_never_mix(
    seeded: AsyncEngine, graphql: GraphQL, sql_statements: list[str]
) -> None:
    english = await graphql(ARTICLE, {"slug": "back-walk", "locale": "en"})
    german = await graphql(ARTICLE, {"slug": "back-walk", "locale": "de"})
    default = await graphql(ARTICLE, {"slug": "back-walk"})
    assert english["data"]["article"]["title"] == "Back Walk Benefits"
    assert german["data"]["article"]["title"] == "Die Vorteile des Back Walk"
    assert default == english
    sql_statements.clear()
    for _ in range(2):
        assert await graphql(ARTICLE, {"slug": "back-walk", "locale": "de"}) == german
        assert await graphql(ARTICLE, {"slug": "back-walk", "locale": "en"}) == english
    # All four were answered from the cache (PostgreSQL reads the content revision each time).
    assert len(sql_statements) == (0 if seeded.dialect.name == "sqlite" else 4), sql_statements


async def test_a_changed_translation_is_read_at_once(engine: AsyncEngine, graphql: GraphQL) -> None:
    await _save(engine, GERMAN)
    before = await graphql(ARTICLE, {"slug": "x", "locale": "de"})
    assert before["data"]["article"]["title"] == "Artikel x"
    async with session_scope(engine) as session:
        changed = TranslationDocument.model_validate({**GERMAN, "title": "Neuer Titel"})
        await save_article_translation(session, changed)
    after = await graphql(ARTICLE, {"slug": "x", "locale": "de"})
    assert after["data"]["article"]["title"] == "Neuer Titel"


HOT_QUERY = """
query Hot($slug: String!, $locale: String) {
  article(slug: $slug, locale: $locale) {
    title headline intro(format: HTML) locale fieldLocales { field locale }
    author { name bio }
    sections { title kind body(format: HTML) fieldLocales { field locale } }
    benefits { title body(format: HTML) fieldLocales { field locale } }
    nutritionTips { kind title body(format: HTML) }
    precautions { title body(format: HTML) fieldLocales { field locale } }
    conclusion { title body(format: HTML) fieldLocales { field locale } }
  }
}
"""

LIST_QUERY = """
query List($first: Int!, $locale: String) {
  articles(first: $first, locale: $locale) {
    totalCount
    nodes { slug author { name } benefits { title } precautions { title fieldLocales { locale } }
            sections { title } nutritionTips { title } jsonLd }
  }
}
"""


async def _save_many(engine: AsyncEngine, count: int, benefit_count: int) -> None:
    async with session_scope(engine) as session:
        for n in range(count):
            slug = f"a-{n:03d}"
            document = article_document(slug=slug, benefit_count=benefit_count)
            await content.save_article_document(session, document)
            german = {**GERMAN, "translation_of": slug}
            await save_article_translation(session, TranslationDocument.model_validate(german))


@pytest.mark.parametrize("benefit_count", [1, 40])
async def test_reading_an_article_in_a_locale_costs_one_statement_more(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], benefit_count: int
) -> None:
    await _save_many(engine, 1, benefit_count)
    sql_statements.clear()
    body = await graphql(HOT_QUERY, {"slug": "a-000", "locale": "de-AT"})
    assert body["data"]["article"]["benefits"][0]["title"] == "Öffentlich"
    assert len(body["data"]["article"]["benefits"]) == benefit_count
    # content revision, next scheduled publication (read once after each write), then the
    # article, its translations, author and items in one statement
    assert len(sql_statements) == 3, sql_statements


@pytest.mark.parametrize("article_count", [1, 25])
async def test_a_page_of_articles_in_a_locale_loads_translations_in_one_statement(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], article_count: int
) -> None:
    await _save_many(engine, article_count, 3)
    sql_statements.clear()
    body = await graphql(LIST_QUERY, {"first": 100, "locale": "de"})
    nodes = body["data"]["articles"]["nodes"]
    assert len(nodes) == article_count
    assert {node["benefits"][0]["title"] for node in nodes} == {"Öffentlich"}
    # content revision, next scheduled publication (read once after each write), the page, its
    # translations, count, authors and items in one statement, and the medical reviews (one
    # statement, for the JSON-LD's review)
    assert len(sql_statements) == 4, sql_statements


BENEFIT_DELETE = """
mutation Delete($v: Int!, $slug: String!) {
  benefitDelete(article: "back-walk", slug: $slug, expectedVersion: $v) {
    article { version } errors { code }
  }
}
"""
ARTICLE_CREATE = """
mutation Create($input: ArticleInput!) {
  articleCreate(input: $input) { article { baseLocale locale } errors { field message code } }
}
"""


async def test_deleting_a_benefit_deletes_its_translations_too(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, tmp_path: Path
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    body = await graphql(BENEFIT_DELETE, {"v": 1, "slug": "detoxification"}, token=token)
    assert body["data"]["benefitDelete"] == {"article": {"version": 2}, "errors": []}
    # The article is published: the deletion waits in its pending version until published.
    publish = (
        'mutation { articlePublish(slug: "back-walk", expectedVersion: 2) { errors { code } } }'
    )
    assert (await graphql(publish, token=token))["data"]["articlePublish"]["errors"] == []
    article = (await graphql(ARTICLE, {"slug": "back-walk", "locale": "de"}))["data"]["article"]
    assert "Entgiftung" not in [b["title"] for b in article["benefits"]]
    # What is stored still makes valid seed files: the export seeds again as it is.
    written = await export_articles(seeded, tmp_path)
    german = (tmp_path / "back-walk.de.yaml").read_text("utf-8")
    assert "detoxification" not in german and "Stressabbau" in german
    report = await seed_database(seeded, [tmp_path])
    assert [o.value for o in report.outcomes.values()] == ["unchanged"] * len(written)


async def test_a_new_article_can_be_written_in_another_locale(
    penci: None, engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    new = {"slug": "kur", "title": "Kur", "author": {"slug": "penci", "name": "Penci"}}
    body = await graphql(ARTICLE_CREATE, {"input": {**new, "locale": "de"}}, token=token)
    assert body["data"]["articleCreate"] == {
        "article": {"baseLocale": "de", "locale": "de"},
        "errors": [],
    }
    body = await graphql(ARTICLE_CREATE, {"input": {**new, "locale": "deutsch"}}, token=token)
    assert body["data"]["articleCreate"] == {
        "article": None,
        "errors": [
            {
                "field": "input.locale",
                "message": "not a locale: expected a BCP 47 tag in canonical case, "
                "e.g. `de` or `de-AT`",
                "code": "INVALID",
            }
        ],
    }

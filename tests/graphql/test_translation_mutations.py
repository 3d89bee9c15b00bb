"""`articleTranslationSave` and `articleTranslationDelete`: translations written over GraphQL
like any other edit (scopes, field-addressed errors, nothing half-written). The article here is
published, so an edit waits until `articlePublish` (`test_pending_translations`); once published
it is seen at once by cached readers, the change feed and `contentChanged`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import translations
from cms.access import Scope
from cms.db import session_scope
from cms.http import create_app
from cms.settings import Settings
from tests.conftest import GraphQL, TokenFactory
from tests.graphql_ws import Subscriber, wait_for_subscribers
from tests.live_server import live_server

pytestmark = pytest.mark.anyio

SAVE = """
mutation Save($slug: String!, $locale: String!, $v: Int!, $input: ArticleTranslationInput!) {
  articleTranslationSave(slug: $slug, locale: $locale, expectedVersion: $v, input: $input) {
    article { slug locale title availableLocales benefits { slug title } }
    errors { field message code }
  }
}
"""
DELETE = """
mutation Delete($slug: String!, $locale: String!) {
  articleTranslationDelete(slug: $slug, locale: $locale) {
    article { locale title availableLocales } errors { field message code }
  }
}
"""
READ = """
query Read($locale: String) {
  article(slug: "back-walk", locale: $locale) {
    title locale availableLocales benefits { slug title }
  }
}
"""
FEED = """
query Feed($since: String) {
  changes(since: $since) {
    nodes { type slug locale article(locale: "fr") { title locale } } endCursor
  }
}
"""
FRENCH = {
    "title": "Les bienfaits du Back Walk",
    "benefits": [{"slug": "stress-relief", "title": "Anti-stress"}],
}


PUBLISH = """
mutation Publish($v: Int!) {
  articlePublish(slug: "back-walk", expectedVersion: $v) { errors { code } }
}
"""


async def _editor(make_token: TokenFactory) -> str:
    # An editor who may also publish what they translate.
    return await make_token(Scope.WRITE, Scope.PUBLISH)


async def _save(
    graphql: GraphQL, token: str, input: dict[str, Any], locale: str = "fr", slug: str = "back-walk"
) -> dict[str, Any]:
    """Save the translation and publish the article: the payload is the save's."""
    version = await _version(graphql, token, slug, locale)
    variables = {"slug": slug, "locale": locale, "v": version, "input": input}
    body = await graphql(SAVE, variables, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["articleTranslationSave"]
    if not payload["errors"]:
        await _publish(graphql, token)
    return payload


async def _delete(graphql: GraphQL, token: str, locale: str) -> dict[str, Any]:
    """Delete the translation and publish the article: the payload is the deletion's."""
    body = await graphql(DELETE, {"slug": "back-walk", "locale": locale}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["articleTranslationDelete"]
    await _publish(graphql, token)
    return payload


async def _publish(graphql: GraphQL, token: str) -> None:
    query = '{ article(slug: "back-walk") { version hasPendingChanges } }'
    article = (await graphql(query, token=token))["data"]["article"]
    if article["hasPendingChanges"]:
        body = await graphql(PUBLISH, {"v": article["version"]}, token=token)
        assert body["data"]["articlePublish"]["errors"] == [], body


async def _version(graphql: GraphQL, token: str, slug: str, locale: str) -> int:
    """The translation's version now, as an editor's client reads it before an edit."""
    query = "query V($s: String!) { article(slug: $s) { translationVersions { locale version } } }"
    body = await graphql(query, {"s": slug}, token=token)
    article = body["data"]["article"]
    versions = (
        {v["locale"]: v["version"] for v in article["translationVersions"]} if article else {}
    )
    return int(versions.get(locale, 0))


async def _read(graphql: GraphQL, locale: str | None = "fr") -> dict[str, Any]:
    body = await graphql(READ, {"locale": locale})
    assert "errors" not in body, body
    article: dict[str, Any] = body["data"]["article"]
    return article


async def _stored(engine: AsyncEngine) -> list[tuple[str, dict[str, Any]]]:
    async with session_scope(engine) as session:
        documents = await translations.get_translation_documents(session, slug="back-walk")
    return [(document.locale, document.overlay()) for document in documents]


async def test_a_saved_translation_is_read_in_its_locale(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    payload = await _save(graphql, await _editor(make_token), FRENCH, locale="FR")
    assert payload["errors"] == []
    article = payload["article"]
    assert (article["slug"], article["locale"], article["title"]) == (
        "back-walk", "fr", "Les bienfaits du Back Walk",
    )  # fmt: skip
    assert article["availableLocales"] == ["en", "de", "fr"]
    assert article["benefits"][:2] == [
        {"slug": "stress-relief", "title": "Anti-stress"},
        {"slug": "pain-management", "title": "Pain Management"},
    ]
    assert await _read(graphql) == {
        "title": "Les bienfaits du Back Walk", "locale": "fr",
        "availableLocales": ["en", "de", "fr"], "benefits": article["benefits"],
    }  # fmt: skip
    assert (await _read(graphql, None))["title"] == "Back Walk Benefits"


async def test_saving_replaces_the_whole_translation(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _editor(make_token)
    await _save(graphql, token, FRENCH)
    payload = await _save(graphql, token, {"headline": "Un titre long"})
    assert payload["errors"] == []
    stored = dict(await _stored(seeded))
    assert stored["fr"] == {"headline": "Un titre long"}
    assert payload["article"]["title"] == "Back Walk Benefits"  # no French title any more


async def test_the_response_cache_never_serves_the_old_translation(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, sql_statements: list[str]
) -> None:
    token = await _editor(make_token)
    before = await _read(graphql, "de")
    assert before["title"] == "Die Vorteile des Back Walk"
    sql_statements.clear()
    assert await _read(graphql, "de") == before
    # Answered from the cache (PostgreSQL reads the content revision to know it may).
    assert len(sql_statements) == (0 if seeded.dialect.name == "sqlite" else 1), sql_statements
    german = {"title": "Neu: Back Walk", "benefits": [{"slug": "stress-relief", "body": "Ruhe."}]}
    assert (await _save(graphql, token, german, locale="de"))["errors"] == []
    after = await _read(graphql, "de")
    assert after["title"] == "Neu: Back Walk"
    # The save replaced the German translation: the benefit titles it no longer has fall back.
    assert after["benefits"][0] == {"slug": "stress-relief", "title": "Stress Relief"}
    assert await _delete(graphql, token, "de") == {
        "article": {"locale": "de", "title": "Back Walk Benefits", "availableLocales": ["en"]},
        "errors": [],
    }
    assert (await _read(graphql, "de"))["title"] == "Back Walk Benefits"


@pytest.mark.parametrize("reader", ["public", "editor"])
async def test_the_change_feed_sees_saves_and_deletions(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, reader: str
) -> None:
    token = await _editor(make_token)
    # A translation of the (version 1) article still updates it.
    viewer = await make_token(Scope.READ_DRAFTS) if reader == "editor" else None
    start = (await graphql(FEED, {"since": None}, token=viewer))["data"]["changes"]["endCursor"]
    # Editors see the pending save and its publication; the public, the publication.
    changes = 2 if reader == "editor" else 1
    await _save(graphql, token, FRENCH)
    await _save(graphql, token, FRENCH)  # unchanged: no change recorded
    feed = (await graphql(FEED, {"since": start}, token=viewer))["data"]["changes"]
    assert feed["nodes"] == [
        {
            "type": "UPDATED", "slug": "back-walk", "locale": "fr",
            "article": {"title": "Les bienfaits du Back Walk", "locale": "fr"},
        }
    ] * changes  # fmt: skip
    await _delete(graphql, token, "fr")
    feed = (await graphql(FEED, {"since": feed["endCursor"]}, token=viewer))["data"]["changes"]
    assert feed["nodes"] == [
        {
            "type": "UPDATED", "slug": "back-walk", "locale": "fr",
            "article": {"title": "Back Walk Benefits", "locale": "fr"},
        }
    ] * changes  # fmt: skip


# --- refusals ----------------------------------------------------------------------------------


def _error(field: str | None, message: str, code: str = "INVALID") -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


@pytest.mark.parametrize(
    ("slug", "locale", "input", "errors"),
    [
        pytest.param(
            "nowhere", "fr", FRENCH, [_error("slug", "No article 'nowhere'.", "NOT_FOUND")],
            id="unknown-slug",
        ),
        pytest.param(
            "back-walk", "french", FRENCH,
            [_error("locale", "not a locale: expected a BCP 47 tag such as `de` or `de-AT`")],
            id="invalid-locale",
        ),
        pytest.param(
            "back-walk", "en", FRENCH,
            [
                _error(
                    "locale",
                    "'back-walk' is written in 'en': a translation needs another locale",
                )
            ],
            id="base-locale",
        ),
        pytest.param(
            "back-walk", "fr",
            {"benefits": [{"slug": "stress-relief", "title": "Anti-stress"},
                          {"slug": "flying", "title": "Voler"}]},
            [
                _error(
                    "input.benefits[1].slug", "'back-walk' has no benefits item 'flying'"
                )
            ],
            id="unknown-item",
        ),
        pytest.param(
            "back-walk", "fr",
            {"sections": [{"slug": "benefits", "title": "A"}, {"slug": "benefits", "title": "B"}],
             "precautions": [{"slug": "pressure"}]},
            [
                _error("input.sections[1].slug", "duplicate slug 'benefits': listed twice"),
                _error("input.precautions[0]", "translates nothing: give its title or body"),
            ],
            id="duplicate-and-empty-items",
        ),
        pytest.param(
            "back-walk", "fr", {"title": "  ", "benefits": [{"slug": "hydration", "body": ""}]},
            [
                _error("input.title", "String should have at least 1 character"),
                _error("input.benefits[0].body", "String should have at least 1 character"),
            ],
            id="empty-text",
        ),
    ],
)  # fmt: skip
async def test_a_refused_save_writes_nothing(
    seeded: AsyncEngine,
    graphql: GraphQL,
    make_token: TokenFactory,
    slug: str,
    locale: str,
    input: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    before = await _stored(seeded)
    start = (await graphql(FEED, {"since": None}))["data"]["changes"]["endCursor"]
    payload = await _save(graphql, await _editor(make_token), input, locale=locale, slug=slug)
    assert payload == {"article": None, "errors": errors}
    assert await _stored(seeded) == before
    assert (await graphql(FEED, {"since": start}))["data"]["changes"]["nodes"] == []


@pytest.mark.parametrize(
    ("slug", "locale", "error"),
    [
        ("nowhere", "de", _error("slug", "No article 'nowhere'.", "NOT_FOUND")),
        (
            "back-walk", "fr",
            _error("locale", "Article 'back-walk' has no translation to 'fr'.", "NOT_FOUND"),
        ),
        (
            "back-walk", "en",
            _error("locale", "Article 'back-walk' has no translation to 'en'.", "NOT_FOUND"),
        ),
        (
            "back-walk", "deutsch",
            _error("locale", "not a locale: expected a BCP 47 tag such as `de` or `de-AT`"),
        ),
    ],
)  # fmt: skip
async def test_a_refused_delete_writes_nothing(
    seeded: AsyncEngine,
    graphql: GraphQL,
    make_token: TokenFactory,
    slug: str,
    locale: str,
    error: dict[str, Any],
) -> None:
    before = await _stored(seeded)
    token = await _editor(make_token)
    body = await graphql(DELETE, {"slug": slug, "locale": locale}, token=token)
    assert body["data"]["articleTranslationDelete"] == {"article": None, "errors": [error]}
    assert await _stored(seeded) == before
    assert [locale for locale, _ in before] == ["de"]


async def test_translations_need_the_write_scope(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    before = await _stored(seeded)
    variables = {"slug": "back-walk", "locale": "de"}
    anonymous = await graphql(SAVE, {**variables, "v": 1, "input": FRENCH})
    assert anonymous["data"] is None
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    reader = await make_token(Scope.READ_DRAFTS, Scope.PUBLISH)
    for query, extra in ((SAVE, {"v": 1, "input": FRENCH}), (DELETE, {})):
        body = await graphql(query, {**variables, **extra}, token=reader)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await _stored(seeded) == before


# --- live --------------------------------------------------------------------------------------

CHANGED = """subscription {
  contentChanged { type slug locale article(locale: "de") { title locale } }
}"""


@pytest.fixture
def server(seeded: AsyncEngine, settings: Settings) -> Iterator[str]:
    quiet = settings.model_copy(update={"webhooks_dispatch": False})
    with live_server(create_app(quiet)) as url:
        yield url


async def test_content_changed_hears_a_translation_saved(
    server: str, make_token: TokenFactory
) -> None:
    token = await _editor(make_token)
    async with Subscriber.connect(server) as subscriber:
        await subscriber.subscribe(CHANGED)
        await wait_for_subscribers(server, 1)
        response = httpx.post(
            f"{server}/graphql",
            json={"query": SAVE, "variables": {
                "slug": "back-walk", "locale": "de", "v": 1, "input": {"title": "Rückenlauf"},
            }},
            headers={"Authorization": f"Bearer {token}"}, timeout=10,
        )  # fmt: skip
        assert response.json()["data"]["articleTranslationSave"]["errors"] == []
        response = httpx.post(
            f"{server}/graphql", json={"query": PUBLISH, "variables": {"v": 1}},
            headers={"Authorization": f"Bearer {token}"}, timeout=10,
        )  # fmt: skip
        assert response.json()["data"]["articlePublish"]["errors"] == []
        assert (await subscriber.next())["contentChanged"] == {
            "type": "UPDATED", "slug": "back-walk", "locale": "de",
            "article": {"title": "Rückenlauf", "locale": "de"},
        }  # fmt: skip
        await subscriber.assert_quiet()

"""An editor's preview of a published article's pending version is the pending version
everywhere it shows: its JSON-LD, its author and its benefit snippets, while the public (and any
editor asking for `version: LIVE`) keeps reading the live one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.db import Database
from cms.http.app import create_app
from cms.settings import Settings
from tests.conftest import GraphQL, TokenFactory, without_cost

pytestmark = pytest.mark.anyio

EDITS = """
mutation Edit {
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: 1,
                input: {title: "Calm", body: "Pending calm."}) { errors { message } }
  precautionUpdate(article: "back-walk", slug: "pregnancy", expectedVersion: 2,
                   input: {body: "Pending pregnancy advice."}) { errors { message } }
  benefitAdd(article: "back-walk", expectedVersion: 3,
             input: {slug: "sleep", title: "Sleep", body: "It may help you sleep.",
                     draft: true}) { errors { message } }
  authorCreate(input: {slug: "mallory", name: "Mallory Writer"}) { errors { message } }
  articleUpdate(slug: "back-walk", expectedVersion: 4, input: {author: {slug: "mallory"}}) {
    errors { message }
  }
}
"""
ARTICLE = """
query Article($version: ArticleVersion! = PENDING) {
  article(slug: "back-walk", version: $version) { author { slug name } jsonLd }
}
"""
SNIPPET = """
query Snippet($version: ArticleVersion! = PENDING, $benefit: String! = "stress-relief") {
  benefitSnippet(article: "back-walk", benefit: $benefit, version: $version) {
    title body(format: TEXT) html jsonLd
    article { authorName }
    precautions { slug body(format: TEXT) }
  }
}
"""
SNIPPETS = """
query Snippets($version: ArticleVersion! = PENDING) {
  benefitSnippets(article: "back-walk", version: $version) { slug title }
}
"""


async def _edit(graphql: GraphQL, make_token: TokenFactory) -> str:
    editor = await make_token(Scope.WRITE)
    body = await graphql(EDITS, token=editor)
    assert "errors" not in body, body
    assert all(result["errors"] == [] for result in body["data"].values()), body
    return editor


def _data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


def _benefit(ld: dict[str, Any], slug: str) -> dict[str, Any]:
    (part,) = [p for p in ld["hasPart"] if p["@id"].endswith(f"#{slug}")]
    return part


def _precaution(ld: dict[str, Any], name: str) -> str:
    (found,) = [c for c in ld["about"]["contraindication"] if c["name"] == name]
    description: str = found["description"]
    return description


async def test_an_editors_json_ld_and_author_are_the_pending_versions(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await _edit(graphql, make_token)
    pending = _data(await graphql(ARTICLE, token=editor), "article")
    assert pending["author"] == {"slug": "mallory", "name": "Mallory Writer"}
    ld = pending["jsonLd"]
    assert ld["author"] == {"@type": "Person", "name": "Mallory Writer"}
    assert _benefit(ld, "stress-relief")["name"] == "Calm"
    assert _benefit(ld, "stress-relief")["text"] == "Pending calm."
    assert _precaution(ld, "Pregnancy") == "Pending pregnancy advice."
    # A draft item stays private once published: the preview leaves it out.
    assert not [p for p in ld["hasPart"] if p["@id"].endswith("#sleep")]
    # The pending text is not the reviewed text: no review is claimed for it.
    assert "lastReviewed" not in ld

    for token, version in ((None, "PENDING"), (editor, "LIVE")):
        live = _data(await graphql(ARTICLE, {"version": version}, token=token), "article")
        assert live["author"] == {"slug": "penci", "name": "Penci"}
        assert live["jsonLd"]["author"]["name"] == "Penci"
        assert _benefit(live["jsonLd"], "stress-relief")["name"] == "Stress Relief"
        assert "Pending" not in str(live["jsonLd"])


async def test_an_editors_snippets_are_the_pending_versions(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await _edit(graphql, make_token)
    pending = _data(await graphql(SNIPPET, token=editor), "benefitSnippet")
    assert (pending["title"], pending["body"]) == ("Calm", "Pending calm.")
    assert pending["article"] == {"authorName": "Mallory Writer"}
    assert pending["precautions"][0] == {"slug": "pregnancy", "body": "Pending pregnancy advice."}
    assert "Pending pregnancy advice." in pending["html"] and "Calm" in pending["html"]
    assert _benefit(pending["jsonLd"], "stress-relief")["name"] == "Calm"
    assert _precaution(pending["jsonLd"], "Pregnancy") == "Pending pregnancy advice."
    slugs = [s["slug"] for s in _data(await graphql(SNIPPETS, token=editor), "benefitSnippets")]
    assert slugs[0] == "stress-relief" and "sleep" not in slugs  # the draft benefit stays out
    draft = await graphql(SNIPPET, {"benefit": "sleep"}, token=editor)
    assert _data(draft, "benefitSnippet") is None

    # The public, whatever it asks for, and an editor asking for LIVE read the live version.
    for token, version in ((None, "PENDING"), (None, "LIVE"), (editor, "LIVE")):
        live = _data(await graphql(SNIPPET, {"version": version}, token=token), "benefitSnippet")
        assert live["title"] == "Stress Relief" and live["article"]["authorName"] == "Penci"
        assert "Pending" not in str(live)
        titles = _data(
            await graphql(SNIPPETS, {"version": version}, token=token), "benefitSnippets"
        )
        assert titles[0] == {"slug": "stress-relief", "title": "Stress Relief"}


async def test_a_cached_editor_preview_never_reaches_the_public(
    seeded: AsyncEngine, database: Database, settings: Settings, make_token: TokenFactory
) -> None:
    """The response cache and the compiled read path keep editors' answers apart."""
    assert settings.response_cache and settings.compiled_reads
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cms.test"
    ) as client:

        async def ask(token: str | None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await client.post("/graphql", json={"query": SNIPPET}, headers=headers)
            assert response.status_code == 200
            return without_cost(response.json())["data"]["benefitSnippet"]["title"]

        editor = await make_token(Scope.WRITE)
        assert await ask(None) == "Stress Relief"
        edit = await client.post(
            "/graphql",
            json={"query": EDITS},
            headers={"Authorization": f"Bearer {editor}"},
        )
        assert "errors" not in edit.json()
        for _ in range(2):  # the second answer of each may come from the cache
            assert await ask(editor) == "Calm"
            assert await ask(None) == "Stress Relief"


async def test_a_preview_link_reads_its_articles_pending_snippets_and_json_ld(
    seeded: AsyncEngine, database: Database, settings: Settings, make_token: TokenFactory
) -> None:
    app = create_app(settings.model_copy(update={"preview_secret": "s" * 40}), database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cms.test"
    ) as client:

        async def ask(query: str, authorization: str) -> Any:
            headers = {"Authorization": authorization}
            response = await client.post("/graphql", json={"query": query}, headers=headers)
            body = without_cost(response.json())
            assert "errors" not in body, body
            return body["data"]

        await ask(EDITS, f"Bearer {await make_token(Scope.WRITE)}")
        link = """mutation { articlePreviewLink(slug: "back-walk", expiresIn: 600) { url } }"""
        made = await ask(link, f"Bearer {await make_token(Scope.REVIEW)}")
        preview = f"Preview {made['articlePreviewLink']['url'].rsplit('/', 1)[1]}"
        snippet = (await ask(SNIPPET, preview))["benefitSnippet"]
        assert (snippet["title"], snippet["article"]["authorName"]) == ("Calm", "Mallory Writer")
        ld = (await ask(ARTICLE, preview))["article"]["jsonLd"]
        assert (_benefit(ld, "stress-relief")["name"], ld["author"]["name"]) == (
            "Calm",
            "Mallory Writer",
        )


SEARCH = """
query Search($q: String!) {
  search(query: $q) { totalCount edges { part partSlug excerpt node { title } } }
}
"""
CALM = """
mutation Calm($v: Int!) {
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {title: "Serenity", body: "Serenity through gentle pressure."}) {
    errors { message }
  }
}
"""


async def _search(graphql: GraphQL, words: str, token: str | None = None) -> Any:
    return _data(await graphql(SEARCH, {"q": words}, token=token), "search")


async def test_editors_search_the_pending_text_and_the_public_the_live_text(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    assert _data(await graphql(CALM, {"v": 1}, token=editor), "benefitUpdate")["errors"] == []

    found = await _search(graphql, "serenity", editor)
    assert found["totalCount"] == 1
    (edge,) = found["edges"]
    assert (edge["part"], edge["partSlug"]) == ("BENEFIT", "stress-relief")
    assert edge["excerpt"].startswith("<mark>Serenity</mark>")
    # The text the pending version replaced is not found for editors: they search that version.
    assert (await _search(graphql, "rhythmic flowing movements", editor))["totalCount"] == 0
    # The public searches only what it reads.
    assert await _search(graphql, "serenity") == {"totalCount": 0, "edges": []}
    assert (await _search(graphql, "rhythmic flowing movements"))["totalCount"] == 1

    # A later edit of the pending version rewrites what editors search.
    again = """mutation {
      sectionUpdate(article: "back-walk", slug: "healing-benefits", expectedVersion: 2,
                    input: {title: "Mending journey"}) { errors { message } }
    }"""
    assert _data(await graphql(again, token=editor), "sectionUpdate")["errors"] == []
    assert (await _search(graphql, "mending", editor))["totalCount"] == 1
    assert (await _search(graphql, "serenity", editor))["totalCount"] == 1
    assert (await _search(graphql, "mending"))["totalCount"] == 0

    publish = (
        'mutation { articlePublish(slug: "back-walk", expectedVersion: 3) { errors { code } } }'
    )
    assert _data(await graphql(publish, token=publisher), "articlePublish")["errors"] == []
    assert (await _search(graphql, "serenity"))["totalCount"] == 1
    assert (await _search(graphql, "serenity", editor))["totalCount"] == 1


async def test_discarded_pending_text_is_no_longer_searched(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    await graphql(CALM, {"v": 1}, token=editor)
    discard = """mutation {
      articleDiscardPendingChanges(slug: "back-walk", expectedVersion: 2) { errors { code } }
    }"""
    assert _data(await graphql(discard, token=editor), "articleDiscardPendingChanges") == {
        "errors": []
    }
    assert (await _search(graphql, "serenity", editor))["totalCount"] == 0
    assert (await _search(graphql, "rhythmic flowing movements", editor))["totalCount"] == 1

"""The embed page, the web component script and its stylesheet over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.models import ArticleStatus
from cms.snippet_html import EMBED_CSS
from cms.snippets import DISCLAIMER
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document
from tests.xss import PAYLOADS, xss_document

pytestmark = pytest.mark.anyio

PAGE = "/embed/back-walk/stress-relief"
STYLE_HASH = base64.b64encode(hashlib.sha256(EMBED_CSS.encode()).digest()).decode()
POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
EDIT = """mutation { benefitUpdate(article: "back-walk", slug: "stress-relief",
    expectedVersion: 1, input: {body: "Edited for the embed."}) { errors { code } } }"""


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


async def test_the_embed_page_is_a_standalone_document_with_discovery_and_structured_data(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get(PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith('<!doctype html>\n<html lang="en">')
    page = _parse(response.text)
    links = [attrs for tag, attrs in page.tags if tag == "link"]
    assert links == [
        {"rel": "canonical", "href": "http://127.0.0.1:8000/articles/back-walk#stress-relief"},
        {
            "rel": "alternate",
            "type": "application/json+oembed",
            "href": "http://cms.test/oembed?url=http%3A%2F%2Fcms.test%2Fembed%2Fback-walk"
            "%2Fstress-relief&format=json",
            "title": "Stress Relief – Back Walk Benefits",
        },
    ]
    assert [attrs for tag, attrs in page.tags if tag == "script"] == [
        {"type": "application/ld+json"}
    ]
    (json_ld,) = page.scripts
    data = json.loads(json_ld)
    assert data["@type"] == "MedicalWebPage"
    assert [part["name"] for part in data["hasPart"]] == ["Stress Relief"]
    assert [tag for tag, _ in page.tags].count("li") == 3
    assert '<body><main><article class="bwk-snippet" lang="en">' in response.text
    assert DISCLAIMER in response.text


async def test_the_embed_page_is_framable_scriptless_and_publicly_cacheable(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get(PAGE)
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=0"
    assert "x-frame-options" not in response.headers
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    # The one inline style is the one the policy's hash allows.
    assert f"<style>{EMBED_CSS}</style>" in response.text


async def test_the_embed_page_answers_304_to_its_etag_and_changes_with_the_content(
    seeded: AsyncEngine, client: httpx.AsyncClient, graphql: GraphQL, make_token: TokenFactory
) -> None:
    first = await client.get(PAGE)
    etag = first.headers["etag"]
    again = await client.get(PAGE, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=0"

    edited = await graphql(EDIT, token=await make_token(Scope.WRITE))
    assert edited == {"data": {"benefitUpdate": {"errors": []}}}
    changed = await client.get(PAGE, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "<p>Edited for the embed.</p>" in changed.text


async def test_an_unknown_article_or_benefit_is_a_404_page(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    for path in ("/embed/back-walk/no-such-benefit", "/embed/no-such-article/stress-relief"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == POLICY
        assert response.headers["cache-control"] == "no-cache"
        assert '<p role="alert">This health information is not available.</p>' in response.text
        assert response.text.startswith('<!doctype html>\n<html lang="en">')


async def test_only_published_content_is_embedded(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(
            session, article_document(slug="draft", status=ArticleStatus.DRAFT)
        )
        await content.save_article_document(
            session, article_document(slug="public", draft_benefit=True)
        )
        await content.save_article_document(
            session, article_document(slug="unsafe", with_precautions=False)
        )
    assert (await client.get("/embed/draft/public-benefit")).status_code == 404
    assert (await client.get("/embed/public/draft-benefit")).status_code == 404
    # A claim never travels without its safety context.
    assert (await client.get("/embed/unsafe/public-benefit")).status_code == 404
    assert (await client.get("/embed/public/public-benefit")).status_code == 200


async def test_payloads_cannot_leave_the_json_ld_block_of_the_embed_page(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(session, xss_document())
    for index, payload in enumerate(PAYLOADS):
        response = await client.get(f"/embed/xss/payload-{index}")
        assert response.status_code == 200
        page = _parse(response.text)
        assert [attrs for tag, attrs in page.tags if tag == "script"] == [
            {"type": "application/ld+json"}
        ]
        for tag, attrs in page.tags:
            assert tag not in {"img", "svg", "iframe", "details", "template"}, tag
            assert not any(name.startswith("on") for name in attrs), attrs
        (json_ld,) = page.scripts
        assert json.loads(json_ld)["hasPart"][0]["name"] == payload


async def test_embed_js_is_served_as_javascript_and_cached(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "customElements.define(TAG, BackwalkBenefit)" in response.text
    again = await client.get("/embed.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_embed_css_carries_the_snippet_styles(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get("/embed.css")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.text.startswith(".bwk-snippet{")
    assert ":host{display:block}" in response.text


async def test_an_unreachable_database_is_a_503_for_embeds_and_oembed(
    unreachable: httpx.AsyncClient,
) -> None:
    page = await unreachable.get(PAGE)
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert page.headers["cache-control"] == "no-store"
    assert "This health information cannot be shown right now." in page.text
    assert "Traceback" not in page.text
    oembed = await unreachable.get("/oembed", params={"url": f"http://t.test{PAGE}"})
    assert oembed.status_code == 503
    assert oembed.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

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

from cms import content, partners
from cms.access import Scope
from cms.db import Database, session_scope
from cms.http import create_app
from cms.lint import Rule
from cms.models import ArticleStatus
from cms.settings import Settings
from cms.snippet_html import EMBED_CSS, FRAME_SCRIPT
from cms.snippets import DISCLAIMER
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document, overriding
from tests.xss import PAYLOADS, xss_document

pytestmark = pytest.mark.anyio

PAGE = "/embed/back-walk/stress-relief"
STYLE_HASH = base64.b64encode(hashlib.sha256(EMBED_CSS.encode()).digest()).decode()
SCRIPT_HASH = base64.b64encode(hashlib.sha256(FRAME_SCRIPT.encode()).digest()).decode()
POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; script-src 'sha256-{SCRIPT_HASH}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)
# The edit waits in the published article's pending version: published in the same request.
EDIT = """mutation { benefitUpdate(article: "back-walk", slug: "stress-relief",
    expectedVersion: 1, input: {body: "Edited for the embed."}) { errors { code } }
  articlePublish(slug: "back-walk", expectedVersion: 2) { errors { code } } }"""


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
    # The structured data, and the page's one script (it posts the page's height to its parent).
    assert [attrs for tag, attrs in page.tags if tag == "script"] == [
        {"type": "application/ld+json"},
        {},
    ]
    json_ld, frame_script = page.scripts
    assert frame_script == FRAME_SCRIPT
    data = json.loads(json_ld)
    assert data["@type"] == "MedicalWebPage"
    assert [part["name"] for part in data["hasPart"]] == ["Stress Relief"]
    assert [tag for tag, _ in page.tags].count("li") == 3
    assert '<body><main><article class="bwk-snippet" lang="en">' in response.text
    assert DISCLAIMER in response.text


async def test_the_embed_page_carries_the_articles_meta_title_and_description(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    intro = "Walking on a back relaxes it. " * 10  # 300 characters: cut on a word boundary
    document = article_document().model_copy(update={"intro": intro.strip()})
    async with session_scope(engine) as session:
        await content.save_article_document(session, document)
    page = _parse((await client.get("/embed/x/public-benefit")).text)
    metas = [
        attrs for tag, attrs in page.tags if tag == "meta" and attrs.get("name") == "description"
    ]
    assert metas == [
        {
            "name": "description",
            "content": "Walking on a back relaxes it. " * 5 + "Walking…",  # 158 characters
        }
    ]
    assert "<title>Public – Article x</title>" in (await client.get("/embed/x/public-benefit")).text

    seo = {"meta_title": "Back walking <explained>", "meta_description": "What it does & why."}
    async with session_scope(engine) as session:
        await content.save_article_document(session, document.model_copy(update=seo))
    response = await client.get("/embed/x/public-benefit")
    assert "<title>Public – Back walking &lt;explained&gt;</title>" in response.text
    assert '<meta name="description" content="What it does &amp; why.">' in response.text


async def test_the_embed_page_is_framable_runs_only_its_own_script_and_is_publicly_cacheable(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get(PAGE)
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=0"
    assert "x-frame-options" not in response.headers
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    # The one inline style and the one script are those the policy's hashes allow.
    assert f"<style>{EMBED_CSS}</style>" in response.text
    assert f"<script>{FRAME_SCRIPT}</script></body>" in response.text


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

    edited = await graphql(EDIT, token=await make_token(Scope.WRITE, Scope.PUBLISH))
    assert edited == {"data": {"benefitUpdate": {"errors": []}, "articlePublish": {"errors": []}}}
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
        _error_page(response, 404, "This health information is not available.")


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
        with overriding(Rule.MISSING_PRECAUTIONS):
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
            {"type": "application/ld+json"},
            {},
        ]
        for tag, attrs in page.tags:
            assert tag not in {"img", "svg", "iframe", "details", "template"}, tag
            assert not any(name.startswith("on") for name in attrs), attrs
        json_ld, frame_script = page.scripts
        assert frame_script == FRAME_SCRIPT
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


def _error_page(response: httpx.Response, status: int, message: str) -> None:
    """`response` is the readable HTML page for `status`, never the JSON envelope."""
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["cache-control"] == ("no-cache" if status == 404 else "no-store")
    assert response.text.startswith('<!doctype html>\n<html lang="en">')
    assert f'<main><p role="alert">{message}</p></main>' in response.text
    assert f"<script>{FRAME_SCRIPT}</script>" in response.text
    assert "errors" not in response.text


async def test_a_refused_partner_key_or_origin_is_a_readable_page(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with session_scope(seeded) as session:
        _, key = await partners.create_partner(
            session, name="acme", origins=("https://acme.example",), rate_limit=600
        )
    unknown = await client.get(PAGE, params={"partner_key": "cmsp_nope"})
    _error_page(
        unknown, 401, "This health information cannot be shown here: the partner key is not valid."
    )
    elsewhere = await client.get(
        PAGE, params={"partner_key": key}, headers={"Origin": "https://evil.example"}
    )
    _error_page(elsewhere, 403, "This health information cannot be shown on this site.")
    assert elsewhere.headers["vary"] == "Origin, X-Partner-Key"
    async with session_scope(seeded) as session:
        await partners.revoke_partner(session, name="acme")
    revoked = await client.get(PAGE, params={"partner_key": key})
    assert revoked.status_code == 401
    assert "partner key is not valid" in revoked.text


async def test_a_rate_limited_page_says_when_to_try_again(
    seeded: AsyncEngine, database: Database, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"anonymous_rate_limit": 1}), database)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.99", 4000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            responses = [await client.get(PAGE) for _ in range(3)]
    finally:
        await app.state.limiter.close()
    # A window may end between two requests: one of the later two is over the limit.
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= 1
    retry_after = limited[0].headers["retry-after"]
    _error_page(
        limited[0],
        429,
        f"This health information is in high demand. Please try again in {retry_after} seconds.",
    )


async def test_an_unreachable_database_is_a_readable_503_page(
    unreachable: httpx.AsyncClient,
) -> None:
    page = await unreachable.get(PAGE)
    _error_page(page, 503, "This health information cannot be shown right now.")
    assert page.headers["retry-after"] == "5"


async def test_embed_resize_js_is_served_as_javascript_and_cached(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get("/embed-resize.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '"bwk-embed-height"' in response.text
    again = await client.get(
        "/embed-resize.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304

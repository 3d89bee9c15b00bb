"""The three embed styles in real Chromium, on a partner page served from another origin: what a
reader sees, and that no payload in content ever runs.

The demo partner page (demo/partner.html) is served by a second server on its own port; it shows
one benefit as the oEmbed iframe, as the `<backwalk-benefit>` web component and as the GraphQL
`html` field. Uses Debian's Chromium driven by Playwright, as tests/http/test_admin_browser.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Frame, Locator, Page, expect
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from cms import content
from cms.db import create_engine, create_schema, session_scope
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings
from cms.snippets import DISCLAIMER
from tests.conftest import REPO, SEED_DIR
from tests.live_server import live_server
from tests.xss import PAYLOADS, xss_document

# Every payload calls __xss; recorded in the page and in every frame before any script runs.
RECORD_XSS = "window.__xssCalls = []; window.__xss = (n) => window.__xssCalls.push(n);"
STYLES = ("iframe-embed", "web-component", "html-field")
CANONICAL = "http://127.0.0.1:8000/articles/back-walk#stress-relief"
PRECAUTIONS = ["Pregnancy", "Medical Conditions", "Pressure"]


@dataclass
class Sites:
    api: str
    partner: str

    def page_url(self, article: str, benefit: str) -> str:
        query = urlencode({"api": self.api, "article": article, "benefit": benefit})
        return f"{self.partner}/partner.html?{query}"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    database = tmp_path_factory.mktemp("embeds") / "cms.db"
    settings = Settings(database_url=f"sqlite:///{database}", _env_file=None)  # type: ignore[call-arg]

    async def prepare() -> None:
        engine = create_engine(settings)
        await create_schema(engine)
        await seed_database(engine, [SEED_DIR])
        async with session_scope(engine) as session:
            await content.save_article_document(session, xss_document())
        await engine.dispose()

    # Playwright's sync API runs an event loop in this thread; prepare in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, prepare()).result()
    partner = Starlette(routes=[Mount("/", StaticFiles(directory=REPO / "demo"))])
    with live_server(create_app(settings)) as api, live_server(partner) as partner_url:
        assert api != partner_url
        yield Sites(api, partner_url)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.add_init_script(RECORD_XSS)
    page = context.new_page()
    yield page
    context.close()


def _snippets(page: Page) -> dict[str, Locator]:
    """The rendered snippet of each embed style: inside the iframe, inside the component's
    shadow root (CSS locators pierce open shadow roots), and inserted into the page."""
    return {
        "iframe-embed": page.frame_locator("#iframe-embed iframe").locator("article.bwk-snippet"),
        "web-component": page.locator("#web-component backwalk-benefit article.bwk-snippet"),
        "html-field": page.locator("#html-field article.bwk-snippet"),
    }


def _embed_frame(page: Page) -> Frame:
    handle = page.locator("#iframe-embed iframe").element_handle()
    frame = handle.content_frame() if handle else None
    assert frame is not None
    return frame


def test_every_embed_style_shows_the_benefit_precautions_disclaimer_and_attribution(
    page: Page, sites: Sites
) -> None:
    problems: list[tuple[str, str]] = []
    page.on(
        "console",
        lambda m: problems.append((m.location["url"], m.text)) if m.type == "error" else None,
    )
    page.goto(sites.page_url("back-walk", "stress-relief"))
    for style, snippet in _snippets(page).items():
        expect(snippet, style).to_be_visible()
        expect(snippet.locator("h2"), style).to_have_text("Stress Relief")
        expect(snippet.locator(".bwk-snippet__body"), style).to_contain_text(
            "Back walking therapy is deeply relaxing"
        )
        expect(snippet.locator("h3"), style).to_have_text("Precautions")
        expect(snippet.locator(".bwk-snippet__precaution-title"), style).to_have_text(PRECAUTIONS)
        expect(snippet.locator("li").nth(0), style).to_contain_text(
            "Pregnant individuals should avoid back walk"
        )
        expect(snippet.locator(".bwk-snippet__review"), style).to_have_text(
            "Not yet medically reviewed."
        )
        expect(snippet.locator(".bwk-snippet__disclaimer"), style).to_have_text(DISCLAIMER)
        expect(snippet.locator(".bwk-snippet__attribution"), style).to_have_text(
            "From Back Walk Benefits by Penci"
        )
        link = snippet.get_by_role("link", name="Back Walk Benefits")
        expect(link, style).to_have_attribute("href", CANONICAL)
        expect(link, style).to_have_attribute("rel", "noopener noreferrer")
        expect(link, style).to_have_attribute("target", "_blank")
        expect(snippet, style).to_have_attribute("lang", "en")
        # The snippet styles apply: the embed page's inline style passes its CSP hash, and the
        # component's shadow root and the partner page load /embed.css.
        expect(snippet, style).to_have_css("border-radius", "8px")
    expect(page.locator("#web-component backwalk-benefit")).to_have_attribute("data-state", "ready")
    frame = _embed_frame(page)
    assert frame.url == f"{sites.api}/embed/back-walk/stress-relief"
    # The oEmbed size fits the snippet: the reader does not have to scroll inside the frame.
    iframe = page.locator("#iframe-embed iframe")
    expect(iframe).to_have_attribute("height", "680")
    assert frame.evaluate("document.documentElement.scrollHeight") <= 680
    # Nothing was refused (a CSP violation or a CORS failure is a console error); only the
    # partner's own server has no favicon.
    assert problems == [
        (
            f"{sites.partner}/favicon.ico",
            "Failed to load resource: the server responded with a status of 404 (Not Found)",
        )
    ]


def test_a_benefit_that_cannot_be_loaded_shows_an_error_in_every_style(
    page: Page, sites: Sites
) -> None:
    page.goto(sites.page_url("back-walk", "no-such-benefit"))
    expect(page.locator("#iframe-embed [role=alert]")).to_have_text(
        "This benefit could not be loaded (HTTP 404)."
    )
    expect(page.locator("#web-component backwalk-benefit [role=alert]")).to_have_text(
        "This health information could not be loaded. Please try again later."
    )
    expect(page.locator("#web-component backwalk-benefit")).to_have_attribute("data-state", "error")
    expect(page.locator("#html-field [role=alert]")).to_have_text(
        "This benefit could not be loaded (no such published benefit)."
    )
    assert page.locator("article.bwk-snippet").count() == 0


def test_the_component_follows_its_attributes(page: Page, sites: Sites) -> None:
    page.goto(sites.page_url("back-walk", "stress-relief"))
    widget = page.locator("#web-component backwalk-benefit")
    expect(widget.locator("h2")).to_have_text("Stress Relief")
    widget.evaluate("element => element.setAttribute('benefit', 'improved-circulation')")
    expect(widget.locator("h2")).to_have_text("Improved Circulation")
    expect(widget.locator(".bwk-snippet__precaution-title")).to_have_text(PRECAUTIONS)
    widget.evaluate("element => element.removeAttribute('article')")
    expect(widget.locator("[role=alert]")).to_have_text(
        "This health information could not be loaded. Please try again later."
    )
    expect(widget.locator("h2")).to_have_count(0)


def test_the_component_sends_its_partner_key_header(page: Page, sites: Sites) -> None:
    page.goto(sites.page_url("back-walk", "stress-relief"))
    expect(page.locator("#web-component backwalk-benefit")).to_have_attribute("data-state", "ready")
    with page.expect_request(lambda r: "/graphql?" in r.url and r.method == "GET") as request:
        page.evaluate(
            """() => {
                const element = document.createElement("backwalk-benefit");
                element.setAttribute("article", "back-walk");
                element.setAttribute("benefit", "pain-management");
                element.setAttribute("partner-key", "pk_demo");
                document.body.append(element);
            }"""
        )
    assert request.value.headers["x-partner-key"] == "pk_demo"


def test_no_payload_runs_in_any_embed_style_and_each_is_shown_as_text(
    page: Page, sites: Sites
) -> None:
    for index, payload in enumerate(PAYLOADS):
        page.goto(sites.page_url("xss", f"payload-{index}"))
        snippets = _snippets(page)
        for style, snippet in snippets.items():
            where = f"{style}, payload {index}"
            expect(snippet.locator("h2"), where).to_have_text(payload)
            expect(snippet.locator(".bwk-snippet__precaution-title"), where).to_have_text(
                [PAYLOADS[3]]
            )
            expect(snippet.locator(".bwk-snippet__body"), where).to_contain_text(PAYLOADS[0])
            expect(snippet.locator(".bwk-snippet__body"), where).to_contain_text(PAYLOADS[1])
            expect(snippet.get_by_role("link"), where).to_have_text(PAYLOADS[0])
            expect(snippet.locator(".bwk-snippet__attribution"), where).to_contain_text(PAYLOADS[1])
            expect(snippet.locator(".bwk-snippet__review"), where).to_have_text(
                f"Medically reviewed by {PAYLOADS[2]} on 02 January 2026."
            )
            expect(snippet.locator(".bwk-snippet__disclaimer"), where).to_have_text(DISCLAIMER)
            for tag in ("script", "img", "svg", "iframe", "details", "template"):
                assert snippet.locator(tag).count() == 0, (where, tag)
        frame = _embed_frame(page)
        # The recorder is in place in both documents, so a payload that ran would be seen.
        assert page.evaluate("typeof window.__xss") == "function"
        assert frame.evaluate("typeof window.__xss") == "function"
        assert page.evaluate("window.__xssCalls") == [], index
        assert frame.evaluate("window.__xssCalls") == [], index

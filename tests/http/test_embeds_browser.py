"""The three embed styles in real Chromium, on a partner page served from another origin: what a
reader sees, and that no payload in content ever runs.

The demo partner page (demo/partner.html) is served by a second server on its own port; it shows
one benefit as the oEmbed iframe, as the iframe markup of docs/partners.md, as the
`<backwalk-benefit>` web component and as the GraphQL `html` field. Uses Debian's Chromium driven
by Playwright, as tests/http/test_admin_browser.py. The accessibility checks run axe-core
4.14.1, vendored as tests/fixtures/axe.min.js (MPL-2.0, from the npm package).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Frame, Locator, Page, expect
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from cms import content, partners
from cms.access import Scope
from cms.db import create_engine, create_schema, session_scope
from cms.documents import ArticleDocument
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings
from cms.snippets import DISCLAIMER
from cms.tokens import create_token
from tests.conftest import REPO, SEED_DIR
from tests.documents import REVIEW, article_document
from tests.live_server import free_port, live_server
from tests.xss import PAYLOADS, xss_document

# Every payload calls __xss; recorded in the page and in every frame before any script runs.
RECORD_XSS = "window.__xssCalls = []; window.__xss = (n) => window.__xssCalls.push(n);"
STYLES = ("iframe-embed", "web-component", "html-field")
CANONICAL = "http://127.0.0.1:8000/articles/back-walk#stress-relief"
PRECAUTIONS = ["Pregnancy", "Medical Conditions", "Pressure"]
BENEFITS = (
    "stress-relief",
    "pain-management",
    "improved-circulation",
    "detoxification",
    "increased-flexibility",
    "enhanced-energy-flow",
    "emotional-release",
)
AXE = REPO / "tests" / "fixtures" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Sites:
    api: str
    partner: str
    limited_key: str = ""
    """A key for the partner page's origin, limited to one request a minute."""
    elsewhere_key: str = ""
    """A key for another origin than the partner page's."""
    publisher: str = ""
    """An API token that may edit and publish."""

    def page_url(self, article: str, benefit: str) -> str:
        query = urlencode({"api": self.api, "article": article, "benefit": benefit})
        return f"{self.partner}/partner.html?{query}"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    database = tmp_path_factory.mktemp("embeds") / "cms.db"
    # Every test here reads many snippets from one IP; only the `limited` partner is limited.
    settings = Settings(
        database_url=f"sqlite:///{database}",
        anonymous_rate_limit=1_000_000,
        _env_file=None,  # type: ignore[call-arg]
    )
    partner_port = free_port()

    async def prepare() -> tuple[str, str, str]:
        engine = create_engine(settings)
        await create_schema(engine)
        await seed_database(engine, [SEED_DIR])
        async with session_scope(engine) as session:
            await content.save_article_document(session, xss_document())
            await content.save_article_document(session, _reviewed_and_cited())
            await content.save_article_document(session, article_document(slug="renamed"))
            _, limited = await partners.create_partner(
                session, name="limited", origins=(f"http://127.0.0.1:{partner_port}",), rate_limit=1
            )
            _, elsewhere = await partners.create_partner(
                session, name="elsewhere", origins=("https://elsewhere.example",), rate_limit=600
            )
            _, publisher = await create_token(
                session, name="publisher", scopes=(Scope.WRITE, Scope.PUBLISH)
            )
        await engine.dispose()
        return limited, elsewhere, publisher

    # Playwright's sync API runs an event loop in this thread; prepare in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        limited, elsewhere, publisher = pool.submit(asyncio.run, prepare()).result()
    partner = Starlette(routes=[Mount("/", StaticFiles(directory=REPO / "demo"))])
    with (
        live_server(create_app(settings)) as api,
        live_server(partner, partner_port) as partner_url,
    ):
        assert api != partner_url
        yield Sites(api, partner_url, limited, elsewhere, publisher)


SOURCE = {"title": "Walking backwards: a trial", "doi": "10.1136/bjsm.2021.1", "year": 2021}


def _reviewed_and_cited() -> ArticleDocument:
    data = article_document(slug="cited", review=REVIEW).model_dump(mode="json")
    data["benefits"][0]["citations"] = [SOURCE]
    return ArticleDocument.model_validate(data)


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
    expect(iframe).to_have_attribute("height", "708")
    assert frame.evaluate("document.documentElement.scrollHeight") <= 708
    # Nothing was refused (a CSP violation or a CORS failure is a console error); only the
    # partner's own server has no favicon.
    assert problems == [
        (
            f"{sites.partner}/favicon.ico",
            "Failed to load resource: the server responded with a status of 404 (Not Found)",
        )
    ]


def test_every_embed_style_shows_a_current_review_and_the_sources(page: Page, sites: Sites) -> None:
    page.goto(sites.page_url("cited", "public-benefit"))
    for style, snippet in _snippets(page).items():
        expect(snippet.locator(".bwk-snippet__review"), style).to_have_text(
            "Medically reviewed by Dr. Ada Example, MD on 20 November 2026."
        )
        sources = snippet.locator(".bwk-snippet__sources")
        expect(sources.locator("h3"), style).to_have_text("Sources")
        link = sources.get_by_role("link", name=SOURCE["title"])
        expect(link, style).to_be_visible()
        expect(link, style).to_have_attribute("href", f"https://doi.org/{SOURCE['doi']}")
        expect(sources.locator("li"), style).to_have_text(f"{SOURCE['title']}. 2021.")


def test_a_benefit_that_cannot_be_loaded_shows_an_error_in_every_style(
    page: Page, sites: Sites
) -> None:
    page.goto(sites.page_url("back-walk", "no-such-benefit"))
    expect(page.locator("#iframe-embed [role=alert]")).to_have_text(
        "This benefit could not be loaded (HTTP 404)."
    )
    # An unknown benefit is not a temporary failure: the component says so.
    expect(page.locator("#web-component backwalk-benefit [role=alert]")).to_have_text(
        "This health information is not available."
    )
    expect(page.locator("#web-component backwalk-benefit")).to_have_attribute("data-state", "error")
    expect(page.locator("#web-component backwalk-benefit")).to_have_attribute(
        "data-error", "not-found"
    )
    expect(page.locator("#html-field [role=alert]")).to_have_text(
        "This benefit could not be loaded (no such published benefit)."
    )
    assert page.locator("article.bwk-snippet").count() == 0
    # The docs' iframe shows the embed page's own readable 404 page, not an error envelope.
    frame = page.frame_locator("#iframe-markup iframe")
    expect(frame.get_by_role("alert")).to_have_text("This health information is not available.")


RENAME = """mutation { benefitUpdate(article: "renamed", slug: "public-benefit", expectedVersion: 1,
  input: {slug: "renamed-benefit"}) { article { version } errors { message } } }"""
PUBLISH = """mutation($v: Int!) { articlePublish(slug: "renamed", expectedVersion: $v) {
  errors { message } } }"""


def test_a_partner_page_embedding_a_renamed_benefit_by_its_old_slug_still_shows_it(
    page: Page, sites: Sites
) -> None:
    headers = {"Authorization": f"Bearer {sites.publisher}"}

    def post(query: str, variables: dict[str, Any] | None = None) -> Any:
        body = {"query": query, "variables": variables or {}}
        answer = httpx.post(f"{sites.api}/graphql", json=body, headers=headers, timeout=10)
        return answer.json()["data"]

    renamed = post(RENAME)["benefitUpdate"]
    assert renamed["errors"] == []
    assert post(PUBLISH, {"v": renamed["article"]["version"]})["articlePublish"]["errors"] == []
    page.goto(sites.page_url("renamed", "public-benefit"))
    for style, snippet in _snippets(page).items():
        expect(snippet, style).to_be_visible()
        expect(snippet.locator(".bwk-snippet__title"), style).to_have_text("Public")


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


def _errors(page: Page) -> list[str]:
    """The console errors of the page from now on (the partner's missing favicon aside)."""
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error" and "favicon.ico" not in message.location["url"]:
            errors.append(message.text)

    page.on("console", record)
    return errors


def _within(inner: dict[str, float] | None, outer: dict[str, float] | None, where: str) -> None:
    assert inner is not None and outer is not None, where
    assert inner["width"] > 0 and inner["height"] > 0, where
    assert outer["x"] - 0.5 <= inner["x"], where
    assert outer["y"] - 0.5 <= inner["y"], where
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5, where
    assert inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5, where


def _safety_text(snippet: Locator) -> list[Locator]:
    """What must never be hidden: the benefit, every precaution, the disclaimer, the source."""
    precautions = snippet.locator("li.bwk-snippet__precaution")
    return [
        snippet.locator("h2"),
        snippet.locator(".bwk-snippet__body"),
        *(precautions.nth(i) for i in range(len(PRECAUTIONS))),
        snippet.locator(".bwk-snippet__disclaimer"),
        snippet.get_by_role("link", name="Back Walk Benefits"),
    ]


@pytest.mark.parametrize("width", [320, 375, 768, 1280])
def test_every_recommended_embed_shows_the_safety_text_without_scrolling_inside_a_frame(
    page: Page, sites: Sites, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    errors = _errors(page)
    page.goto(sites.page_url("back-walk", "stress-relief"))
    for style in ("iframe-embed", "iframe-markup"):
        iframe = page.locator(f"#{style} iframe")
        iframe.scroll_into_view_if_needed()
        frame = iframe.element_handle().content_frame()
        assert frame is not None, style
        frame.wait_for_selector("article.bwk-snippet")
        # /embed-resize.js makes the iframe exactly as tall as the page inside it.
        frame.wait_for_function(
            "Math.abs(innerHeight - document.body.getBoundingClientRect().height) <= 1"
        )
        root = "document.documentElement"
        assert frame.evaluate(f"{root}.scrollHeight <= {root}.clientHeight"), (style, width)
        assert frame.evaluate(f"{root}.scrollWidth <= {root}.clientWidth"), (style, width)
        box = iframe.bounding_box()
        assert box is not None and box["width"] <= width, (style, width)
        snippet = page.frame_locator(f"#{style} iframe").locator("article.bwk-snippet")
        for part in _safety_text(snippet):
            part.scroll_into_view_if_needed()
            _within(part.bounding_box(), iframe.bounding_box(), f"{style} at {width}")
    widget = page.locator("#web-component backwalk-benefit")
    expect(widget).to_have_attribute("data-state", "ready")
    for part in _safety_text(widget.locator("article.bwk-snippet")):
        _within(part.bounding_box(), widget.bounding_box(), f"web component at {width}")
    # Nothing is wider than the phone: no sideways scrolling of the partner's page either.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []


def test_the_oembed_height_holds_every_benefit_even_without_the_resize_script(
    page: Page, sites: Sites
) -> None:
    # A page of the partner's origin (Chromium refuses the loopback frames in about:blank).
    page.goto(f"{sites.partner}/partner.html?api=http://127.0.0.1:9")
    for maxwidth in (200, 280, 320, 400, 560):
        for benefit in BENEFITS:
            oembed = httpx.get(
                f"{sites.api}/oembed",
                params={"url": f"{sites.api}/embed/back-walk/{benefit}", "maxwidth": maxwidth},
            ).json()
            where = f"{benefit} at {maxwidth}"
            page.set_content(
                f'<iframe src="{sites.api}/embed/back-walk/{benefit}" '
                f'width="{oembed["width"]}" height="{oembed["height"]}" style="border:0"></iframe>'
            )
            frame = page.locator("iframe").element_handle().content_frame()
            assert frame is not None
            frame.wait_for_selector("article.bwk-snippet")
            needed = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
            assert needed <= oembed["height"], where
            # It errs tall, but not by more than a few lines.
            assert oembed["height"] - needed <= 240, where
            # The docs' hand-copied markup (height 1100) holds it from 280 px wide on.
            if maxwidth >= 280:
                assert needed <= 1100, where


def test_the_component_tells_an_unknown_benefit_a_refused_origin_and_a_bad_key_apart(
    page: Page, sites: Sites
) -> None:
    errors = _errors(page)
    page.goto(sites.page_url("back-walk", "no-such-benefit"))
    widget = page.locator("#web-component backwalk-benefit")
    expect(widget).to_have_attribute("data-error", "not-found")
    # Chromium also logs the 404 itself, in no fixed order with the component's message.
    assert (
        '<backwalk-benefit>: no published benefit "no-such-benefit" in article "back-walk" at '
        f"{sites.api}/: check the article and benefit attributes (the slugs in the benefit's "
        "address, /articles/back-walk#no-such-benefit)."
    ) in errors
    origin = sites.partner
    expected = {
        sites.elsewhere_key: (
            "origin-not-allowed",
            f'partner key "{sites.elsewhere_key}" is not allowed from {origin} (403 '
            "ORIGIN_NOT_ALLOWED): ask the CMS operator for a key with this origin (cms partner "
            f"create --origin {origin}), or use the key on one of its own origins.",
        ),
        "cmsp_unknown": (
            "invalid-key",
            'partner key "cmsp_unknown" is unknown or revoked (401 INVALID_PARTNER_KEY): check '
            "the partner-key attribute, or ask the CMS operator for a new key (cms partner "
            "create).",
        ),
    }
    for index, (key, (data_error, fix)) in enumerate(expected.items()):
        errors.clear()
        page.evaluate(
            """([key, id]) => {
                const element = document.createElement("backwalk-benefit");
                element.setAttribute("article", "back-walk");
                element.setAttribute("benefit", "stress-relief");
                element.setAttribute("partner-key", key);
                element.id = id;
                document.body.append(element);
            }""",
            [key, f"keyed-{index}"],
        )
        keyed = page.locator(f"#keyed-{index}")
        expect(keyed).to_have_attribute("data-error", data_error)
        expect(keyed.get_by_role("alert")).to_have_text(
            "This health information cannot be shown on this site."
        )
        expect(keyed.locator("h2")).to_have_count(0)
        # The refusal is readable cross-origin: the component names the one cause and its fix,
        # and the browser reports no CORS failure.
        assert f"<backwalk-benefit>: {fix}" in errors, errors
        assert not [e for e in errors if "CORS" in e or "Access-Control" in e], errors


def test_a_rate_limited_component_says_so_and_tries_again(page: Page, sites: Sites) -> None:
    errors = _errors(page)
    page.goto(sites.page_url("back-walk", "stress-relief"))
    expect(page.locator("#web-component backwalk-benefit")).to_have_attribute("data-state", "ready")
    add = """key => {
        for (const benefit of ["pain-management", "detoxification"]) {
            const element = document.createElement("backwalk-benefit");
            element.setAttribute("article", "back-walk");
            element.setAttribute("benefit", benefit);
            element.setAttribute("partner-key", key);
            element.className = "limited";
            document.body.append(element);
        }
    }"""
    page.evaluate(add, sites.limited_key)
    # One request a minute: at most one of the two is shown, the other waits for its turn.
    limited = page.locator("backwalk-benefit.limited[data-error=rate-limited]")
    expect(limited.first).to_be_visible()
    expect(limited.first.get_by_role("alert")).to_contain_text(
        "This health information is in high demand. Trying again in"
    )
    assert any("(429 RATE_LIMITED); retrying in" in e for e in errors), errors


def _axe(target: Page | Frame, context: Any) -> list[dict[str, Any]]:
    target.add_script_tag(path=AXE)
    result = target.evaluate(
        "([context, tags]) => axe.run(context || document, {runOnly: {type: 'tag', values: tags}})",
        [context, WCAG_21_AA],
    )
    assert result["passes"], "axe checked nothing"
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ]


@pytest.mark.parametrize("width", [320, 1280])
def test_the_embed_page_and_the_component_have_no_wcag_21_aa_violations(
    browser: Browser, sites: Sites, width: int
) -> None:
    # axe is injected as a script: the embed page's policy would refuse it.
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        for path in ("/embed/back-walk/stress-relief", "/embed/back-walk/no-such-benefit"):
            page.goto(f"{sites.api}{path}")
            assert _axe(page, None) == [], path
        for benefit in ("stress-relief", "no-such-benefit"):
            page.goto(sites.page_url("back-walk", benefit))
            widget = page.locator("#web-component backwalk-benefit")
            expect(widget).not_to_have_attribute("data-state", "loading")
            violations = _axe(page, {"include": [["#web-component backwalk-benefit"]]})
            assert violations == [], benefit
    finally:
        context.close()


def test_the_resize_script_listens_only_to_its_own_embed_pages(page: Page, sites: Sites) -> None:
    page.goto(sites.page_url("back-walk", "stress-relief"))
    iframe = page.locator("#iframe-markup iframe")
    iframe.scroll_into_view_if_needed()
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_function(
        "Math.abs(innerHeight - document.body.getBoundingClientRect().height) <= 1"
    )
    fitted = iframe.evaluate("element => element.style.height")
    # The partner's page itself, and a frame of another origin, cannot resize an embed.
    forged = "parent.postMessage({type: 'bwk-embed-height', height: 40}, '*')"
    page.evaluate(forged)
    page.evaluate(
        """forged => {
            const other = document.createElement("iframe");
            other.srcdoc = `<script>${forged}</` + "script>";
            document.body.append(other);
        }""",
        forged,
    )
    page.wait_for_timeout(300)
    assert iframe.evaluate("element => element.style.height") == fitted
    # A message that does not hold a sane height is ignored too.
    frame.evaluate("parent.postMessage({type: 'bwk-embed-height', height: 1e9}, '*')")
    frame.evaluate("parent.postMessage({type: 'bwk-embed-height', height: 'tall'}, '*')")
    page.wait_for_timeout(300)
    assert iframe.evaluate("element => element.style.height") == fitted

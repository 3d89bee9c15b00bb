"""The GraphQL IDE works with nothing but the CMS: its page names only the CMS's own URLs, and in
real Chromium, with every request to another host refused, GraphiQL renders and runs a query.

Uses Debian's Chromium driven by Playwright, as tests/http/test_admin_browser.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from cms.db import create_engine, create_schema
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings
from tests.conftest import SEED_DIR
from tests.live_server import live_server

T = TypeVar("T")
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    # Playwright's sync API runs an event loop in this thread; run ours in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("ide") / "cms.db"
    settings = Settings(database_url=f"sqlite:///{database}", _env_file=None)  # type: ignore[call-arg]

    async def prepare() -> None:
        engine = create_engine(settings)
        await create_schema(engine)
        await seed_database(engine, [SEED_DIR])
        await engine.dispose()

    _run(prepare())
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def offline_page(browser: Browser, site: str) -> Iterator[tuple[Page, list[str]]]:
    """A page whose requests to any host but the CMS's are aborted (and listed)."""
    context = browser.new_context()
    refused: list[str] = []

    def only_the_cms(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith("data:"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", only_the_cms)
    yield context.new_page(), refused
    context.close()


def test_the_ide_page_names_only_same_origin_urls(site: str) -> None:
    page = httpx.get(f"{site}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    urls = _links(page.text)
    assets = [url for url in urls if not url.startswith("data:")]
    assert len(assets) == 6, urls
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = httpx.get(f"{site}{url}", timeout=10)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(ASSET_TYPES[Path(url).suffix]), url
        assert asset.headers["cache-control"] == "public, max-age=86400"


def test_the_ide_page_follows_the_root_path() -> None:
    app = create_app(Settings(database_url="sqlite://", _env_file=None))  # type: ignore[call-arg]

    async def fetch() -> str:
        transport = httpx.ASGITransport(app=app, root_path="/cms")
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
            response = await client.get("/cms/graphql", headers={"Accept": "text/html"})
        return response.text

    urls = _links(_run(fetch()))
    assert [url for url in urls if not url.startswith("data:")] == [
        "/cms/graphiql/graphiql.min.css",
        "/cms/graphiql/ide.css",
        "/cms/graphiql/react.production.min.js",
        "/cms/graphiql/react-dom.production.min.js",
        "/cms/graphiql/graphiql.min.js",
        "/cms/graphiql/ide.js",
    ]


def test_graphiql_runs_a_query_with_other_hosts_unreachable(
    offline_page: tuple[Page, list[str]], site: str
) -> None:
    page, refused = offline_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(f"{site}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Loading…")).to_have_count(0)
    page.locator(".graphiql-execute-button").click()
    expect(page.locator(".result-window")).to_contain_text('"slug": "back-walk"', timeout=15_000)
    assert refused == []
    assert errors == []


def test_the_ide_assets_are_not_served_when_the_ide_is_off() -> None:
    settings = Settings(database_url="sqlite://", graphiql=False, _env_file=None)  # type: ignore[call-arg]

    async def fetch() -> int:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
            response = await client.get("/graphiql/graphiql.min.js")
        return response.status_code

    assert _run(fetch()) == 404

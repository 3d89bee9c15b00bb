"""The web admin in real Chromium: log in with a token, edit a benefit, see it through GraphQL.

Uses Debian's Chromium driven by Playwright. Under CI=true a missing browser fails the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from cms.access import Scope
from cms.db import create_engine, create_schema, session_scope
from cms.http import create_app
from cms.models import Benefit
from cms.seed import seed_database
from cms.settings import Settings
from cms.tokens import create_token
from tests.conftest import SEED_DIR
from tests.live_server import live_server

READ = """{ article(slug: "back-walk") {
  version benefits { slug body } revisions(first: 1) { version actor action } } }"""


@dataclass
class Site:
    url: str
    token_name: str
    token: str
    stress_relief_id: int

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"}, timeout=10,
        )  # fmt: skip
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cms.db'}", _env_file=None)  # type: ignore[call-arg]

    async def prepare() -> tuple[str, int]:
        engine = create_engine(settings)
        await create_schema(engine)
        await seed_database(engine, [SEED_DIR])
        async with session_scope(engine) as session:
            _, secret = await create_token(session, name="editor-ann", scopes=[Scope.WRITE])
            benefit = (
                await session.exec(select(Benefit).where(Benefit.slug == "stress-relief"))
            ).one()
        await engine.dispose()
        assert benefit.id is not None
        return secret, benefit.id

    # Playwright's sync API runs an event loop in this thread; prepare in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        secret, benefit_id = pool.submit(asyncio.run, prepare()).result()
    with live_server(create_app(settings)) as url:
        yield Site(url, "editor-ann", secret, benefit_id)


def _log_in(page: Page, site: Site, password: str | None = None) -> None:
    page.goto(f"{site.url}/admin/login")
    page.fill("input[name=username]", site.token_name)
    page.fill("input[name=password]", password or site.token)
    # Until the answer to the form has arrived, the session cookie may not be set.
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_an_editor_logs_in_edits_a_benefit_and_graphql_serves_it(
    browser: Browser, site: Site
) -> None:
    page = browser.new_page()
    _log_in(page, site)
    page.goto(f"{site.url}/admin/benefit/list")
    expect(page.get_by_text("stress-relief").first).to_be_visible()

    page.goto(f"{site.url}/admin/benefit/edit/{site.stress_relief_id}")
    page.fill("[name=body]", "Edited in the web admin.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{site.url}/admin/benefit/list")

    article = site.graphql(READ)["data"]["article"]
    assert article["version"] == 2
    assert article["benefits"][0] == {"slug": "stress-relief", "body": "Edited in the web admin."}
    assert article["revisions"] == [{"version": 2, "actor": "editor-ann", "action": "updated"}]


def test_a_save_based_on_a_stale_version_is_refused_and_loses_nothing(
    browser: Browser, site: Site
) -> None:
    page = browser.new_page()
    _log_in(page, site)
    page.goto(f"{site.url}/admin/benefit/edit/{site.stress_relief_id}")
    # Meanwhile another editor saves through the API.
    update = """mutation { benefitUpdate(article: "back-walk", slug: "stress-relief",
        expectedVersion: 1, input: {body: "Saved by the API first."}) { errors { code } } }"""
    assert site.graphql(update)["data"]["benefitUpdate"]["errors"] == []

    page.fill("[name=body]", "Would overwrite the API's edit.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("is at version 2, not 1")).to_be_visible()
    article = site.graphql(READ)["data"]["article"]
    assert article["benefits"][0]["body"] == "Saved by the API first."


def test_invalid_input_is_shown_and_changes_nothing(browser: Browser, site: Site) -> None:
    page = browser.new_page()
    _log_in(page, site)
    page.goto(f"{site.url}/admin/benefit/edit/{site.stress_relief_id}")
    page.fill("[name=body]", "   ")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("benefits[0].body")).to_be_visible()
    assert site.graphql(READ)["data"]["article"]["version"] == 1


def test_a_wrong_token_cannot_log_in(browser: Browser, site: Site) -> None:
    page = browser.new_page()
    _log_in(page, site, password="cms_wrong")
    assert page.url.startswith(f"{site.url}/admin/login")
    page.goto(f"{site.url}/admin/benefit/list")
    assert page.url.startswith(f"{site.url}/admin/login")

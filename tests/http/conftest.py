"""Fixtures shared by the HTTP tests: a real Chromium, and an app whose database is unreachable."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from cms.db import create_engine, dispose_engine
from cms.http import create_app
from cms.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# `expect(...)` retries until this many milliseconds have passed (Playwright's default is 5 s):
# what takes a moment on an idle machine may take seconds on a busy one.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
async def unreachable(tmp_path: Path, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app over a database that cannot be reached (a missing folder, a closed port)."""
    url = (
        f"sqlite:///{tmp_path / 'missing' / 'cms.db'}"
        if database_url.startswith("sqlite")
        else "postgresql://postgres@127.0.0.1:1/none"
    )
    settings = Settings(database_url=url, db_pool_timeout=1, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings)
    app = create_app(settings, engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as c:
        yield c
    await dispose_engine(engine)
    await _aiosqlite_threads_finished()


async def _aiosqlite_threads_finished() -> None:
    """A failed aiosqlite connect stops its worker thread after the error has reached us; the
    thread then reports to the event loop. Let it, before the test's loop is closed under it
    (which made the next test fail with "Event loop is closed" from that thread)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        "_connection_worker_thread" in thread.name for thread in threading.enumerate()
    ):
        await asyncio.sleep(0.01)

"""Behind a reverse proxy: the keyless rate limit counts the client that `X-Forwarded-For` names
only when the peer is a trusted proxy, and `cms serve --proxy-headers` writes https URLs when the
proxy terminated TLS."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database
from cms.http import create_app
from cms.settings import Settings
from tests.live_server import free_port

pytestmark = pytest.mark.anyio

PAGE = "/embed/back-walk/stress-relief"
Behind = Callable[[list[str]], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def behind(settings: Settings, database: Database) -> Behind:
    """A client whose peer is 127.0.0.1 (the ASGI transport's), against an app that trusts
    the given proxies and allows one keyless snippet read a minute."""

    @asynccontextmanager
    async def client(trusted: list[str]) -> AsyncIterator[httpx.AsyncClient]:
        configured = settings.model_copy(
            update={"trusted_proxies": trusted, "anonymous_rate_limit": 1}
        )
        transport = httpx.ASGITransport(app=create_app(configured, database))
        async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as c:
            yield c

    return client


async def _read(client: httpx.AsyncClient, forwarded_for: str) -> int:
    response = await client.get(PAGE, headers={"X-Forwarded-For": forwarded_for})
    return response.status_code


async def test_two_visitors_behind_a_trusted_proxy_have_their_own_buckets(
    seeded: AsyncEngine, behind: Behind
) -> None:
    async with behind(["127.0.0.1"]) as client:
        assert await _read(client, "203.0.113.1") == 200
        assert await _read(client, "203.0.113.2") == 200
        assert await _read(client, "203.0.113.1") == 429


async def test_an_untrusted_peer_cannot_spoof_x_forwarded_for(
    seeded: AsyncEngine, behind: Behind
) -> None:
    async with behind(["10.0.0.0/8"]) as client:
        assert await _read(client, "203.0.113.1") == 200
        # Another claimed address from the same peer is the same client.
        assert await _read(client, "203.0.113.2") == 429


async def test_addresses_a_client_prepends_through_a_trusted_proxy_do_not_count(
    seeded: AsyncEngine, behind: Behind
) -> None:
    # The proxy appends the address it saw; what the client sent stays to the left of it.
    async with behind(["127.0.0.1", "10.0.0.0/8"]) as client:
        assert await _read(client, "198.51.100.7, 203.0.113.9, 10.0.0.2") == 200
        assert await _read(client, "192.0.2.1, 203.0.113.9, 10.0.0.2") == 429


def test_serve_with_proxy_headers_writes_https_embed_urls(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CMS_")},
        "CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}",
        "CMS_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    log_path = tmp_path / "serve.log"
    command = [sys.executable, "-m", "cms", "serve", "--port", str(port), "--proxy-headers"]
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        ) as server,
    ):
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/oembed",
                        params={"url": f"https://cms.test{PAGE}"},
                        headers={
                            "Host": "cms.test",
                            "X-Forwarded-Proto": "https",
                            "X-Forwarded-For": "203.0.113.1",
                        },
                        timeout=5,
                    )
                    break
                except httpx.TransportError:
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "cms serve did not answer within 60 s"
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert response.status_code == 200, response.text
    assert f'src="https://cms.test{PAGE}"' in response.json()["html"]

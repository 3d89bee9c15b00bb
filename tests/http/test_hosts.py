"""The `Host` header: only allowed hosts are answered, and the absolute URLs the API writes come
from `CMS_PUBLIC_URL` when it is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database
from cms.http import create_app
from cms.settings import Settings

pytestmark = pytest.mark.anyio

FORGED = "evil.example"
PAGE = "/embed/back-walk/stress-relief"
PATHS = [
    PAGE,
    f"/oembed?url=http%3A%2F%2F{FORGED}{PAGE}",
    "/oembed?url=http%3A%2F%2F127.0.0.1%3A8000%2Farticles%2Fback-walk%23stress-relief",
    "/graphql?query=%7B__typename%7D",
    "/admin/login",
    "/admin/",
    "/feed.xml",
    "/sitemap.xml",
    "/healthz",
]


async def _client(
    settings: Settings, database: Database, base_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, database))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


@pytest.fixture
async def public(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with CMS_PUBLIC_URL set, addressed through a local host name."""
    configured = settings.model_copy(update={"public_url": "https://cms.example.com"})
    async for client in _client(configured, database, "http://localhost"):
        yield client


@pytest.mark.parametrize("path", PATHS)
async def test_a_forged_host_is_refused_and_never_echoed(
    seeded: AsyncEngine, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Host": FORGED})
    assert response.status_code == 400
    assert FORGED not in response.text
    assert all(FORGED not in value for value in response.headers.values())


async def test_a_forged_host_with_a_port_is_refused(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.get(PAGE, headers={"Host": f"{FORGED}:8000"})
    assert response.status_code == 400


async def test_an_allowed_host_is_answered(seeded: AsyncEngine, client: httpx.AsyncClient) -> None:
    for host in ("cms.test", "127.0.0.1:8000", "localhost"):
        response = await client.get(PAGE, headers={"Host": host})
        assert response.status_code == 200, host


async def test_the_public_url_makes_the_oembed_iframe_and_discovery_link(
    seeded: AsyncEngine, public: httpx.AsyncClient
) -> None:
    embed = "https://cms.example.com/embed/back-walk/stress-relief"
    oembed = await public.get("/oembed", params={"url": embed})
    assert oembed.status_code == 200, oembed.text
    assert f'<iframe src="{embed}"' in oembed.json()["html"]
    page = await public.get(PAGE)
    assert page.status_code == 200
    assert (
        'href="https://cms.example.com/oembed?url=https%3A%2F%2Fcms.example.com%2Fembed%2F'
        "back-walk%2Fstress-relief&amp;format=json" in page.text
    )
    # The request's own host is nowhere; the canonical link is the site's (CMS_SITE_URL).
    assert "localhost" not in page.text
    assert 'rel="canonical" href="http://127.0.0.1:8000/articles/back-walk#stress-relief"' in (
        page.text
    )


async def test_the_public_url_host_is_allowed_without_listing_it(
    seeded: AsyncEngine, public: httpx.AsyncClient
) -> None:
    response = await public.get(PAGE, headers={"Host": "cms.example.com"})
    assert response.status_code == 200
    refused = await public.get(PAGE, headers={"Host": FORGED})
    assert refused.status_code == 400


async def test_the_canonical_url_resolves_to_an_embed_on_the_public_url(
    seeded: AsyncEngine, public: httpx.AsyncClient
) -> None:
    canonical = "http://127.0.0.1:8000/articles/back-walk#stress-relief"
    response = await public.get("/oembed", params={"url": canonical})
    assert response.status_code == 200
    assert 'src="https://cms.example.com/embed/back-walk/stress-relief"' in response.json()["html"]


async def test_the_feed_links_itself_on_the_public_url(
    seeded: AsyncEngine, public: httpx.AsyncClient
) -> None:
    feed = await public.get("/feed.xml")
    assert feed.status_code == 200
    assert 'href="https://cms.example.com/feed.xml"' in feed.text
    assert "localhost" not in feed.text


def test_any_host_without_a_public_url_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match=r"CMS_ALLOWED_HOSTS=\[\"\*\"\].*CMS_PUBLIC_URL"):
        Settings(allowed_hosts=["*"], _env_file=None)  # type: ignore[call-arg]
    Settings(allowed_hosts=["*"], public_url="https://cms.example.com", _env_file=None)  # type: ignore[call-arg]

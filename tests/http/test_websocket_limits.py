"""The websocket's limits against a live server: message size, sockets per client, subscriptions
in total, fan-out to many subscribers, and a token that stops being valid."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cms.access import Scope
from cms.db import Database
from cms.http import create_app
from cms.models import utc_now
from cms.settings import Settings
from cms.tokens import revoke_token
from tests.conftest import TokenFactory
from tests.graphql_ws import PROTOCOL, Subscriber, wait_for_subscribers
from tests.live_server import live_server

pytestmark = pytest.mark.anyio

CHANGED = "subscription { contentChanged { type slug article { slug status } } }"
# An edit of the published article waits in its pending version: published in the same request.
UPDATE = """mutation($title: String!, $version: Int!, $pending: Int!) {
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $version,
    input: {title: $title}) { errors { code } }
  articlePublish(slug: "back-walk", expectedVersion: $pending) { errors { code } } }"""


def _server(settings: Settings, **overrides: Any) -> Any:
    quiet = settings.model_copy(update={"webhooks_dispatch": False, **overrides})
    return live_server(create_app(quiet))


@pytest.fixture
def server(seeded: AsyncEngine, settings: Settings) -> Iterator[str]:
    with _server(settings, max_body_bytes=10_000) as url:
        yield url


async def _closed_with(subscriber: Subscriber, timeout: float = 10) -> tuple[int, str]:
    """The code and reason the server closed the socket with; fails on any other message."""
    with pytest.raises(ConnectionClosed) as closed:
        await subscriber.receive(timeout)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def _wait_for_subscribers(url: str, count: int) -> None:
    """`wait_for_subscribers` for a server busy starting thousands of them."""
    async with httpx.AsyncClient(timeout=60) as client, asyncio.timeout(180):
        while (
            f"cms_live_subscribers {float(count)}" not in (await client.get(f"{url}/metrics")).text
        ):
            await asyncio.sleep(0.2)


def _ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


def _edit(url: str, token: str, title: str, version: int) -> None:
    response = httpx.post(
        f"{url}/graphql",
        json={
            "query": UPDATE,
            "variables": {"title": title, "version": version, "pending": version + 1},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    data = response.json()["data"]
    assert data["benefitUpdate"]["errors"] == data["articlePublish"]["errors"] == []


async def test_a_message_over_the_body_limit_closes_the_socket_with_1009(server: str) -> None:
    async with Subscriber.connect(server) as subscriber:
        # A valid subscription, padded with a comment past CMS_MAX_BODY_BYTES.
        await subscriber.subscribe(CHANGED + "\n#" + "x" * 10_000)
        assert await _closed_with(subscriber) == (1009, "A message is limited to 10000 bytes.")
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{server}/healthz")).status_code == 200
    await wait_for_subscribers(server, 0)


async def test_a_message_within_the_body_limit_is_served(server: str) -> None:
    async with Subscriber.connect(server) as subscriber:
        await subscriber.subscribe(CHANGED + "\n#" + "x" * 9_000)
        await wait_for_subscribers(server, 1)
        await subscriber.assert_quiet()


async def test_a_client_over_its_socket_count_is_closed_with_4429(
    seeded: AsyncEngine, settings: Settings
) -> None:
    with _server(settings, max_websockets_per_client=2) as url:
        async with Subscriber.connect(url), Subscriber.connect(url):
            # Closed at once, before it can send its `connection_init`.
            async with connect(_ws_url(url), subprotocols=[PROTOCOL]) as third:  # type: ignore[list-item]
                assert await _closed_with(Subscriber(third)) == (
                    4429,
                    "At most 2 open websockets a client.",
                )
        # Closed sockets no longer count.
        async with Subscriber.connect(url), Subscriber.connect(url) as again:
            await again.subscribe(CHANGED)
            await wait_for_subscribers(url, 1)


async def test_one_subscription_over_the_total_closes_its_socket_with_4429(
    seeded: AsyncEngine, settings: Settings
) -> None:
    with _server(settings, max_subscriptions=3) as url:
        async with Subscriber.connect(url) as first, Subscriber.connect(url) as second:
            for id in "123":
                await first.subscribe(CHANGED, id=id)
            await wait_for_subscribers(url, 3)
            await second.subscribe(CHANGED)
            reason = "This server serves at most 3 subscriptions."
            assert await _closed_with(second) == (4429, reason)
            await wait_for_subscribers(url, 3)
            await first.assert_quiet()


async def test_an_edit_reaches_2000_subscribers_while_healthz_answers(
    seeded: AsyncEngine, settings: Settings, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE, Scope.PUBLISH)
    sockets, per_socket = 200, 10
    limits = {"max_subscriptions": 2000, "max_websockets_per_client": sockets}
    with _server(settings, **limits) as url:
        async with AsyncExitStack() as stack:
            subscribers = [
                await stack.enter_async_context(Subscriber.connect(url)) for _ in range(sockets)
            ]
            for subscriber in subscribers:
                for id in range(per_socket):
                    await subscriber.subscribe(CHANGED, id=str(id))
            await _wait_for_subscribers(url, sockets * per_socket)

            async def receive_all(subscriber: Subscriber) -> list[tuple[str, str, Any]]:
                seen = []
                for _ in range(per_socket):
                    change = (await subscriber.next(timeout=120))["contentChanged"]
                    seen.append((change["type"], change["slug"], change["article"]))
                return seen

            received = [asyncio.ensure_future(receive_all(s)) for s in subscribers]
            await asyncio.to_thread(_edit, url, editor, "Calm", 1)
            statuses = []
            async with httpx.AsyncClient(timeout=60) as client:
                # The server keeps answering while the change goes out.
                while not all(task.done() for task in received):
                    statuses.append((await client.get(f"{url}/healthz")).status_code)
                    await asyncio.wait(received, timeout=0.05)
            expected = ("UPDATED", "back-walk", {"slug": "back-walk", "status": "PUBLISHED"})
            assert [await task for task in received] == [[expected] * per_socket] * sockets
            assert statuses and set(statuses) == {200}


async def test_a_revoked_token_closes_its_sockets_with_4403(
    seeded: AsyncEngine, database: Database, settings: Settings, make_token: TokenFactory
) -> None:
    preview = await make_token(Scope.READ_DRAFTS, name="preview")
    with _server(settings, websocket_auth_recheck=0.2) as url:
        async with Subscriber.connect(url, preview) as first, Subscriber.connect(url) as public:
            async with Subscriber.connect(url, preview) as second:
                await first.subscribe(CHANGED)
                await wait_for_subscribers(url, 1)
                # What `cms token revoke preview` runs.
                async with database.write_session() as session:
                    await revoke_token(session, name="preview")
                reason = "The token was revoked or has expired."
                assert await _closed_with(first) == (4403, reason)
                assert await _closed_with(second) == (4403, reason)
            await wait_for_subscribers(url, 0)
            # An anonymous socket has no token to lose.
            await public.subscribe(CHANGED)
            await wait_for_subscribers(url, 1)


async def test_an_expired_token_closes_its_socket_with_4403(
    seeded: AsyncEngine, settings: Settings, make_token: TokenFactory
) -> None:
    expires_at = utc_now() + timedelta(seconds=2)
    preview = await make_token(Scope.READ_DRAFTS, expires_at=expires_at)
    with _server(settings, websocket_auth_recheck=0.2) as url:
        async with Subscriber.connect(url, preview) as subscriber:
            await subscriber.subscribe(CHANGED)
            await wait_for_subscribers(url, 1)
            reason = "The token was revoked or has expired."
            assert await _closed_with(subscriber, timeout=15) == (4403, reason)

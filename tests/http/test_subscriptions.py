"""Live updates over graphql-transport-ws, with a real websocket client against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from websockets.exceptions import ConnectionClosed

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.http import create_app
from cms.models import ArticleStatus, OutboxEvent, utc_now
from cms.settings import Settings
from tests.conftest import TokenFactory
from tests.documents import article_document
from tests.graphql_ws import Subscriber, wait_for_subscribers
from tests.live_server import live_server

pytestmark = pytest.mark.anyio

CHANGED = """subscription($slugs: [String!]) {
  contentChanged(slugs: $slugs) { type slug cursor article { slug status } }
}"""
UPDATE = """mutation($title: String!, $version: Int!) { benefitUpdate(article: "back-walk",
  slug: "stress-relief", expectedVersion: $version, input: {title: $title}) { errors { code } } }"""
UNPUBLISH = """mutation($version: Int!) {
  articleUnpublish(slug: "back-walk", expectedVersion: $version) { errors { code } } }"""
PUBLISH = """mutation($version: Int!) {
  articlePublish(slug: "back-walk", expectedVersion: $version) { errors { code } } }"""


def _server(settings: Settings, **overrides: Any) -> Any:
    quiet = settings.model_copy(update={"webhooks_dispatch": False, **overrides})
    return live_server(create_app(quiet))


@pytest.fixture
def server(seeded: AsyncEngine, settings: Settings) -> Iterator[str]:
    with _server(settings) as url:
        yield url


def _edit(url: str, token: str, query: str, **variables: Any) -> None:
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )  # fmt: skip
    (payload,) = response.json()["data"].values()
    assert payload["errors"] == [], payload


def _seen(data: dict[str, Any]) -> tuple[str, str, Any]:
    change = data["contentChanged"]
    return change["type"], change["slug"], change["article"]


async def test_a_public_subscriber_hears_public_changes_only(
    server: str, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE, Scope.PUBLISH)
    async with Subscriber.connect(server) as subscriber:
        await subscriber.subscribe(CHANGED)
        await wait_for_subscribers(server, 1)
        _edit(server, editor, UPDATE, title="Calm", version=1)  # pending: not public yet
        _edit(server, editor, PUBLISH, version=2)
        _edit(server, editor, UNPUBLISH, version=3)
        _edit(server, editor, UPDATE, title="Calmer", version=4)  # a draft-only change
        _edit(server, editor, PUBLISH, version=5)

        published = {"slug": "back-walk", "status": "PUBLISHED"}
        assert _seen(await subscriber.next()) == ("UPDATED", "back-walk", published)
        assert _seen(await subscriber.next()) == ("DELETED", "back-walk", None)
        assert _seen(await subscriber.next()) == ("CREATED", "back-walk", published)
        await subscriber.assert_quiet()


async def test_a_subscriber_with_a_token_sees_draft_changes(
    server: str, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE, Scope.PUBLISH)
    preview = await make_token(Scope.READ_DRAFTS)
    async with Subscriber.connect(server, preview) as subscriber:
        await subscriber.subscribe(CHANGED)
        await wait_for_subscribers(server, 1)
        _edit(server, editor, UNPUBLISH, version=1)
        _edit(server, editor, UPDATE, title="Calmer", version=2)
        unpublished = {"slug": "back-walk", "status": "UNPUBLISHED"}
        assert _seen(await subscriber.next()) == ("UPDATED", "back-walk", unpublished)
        assert _seen(await subscriber.next()) == ("UPDATED", "back-walk", unpublished)
        await subscriber.assert_quiet()


async def test_a_subscriber_hears_only_the_articles_it_names(
    server: str, seeded: AsyncEngine, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE, Scope.PUBLISH)
    async with Subscriber.connect(server) as subscriber:
        await subscriber.subscribe(CHANGED, {"slugs": ["back-walk"]})
        await wait_for_subscribers(server, 1)
        async with session_scope(seeded) as session:
            await content.save_article_document(session, article_document(slug="elsewhere"))
        _edit(server, editor, UPDATE, title="Calm", version=1)
        _edit(server, editor, PUBLISH, version=2)
        assert _seen(await subscriber.next())[:2] == ("UPDATED", "back-walk")
        await subscriber.assert_quiet()


async def test_a_bad_token_closes_the_connection_with_4403(server: str) -> None:
    async with Subscriber.connect(server, "cms_wrong", acknowledged=False) as subscriber:
        with pytest.raises(ConnectionClosed) as closed:
            await subscriber.receive()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Forbidden")


async def test_a_subscriber_that_falls_behind_is_dropped_with_4008(
    seeded: AsyncEngine, settings: Settings
) -> None:
    with _server(settings, changes_queue_size=2) as url:
        async with Subscriber.connect(url) as subscriber:
            await subscriber.subscribe(CHANGED)
            await wait_for_subscribers(url, 1)
            # One transaction, five changes: delivered at once, more than the queue holds.
            async with session_scope(seeded) as session:
                for index in range(5):
                    document = article_document(slug=f"burst-{index}")
                    await content.save_article_document(session, document)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await subscriber.receive()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4008
            await wait_for_subscribers(url, 0)


async def test_a_draft_creation_is_invisible_to_the_public(
    server: str, seeded: AsyncEngine
) -> None:
    async with Subscriber.connect(server) as subscriber:
        await subscriber.subscribe(CHANGED)
        await wait_for_subscribers(server, 1)
        async with session_scope(seeded) as session:
            draft = article_document(slug="hidden", status=ArticleStatus.DRAFT)
            await content.save_article_document(session, draft)
            await content.save_article_document(session, article_document(slug="shown"))
        shown = {"slug": "shown", "status": "PUBLISHED"}
        assert _seen(await subscriber.next()) == ("CREATED", "shown", shown)
        await subscriber.assert_quiet()


async def test_a_scheduled_publication_is_heard_once_when_it_comes_due_with_two_servers(
    seeded: AsyncEngine, settings: Settings
) -> None:
    """Two server processes watch the clock; the go-live is announced by one, once."""
    with _server(settings) as first, _server(settings) as second:
        async with Subscriber.connect(first) as one, Subscriber.connect(second) as other:
            for subscriber, url in ((one, first), (other, second)):
                await subscriber.subscribe(CHANGED)
                await wait_for_subscribers(url, 1)
            # Nothing is written when the time comes: the servers notice it came due.
            due = utc_now() + timedelta(seconds=2)
            later = article_document(slug="later", published_at=due)
            async with session_scope(seeded) as session:
                await content.save_article_document(session, later)
            heard = ("CREATED", "later", {"slug": "later", "status": "PUBLISHED"})
            assert _seen(await one.next()) == heard
            assert _seen(await other.next()) == heard
            await one.assert_quiet(seconds=2.5)  # past the next look at the clock of both
            await other.assert_quiet()
    async with session_scope(seeded) as session:
        events = (
            await session.exec(select(OutboxEvent).where(col(OutboxEvent.article_slug) == "later"))
        ).all()
    assert [event.event_type for event in events] == ["article.updated", "article.published"]

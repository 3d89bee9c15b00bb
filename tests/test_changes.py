"""The change channel in one process: announced exactly at commit, and the response cache
answered from memory while the PostgreSQL listener is up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import orjson
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from starlette.applications import Starlette

from cms import changes, content, migrate, workflow
from cms.changes import ChangeChannel
from cms.db import Database, create_engine, dispose_engine, session_scope
from cms.http import create_app
from cms.models import (
    Article,
    ArticleReview,
    PendingVersion,
    ReviewAction,
    Reviewer,
    Revision,
    utc_now,
)
from cms.outbox import ContentRevision, content_revision, events_after
from cms.seed import seed_database
from cms.settings import Settings
from tests.conftest import SEED_DIR
from tests.graphql_ws import PATIENCE

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title benefits { title } } }'


class Refused(Exception):
    pass


@asynccontextmanager
async def _running(
    settings: Settings, engine: AsyncEngine
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app with its lifespan (so its change channel) running, reached over ASGI."""
    app = create_app(settings.model_copy(update={"webhooks_dispatch": False}), engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield app, client


async def _read(client: httpx.AsyncClient) -> Any:
    response = await client.post("/graphql", json={"query": READ})
    assert response.status_code == 200, response.text
    return response.json()["data"]["article"]


async def _retitle(engine: AsyncEngine, title: str, *, fail: bool = False) -> None:
    async with session_scope(engine) as session:
        current = await content.get_article_document(session, slug="back-walk")
        assert current is not None
        await content.save_article_document(session, current.model_copy(update={"title": title}))
        if fail:
            raise Refused


@pytest.mark.postgres_only
async def test_a_cache_hit_costs_no_sql_while_the_listener_is_up(
    seeded: AsyncEngine, settings: Settings, sql_statements: list[str]
) -> None:
    async with _running(settings, seeded) as (app, client):
        channel: ChangeChannel = app.state.changes
        await channel.wait_live(timeout=PATIENCE)
        first = await _read(client)
        sql_statements.clear()
        assert await _read(client) == first
        assert sql_statements == []

        # The writer's own process sees its write on the very next request.
        await _retitle(seeded, "Walking Backwards")
        assert (await _read(client))["title"] == "Walking Backwards"
        sql_statements.clear()
        assert (await _read(client))["title"] == "Walking Backwards"
        assert sql_statements == []


@pytest.mark.postgres_only
async def test_without_a_listener_every_cache_hit_reads_the_revision(
    seeded: AsyncEngine, client: httpx.AsyncClient, sql_statements: list[str]
) -> None:
    """The `client` fixture runs no lifespan, so no listener: never stale, one query a hit."""
    first = await _read(client)
    sql_statements.clear()
    assert await _read(client) == first
    assert sql_statements == ["SELECT coalesce(max(revision), 0) FROM content_state"]


@pytest.mark.postgres_only
async def test_a_change_is_announced_at_commit_and_never_for_a_rollback(
    seeded: AsyncEngine, database_url: str
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute("LISTEN cms_content")
        with pytest.raises(Refused):
            await _retitle(seeded, "Never", fail=True)
        assert [n async for n in listener.notifies(timeout=0.5)] == []

        async with session_scope(seeded) as session:
            current = await content.get_article_document(session, slug="back-walk")
            assert current is not None
            await content.save_article_document(
                session, current.model_copy(update={"title": "Committed"})
            )
            # Not before the commit.
            assert [n async for n in listener.notifies(timeout=0.5)] == []
        (notification,) = [n async for n in listener.notifies(timeout=PATIENCE, stop_after=1)]
        async with session_scope(seeded) as session:
            revision = await content_revision(session)

    announced = orjson.loads(notification.payload)
    assert notification.channel == "cms_content"
    assert (announced["revision"], announced["event"], announced["slug"]) == (
        revision,
        "article.updated",
        "back-walk",
    )
    assert (announced["version"], announced["status"]) == (2, "published")


async def test_upgrading_gives_existing_events_revisions_in_commit_order(
    settings: Settings,
) -> None:
    """The migration that adds `outbox_event.revision` numbers the events already there so that
    the newest takes the current content revision, and new writes carry on after it."""
    engine = create_engine(settings)
    try:
        await migrate.upgrade(engine)
        await seed_database(engine, [SEED_DIR])
        await _retitle(engine, "Second")
        await _retitle(engine, "Third")
        await migrate.downgrade(engine, "0005")
        await migrate.upgrade(engine)
        async with session_scope(engine) as session:
            events = await events_after(session, revision=0, limit=10)
            # The seed writes the article and then its translation (same version).
            assert [(e.revision, e.article_version) for e in events] == [
                (1, 1), (2, 1), (3, 2), (4, 3)
            ]  # fmt: skip
            assert [e.id for e in events] == sorted(e.id for e in events)
            assert await content_revision(session) == 4
        await _retitle(engine, "Fourth")
        async with session_scope(engine) as session:
            assert [e.revision for e in await events_after(session, revision=4, limit=10)] == [5]
    finally:
        await dispose_engine(engine)


@pytest.mark.postgres_only
async def test_a_change_missed_while_the_listener_was_down_is_delivered_on_reconnect(
    seeded: AsyncEngine,
    settings: Settings,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Time to write while the listener is away, however busy the machine.
    monkeypatch.setattr(changes, "BACKOFF_FIRST", 3.0)
    # Another process's writes: a writer this process does not know is on the same database.
    elsewhere = create_engine(
        settings.model_copy(update={"database_url": database_url.replace("127.0.0.1", "localhost")})
    )
    caplog.set_level(logging.INFO, logger="cms.changes")
    try:
        async with _running(settings, seeded) as (app, _client):
            channel: ChangeChannel = app.state.changes
            await channel.wait_live(timeout=PATIENCE)
            with channel.subscribe() as subscription:
                async with await psycopg.AsyncConnection.connect(
                    database_url, autocommit=True
                ) as admin:
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = 'cms-changes'"
                        " AND datname = current_database()"
                    )
                async with asyncio.timeout(PATIENCE):
                    while channel.live:
                        await asyncio.sleep(0.01)
                await _retitle(elsewhere, "Written while nobody listened")
                assert not channel.live
                # Read back from the outbox on reconnect, before the listener counts as live.
                change = await asyncio.wait_for(subscription.next(), timeout=PATIENCE)
                assert change is not None
                assert (change.slug, change.event.value, change.version) == (
                    "back-walk",
                    "article.updated",
                    2,
                )
                await channel.wait_live(timeout=PATIENCE)
            async with session_scope(seeded) as session:
                assert channel.live_revision() == await content_revision(session)
    finally:
        await dispose_engine(elsewhere)
    messages = [r.getMessage() for r in caplog.records if r.name == "cms.changes"]
    assert messages[0] == "change listener connected"
    assert messages[1].startswith("change listener disconnected")
    assert messages[2] == "change listener connected"


async def test_a_scheduled_pending_version_goes_live_once_and_the_cache_follows(
    seeded: AsyncEngine, settings: Settings
) -> None:
    async with _running(settings, seeded) as (app, client):
        channel: ChangeChannel = app.state.changes
        first = await _read(client)
        async with session_scope(seeded) as session:
            await content.edit_article_document(
                session, slug="back-walk", expected_version=1, actor="test",
                change=lambda document: document.model_copy(update={"title": "Later"}),
            )  # fmt: skip
            await workflow.publish_article(
                session, slug="back-walk", expected_version=2, actor="test",
                publish_at=utc_now() + timedelta(hours=1), unpublish_at=None,
            )  # fmt: skip
        assert await _read(client) == first  # the live version stays live meanwhile
        assert await channel.apply_due() == 0
        # The clock passing the time without waiting for it: the time moves to now (so the
        # channel is told to look again, as it would once the time it read has come).
        async with session_scope(seeded) as session:
            await session.exec(sa.update(PendingVersion).values(publish_at=utc_now()))
        await channel.apply_due(force=True)  # what the channel's own loop runs every second
        assert (await _read(client))["title"] == "Later"
        assert await channel.apply_due(force=True) == 0
    async with session_scope(seeded) as session:
        statement = select(Revision.action).where(col(Revision.article_slug) == "back-walk")
        actions = (await session.exec(statement.order_by(col(Revision.version)))).all()
    assert actions == ["created", "updated", "scheduled", "published"]


async def test_the_cache_revision_moves_when_a_medical_review_runs_out(
    seeded: AsyncEngine, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No write happens when a review runs out; answers cached before must not outlive it."""
    async with session_scope(seeded) as session:
        (article,) = (await session.exec(select(Article))).all()
        reviewer = Reviewer(slug="ada", name="Dr. Ada Example", credentials="MD")
        session.add(reviewer)
        await session.flush()
        today = utc_now().date()
        session.add(
            ArticleReview(
                article_id=article.id,
                action=ReviewAction.APPROVED,
                reviewer_id=reviewer.id,
                version=article.version,
                content_hash=article.content_hash,
                reviewed_on=today,
                next_review_due=today,
                actor="test",
            )  # fmt: skip
        )
    revision = ContentRevision(database)
    before = await revision.current()
    assert await revision.current() == before  # nothing came due yet
    tomorrow = utc_now() + timedelta(days=1, seconds=1)
    monkeypatch.setattr("cms.outbox.time.time", tomorrow.timestamp)
    assert await revision.current() > before

"""The outbox: one event per content change, written in the change's own transaction, with the
content revision bumped beside it.

Webhook delivery reads the events after commit, so a change and its event are never one without
the other. Caches key on the content revision (`ContentState`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cms.db import inline_reader, sqlite_data_version
from cms.models import Article, ArticleStatus, ContentState, OutboxEvent

__all__ = [
    "ContentRevision",
    "EventType",
    "content_revision",
    "event_type_for_change",
    "record_event",
]


class EventType(enum.StrEnum):
    PUBLISHED = "article.published"
    UNPUBLISHED = "article.unpublished"
    UPDATED = "article.updated"
    DELETED = "article.deleted"


def event_type_for_change(before: ArticleStatus | None, after: ArticleStatus) -> EventType:
    published = ArticleStatus.PUBLISHED
    if after is published and before is not published:
        return EventType.PUBLISHED
    if before is published and after is not published:
        return EventType.UNPUBLISHED
    return EventType.UPDATED


async def record_event(
    session: AsyncSession,
    *,
    event_type: EventType,
    article: Article,
    occurred_at: datetime,
    locale: str | None = None,
) -> None:
    """`locale` is set when only the article's translation into that locale changed."""
    key = str(uuid.uuid4())
    article_payload: dict[str, object] = {
        "slug": article.slug,
        "version": article.version,
        "status": article.status.value,
        "published_at": article.published_at.isoformat() if article.published_at else None,
    }
    if locale is not None:
        article_payload["locale"] = locale
    await _bump_content_revision(session)
    await session.exec(
        sa.insert(OutboxEvent).values(
            event_type=event_type.value,
            article_slug=article.slug,
            article_version=article.version,
            idempotency_key=key,
            created_at=occurred_at,
            payload={
                "event": event_type.value,
                "idempotency_key": key,
                "occurred_at": occurred_at.isoformat(),
                "article": article_payload,
            },
        )
    )


async def _bump_content_revision(session: AsyncSession) -> None:
    bumped = await session.exec(sa.update(ContentState).values(revision=ContentState.revision + 1))
    if bumped.rowcount == 0:  # a schema made without migrations starts with no row
        await session.exec(sa.insert(ContentState).values(id=1, revision=1))


async def content_revision(session: AsyncSession) -> int:
    """A number that grows with every committed content change."""
    revision = (await session.exec(select(ContentState.revision))).first()
    return int(revision or 0)


class ContentRevision:
    """`content_revision` for every request of a server, kept cheap: on SQLite it is read again
    only when `data_version` says another connection has committed since; on PostgreSQL it is
    one index lookup on its own pooled connection."""

    _QUERY = "SELECT coalesce(max(revision), 0) FROM content_state"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._seen: tuple[int, int] | None = None  # (data_version, revision)

    async def current(self) -> int:
        version = sqlite_data_version(self._engine)
        if version is None:
            async with self._engine.connect() as connection:
                return int((await connection.exec_driver_sql(self._QUERY)).scalar_one())
        if self._seen is None or self._seen[0] != version:
            reader = inline_reader(self._engine)
            assert reader is not None
            with reader.connect() as connection:
                self._seen = (version, int(connection.exec_driver_sql(self._QUERY).scalar_one()))
        return self._seen[1]

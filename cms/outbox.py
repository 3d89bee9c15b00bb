"""The outbox: one event per content change, written in the change's own transaction.

Webhook delivery reads it after commit, so a change and its event are never one without the
other. The highest event id doubles as the content revision that caches key on.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cms.models import Article, ArticleStatus, OutboxEvent

__all__ = ["EventType", "content_revision", "event_type_for_change", "record_event"]


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
    session: AsyncSession, *, event_type: EventType, article: Article, occurred_at: datetime
) -> None:
    key = str(uuid.uuid4())
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
                "article": {
                    "slug": article.slug,
                    "version": article.version,
                    "status": article.status.value,
                    "published_at": article.published_at.isoformat()
                    if article.published_at
                    else None,
                },
            },
        )
    )


async def content_revision(session: AsyncSession) -> int:
    """A number that grows with every committed content change."""
    latest = (await session.exec(select(sa.func.max(OutboxEvent.id)))).one()
    return int(latest or 0)

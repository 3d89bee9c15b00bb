"""What the public may see, decided in one place. Every read of content (the API, search,
snippets, embeds, oEmbed), the change feed and the caches' due times use these rules.

An article is public when it is published, its `published_at` has come and its `unpublish_at`
(if any) has not; an item (or a part of the search index) when it is not a draft and its article
is public. An article's pending version (`cms.working_copies`) is never public.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cms.models import Article, ArticleStatus

__all__ = [
    "article_is_expiring",
    "article_is_public",
    "article_is_scheduled",
    "is_public",
    "item_is_public",
]

_ARTICLES: Any = Article.__table__  # type: ignore[attr-defined]


def article_is_public(now: Any, articles: Any = _ARTICLES) -> sa.ColumnElement[bool]:
    """Articles the public may see at `now` (a datetime or a bind parameter). A scheduled
    article becomes public when its time comes, and an expiring one stops being public when
    its time comes, with no job having to run then."""
    return sa.and_(
        articles.c.status == ArticleStatus.PUBLISHED,
        articles.c.published_at <= now,
        sa.or_(articles.c.unpublish_at.is_(None), articles.c.unpublish_at > now),
    )


def is_public(article: Article, now: datetime) -> bool:
    """`article_is_public` for one article in memory."""
    return (
        article.status is ArticleStatus.PUBLISHED
        and article.published_at is not None
        and article.published_at <= now
        and (article.unpublish_at is None or article.unpublish_at > now)
    )


def article_is_scheduled(now: Any, articles: Any = _ARTICLES) -> sa.ColumnElement[bool]:
    """Articles published for a time still to come: public from then on."""
    return sa.and_(articles.c.status == ArticleStatus.PUBLISHED, articles.c.published_at > now)


def article_is_expiring(now: Any, articles: Any = _ARTICLES) -> sa.ColumnElement[bool]:
    """Published articles with an expiry still to come: no longer public from then on."""
    return sa.and_(articles.c.status == ArticleStatus.PUBLISHED, articles.c.unpublish_at > now)


def item_is_public(items: Any) -> sa.ColumnElement[bool]:
    """Items (or search parts) the public may see, once their article is public."""
    return items.c.is_draft.is_(False)  # type: ignore[no-any-return]

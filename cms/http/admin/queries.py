"""What the admin's pages read: articles with their documents, lists for the home page,
revisions. Reads only; writes are in `cms.http.admin.edits`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from sqlmodel import col, or_, select

from cms.content import StoredArticle, stored_article
from cms.db import Database, ReadSession, WriteSession
from cms.errors import NotFound
from cms.models import Article, ArticleStatus, Author, Revision, utc_now
from cms.revisions import get_revision, list_revisions

__all__ = [
    "HOME_PANELS",
    "HomePanel",
    "Panel",
    "every_article",
    "every_author",
    "revision_pair",
    "revisions_of",
    "the_article",
]


async def the_article(database: Database, slug: str) -> StoredArticle:
    """The article and its whole document, drafts included; `NotFound` when there is none."""
    async with database.read_session() as session:
        # Unlocked, `stored_article` only reads.
        stored = await stored_article(cast(WriteSession, session), slug, lock=False)
    if stored is None:
        raise NotFound(f"There is no article {slug!r}; it may have been deleted.")
    return stored


async def every_article(database: Database) -> list[Article]:
    """Every article, the most recently changed first."""
    async with database.read_session() as session:
        statement = select(Article).order_by(col(Article.updated_at).desc(), col(Article.slug))
        return list((await session.exec(statement)).all())


async def every_author(database: Database) -> list[Author]:
    async with database.read_session() as session:
        return list((await session.exec(select(Author).order_by(col(Author.name)))).all())


async def revisions_of(database: Database, article_id: int) -> list[Revision]:
    async with database.read_session() as session:
        return await list_revisions(session, article_id=article_id, limit=500)


async def revision_pair(
    database: Database, article_id: int, version: int
) -> tuple[Revision | None, Revision]:
    """The revision at `version` and the one before it (None for the first)."""
    async with database.read_session() as session:
        new = await get_revision(session, article_id=article_id, version=version)
        old = None
        if version > 1:
            old = await get_revision(session, article_id=article_id, version=version - 1)
    return old, new


@dataclass
class Panel:
    """One list on the home page: a heading, what an empty list means, and its articles."""

    title: str
    empty: str
    articles: list[Article]
    note: str = ""


HomePanel = Callable[[ReadSession, int], Awaitable[Panel]]


async def _drafts(session: ReadSession, _review_days: int) -> Panel:
    statement = select(Article).where(Article.status == ArticleStatus.DRAFT)
    rows = (await session.exec(statement.order_by(col(Article.updated_at).desc()))).all()
    return Panel("Drafts", "No drafts.", list(rows))


async def _scheduled(session: ReadSession, _review_days: int) -> Panel:
    statement = select(Article).where(
        Article.status == ArticleStatus.PUBLISHED, col(Article.published_at) > utc_now()
    )
    rows = (await session.exec(statement.order_by(col(Article.published_at)))).all()
    return Panel("Scheduled", "Nothing is scheduled.", list(rows))


async def _overdue_reviews(session: ReadSession, review_days: int) -> Panel:
    """Articles never medically reviewed, or not for `review_days` (what `cms lint` warns of)."""
    due = date.today() - timedelta(days=review_days)
    statement = select(Article).where(
        Article.status != ArticleStatus.ARCHIVED,
        or_(col(Article.last_reviewed).is_(None), col(Article.last_reviewed) < due),
    )
    rows = (await session.exec(statement.order_by(col(Article.slug)))).all()
    note = f"Never medically reviewed, or last reviewed more than {review_days} days ago."
    return Panel("Medical review overdue", "Every article's review is current.", list(rows), note)


# The home page shows these, in order. Extension points: a panel of reviews awaiting the
# logged-in editor (pending reviews) and of pending versions of live articles go here, each a
# `HomePanel`, once those features exist.
HOME_PANELS: tuple[HomePanel, ...] = (_drafts, _scheduled, _overdue_reviews)

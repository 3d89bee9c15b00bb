"""What the admin's pages read: articles with their documents, lists for the home page,
revisions. Reads only; writes are in `cms.http.admin.edits`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy.orm import aliased
from sqlmodel import col, func, select

from cms.content import StoredArticle, stored_article
from cms.db import Database, ReadSession, WriteSession
from cms.errors import NotFound
from cms.models import (
    Article,
    ArticleReview,
    ArticleStatus,
    Author,
    ReviewAction,
    Reviewer,
    Revision,
    utc_now,
)
from cms.reviews import ReviewStatus, reviews_by_article_ids, status_of
from cms.revisions import get_revision, list_revisions

__all__ = [
    "HOME_PANELS",
    "HomePanel",
    "Panel",
    "every_article",
    "every_author",
    "every_reviewer",
    "live_review_status",
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


async def every_reviewer(database: Database) -> list[Reviewer]:
    async with database.read_session() as session:
        return list((await session.exec(select(Reviewer).order_by(col(Reviewer.name)))).all())


async def live_review_status(database: Database, article: Article) -> ReviewStatus:
    """Whether the live text is the text a clinician reviewed (`Article.reviewStatus`)."""
    assert article.id is not None
    async with database.read_session() as session:
        found = await reviews_by_article_ids(session, [article.id])
    return status_of(found.get(article.id), article.content_hash, utc_now().date())


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


async def _awaiting_review(session: ReadSession, _review_days: int) -> Panel:
    """Articles whose latest review step is a request for review."""
    step = aliased(ArticleReview)
    latest = (
        select(func.max(step.id))
        .where(col(step.article_id) == col(Article.id))
        .correlate(Article)
        .scalar_subquery()
    )
    statement = (
        select(Article)
        .join(ArticleReview, col(ArticleReview.id) == latest)
        .where(ArticleReview.action == ReviewAction.SUBMITTED)
    )
    rows = (await session.exec(statement.order_by(col(Article.updated_at)))).all()
    return Panel("Awaiting medical review", "Nothing is waiting for a review.", list(rows))


async def _reviews_needed(session: ReadSession, _review_days: int) -> Panel:
    """Articles whose live text is not the text a clinician reviewed, or whose review is due."""
    statement = select(Article).where(Article.status != ArticleStatus.ARCHIVED)
    articles = (await session.exec(statement.order_by(col(Article.slug)))).all()
    found = await reviews_by_article_ids(session, [a.id for a in articles if a.id is not None])
    today = utc_now().date()
    rows = [
        article
        for article in articles
        if article.id is not None
        and status_of(found.get(article.id), article.content_hash, today)
        is not ReviewStatus.CURRENT
    ]
    note = "Never medically reviewed, changed since the review, or past the review's due date."
    return Panel("Medical review needed", "Every article's review is current.", rows, note)


# The home page shows these, in order; a new panel is one more `HomePanel` here.
HOME_PANELS: tuple[HomePanel, ...] = (_drafts, _scheduled, _awaiting_review, _reviews_needed)

"""Creating articles, one or many at once: an article's own row from its document, and every row
a new article has, written table by table for the whole batch (`cms seed` creates thousands in
one transaction at a few statements per table, not a dozen per article). Used by `cms.content`
and `cms.seed` alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from cms.aliases import check_new_article_slugs
from cms.authors import author_document, referenced_author
from cms.content_model import ITEM_KINDS
from cms.db import WriteSession
from cms.documents import ArticleDocument, AuthorDocument
from cms.gate import check_save
from cms.item_rows import insert_items
from cms.models import Article, ArticleStatus, ArticleTag, Author
from cms.outbox import record_changes
from cms.reviews import reviewable_hash
from cms.revisions import record_revisions
from cms.search_index import index_new_articles

__all__ = ["apply_article_fields", "create_articles", "publication_time", "write_tags"]


async def create_articles(
    session: WriteSession,
    documents: Sequence[ArticleDocument],
    *,
    actor: str,
    action: str | None,
    now: datetime,
) -> None:
    """Create an article for each document (none of their slugs is stored yet): its rows, its
    search documents, a revision and an outbox event each, as one save of each would, in the
    caller's transaction."""
    if not documents:
        return
    await check_new_article_slugs(session, [document.slug for document in documents])
    authors = await _referenced_authors(session, [document.author for document in documents])
    bylines = {slug: author_document(author) for slug, author in authors.items()}
    saved = [
        document.with_published_at(publication_time(document, None, now)).model_copy(
            update={"author": bylines[document.author.slug]}
        )
        for document in documents
    ]
    articles = await _insert_articles(session, saved, authors, now)
    new: list[tuple[int, ArticleDocument]] = []
    for article, document in zip(articles, saved, strict=True):
        assert article.id is not None
        new.append((article.id, document))
    for kind in ITEM_KINDS:
        await insert_items(session, kind, [(id_, document.items(kind)) for id_, document in new])
    await write_tags(session, [(id_, document.tags) for id_, document in new], new_articles=True)
    await index_new_articles(session, new)
    await record_revisions(
        session, list(zip(articles, saved, strict=True)), action=action or "created", actor=actor
    )
    for article, document in zip(articles, saved, strict=True):
        await check_save(session, article, document, None)
    await record_changes(session, articles=articles, occurred_at=now, was_public=False)
    await session.flush()


async def _referenced_authors(
    session: WriteSession, bylines: Sequence[AuthorDocument]
) -> dict[str, Author]:
    """The stored author of each byline, by slug (`referenced_author`: created if missing)."""
    authors: dict[str, Author] = {}
    for byline in bylines:
        if byline.slug not in authors:
            authors[byline.slug] = await referenced_author(session, byline)
    return authors


async def _insert_articles(
    session: WriteSession,
    documents: Sequence[ArticleDocument],
    authors: dict[str, Author],
    now: datetime,
) -> list[Article]:
    """The articles' rows (one statement), and their ids (another)."""
    articles = []
    for document in documents:
        author_id = authors[document.author.slug].id
        assert author_id is not None
        # Set by the constructor: each attribute set later costs ~10x as much (SQLModel).
        fields = article_fields(document, author_id)
        articles.append(Article(slug=document.slug, created_at=now, updated_at=now, **fields))
    table: sa.Table = Article.__table__  # type: ignore[attr-defined]
    columns = [column.name for column in table.columns if column.name != "id"]
    rows = [{name: getattr(article, name) for name in columns} for article in articles]
    slugs = [article.slug for article in articles]
    # Ids read back by slug: SQLite cannot return them in the rows' order from one statement.
    await session.exec(sa.insert(table), params=rows)
    statement = sa.select(table.c.slug, table.c.id).where(table.c.slug.in_(list(slugs)))
    ids = dict((await session.exec(statement)).all())  # type: ignore[call-overload]
    for article in articles:
        article.id = ids[article.slug]
    return articles


def publication_time(
    document: ArticleDocument, stored: datetime | None, now: datetime
) -> datetime | None:
    """When the saved article is (or was) published: as the document says, else as stored,
    else now for an article being published."""
    published_at = document.published_at or stored
    if published_at is None and document.status is ArticleStatus.PUBLISHED:
        return now
    return published_at


def apply_article_fields(article: Article, document: ArticleDocument, author_id: int) -> None:
    for name, value in article_fields(document, author_id).items():
        setattr(article, name, value)


def article_fields(document: ArticleDocument, author_id: int) -> dict[str, Any]:
    """The article row's columns that its document sets."""
    conclusion = document.conclusion
    return {
        "locale": document.locale,
        "title": document.title,
        "headline": document.headline,
        "status": document.status,
        "published_at": document.published_at,
        "unpublish_at": document.unpublish_at,
        "intro": document.intro,
        "meta_title": document.meta_title,
        "meta_description": document.meta_description,
        "conclusion_title": conclusion.title if conclusion else "",
        "conclusion": conclusion.body if conclusion else "",
        "author_id": author_id,
        "content_hash": reviewable_hash(document),
    }


async def write_tags(
    session: WriteSession,
    articles: Sequence[tuple[int, Sequence[str]]],
    *,
    new_articles: bool,
) -> None:
    """Make the articles' tags (by article id) these, in order: one statement to delete the old
    ones (none for new articles), one to insert."""
    if not new_articles:
        ids = [article_id for article_id, _ in articles]
        await session.exec(sa.delete(ArticleTag).where(col(ArticleTag.article_id).in_(ids)))
    rows: list[dict[str, Any]] = [
        {"article_id": article_id, "tag": tag, "position": i}
        for article_id, tags in articles
        for i, tag in enumerate(tags)
    ]
    if rows:
        # Core, not the ORM's bulk insert: this runs once per article in every seed.
        table: sa.Table = ArticleTag.__table__  # type: ignore[attr-defined]
        await session.exec(sa.insert(table), params=rows)

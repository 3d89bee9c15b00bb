"""Authors, shared by the articles that name them: the only code that creates or changes one.

An article references its author by slug and never changes it (`referenced_author`). A change
of an author (`update_author`) changes every byline that shows it, so each article naming the
author gets a new version, a revision and an outbox event, like any edit of its content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from cms.db import ReadSession, WriteSession
from cms.documents import AuthorDocument
from cms.errors import Conflict, ContentProblem, InvalidContent, NotFound
from cms.events import EventType
from cms.models import Article, ArticleStatus, Author, utc_now
from cms.outbox import record_event
from cms.revisions import get_revision, record_revision, snapshot_of

__all__ = [
    "AuthorUpdate",
    "articles_of_author",
    "author_document",
    "author_reference",
    "create_author",
    "get_author",
    "has_public_byline",
    "list_authors",
    "referenced_author",
    "update_author",
]


@dataclass
class AuthorUpdate:
    """An author after a change, and every article whose byline the change reached."""

    author: Author
    articles: list[Article]


def author_document(author: Author) -> AuthorDocument:
    return AuthorDocument(slug=author.slug, name=author.name, bio=author.bio)


async def get_author(session: ReadSession, slug: str, *, lock: bool = False) -> Author | None:
    statement = select(Author).where(Author.slug == slug)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def list_authors(session: ReadSession) -> list[Author]:
    return list((await session.exec(select(Author).order_by(col(Author.slug)))).all())


async def referenced_author(session: WriteSession, document: AuthorDocument) -> Author:
    """The stored author an article document names, by slug; created from the document when
    there is none yet (a seed or an import brings its authors). Never changed: an author is
    changed only by `update_author`, and the article is saved with the stored author."""
    author = await get_author(session, document.slug)
    return author if author is not None else await create_author(session, document)


async def create_author(session: WriteSession, document: AuthorDocument) -> Author:
    if await get_author(session, document.slug) is not None:
        message = f"there is already an author {document.slug!r}"
        raise InvalidContent([ContentProblem("", "slug", message)])
    now = utc_now()
    author = Author(
        slug=document.slug, name=document.name, bio=document.bio, created_at=now, updated_at=now
    )
    session.add(author)
    await session.flush()
    return author


async def articles_of_author(
    session: ReadSession, author_id: int, *, lock: bool = False
) -> list[Article]:
    """The articles naming the author, by slug; with `lock`, locked for a write until the
    transaction ends (an edit of one of them waits, then sees the new version)."""
    statement = select(Article).where(Article.author_id == author_id).order_by(col(Article.slug))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list((await session.exec(statement)).all())


async def has_public_byline(session: ReadSession, slug: str) -> bool:
    """Whether a change of the author `slug` would change what the public reads."""
    author = await get_author(session, slug)
    if author is None or author.id is None:
        return False
    return any(
        article.status is ArticleStatus.PUBLISHED
        for article in await articles_of_author(session, author.id)
    )


async def update_author(
    session: WriteSession,
    document: AuthorDocument,
    *,
    expected_version: int | None,
    actor: str,
) -> AuthorUpdate:
    """Make the stored author `document.slug` read as `document`, refusing a stale
    `expected_version` (None: any). Each article naming the author gets a new version, a
    revision (its last snapshot with the new byline) and an `article.updated` event."""
    author = await get_author(session, document.slug, lock=True)
    if author is None or author.id is None:
        raise NotFound(f"No author {document.slug!r}.")
    if expected_version is not None and author.version != expected_version:
        raise Conflict(
            slug=author.slug,
            expected_version=expected_version,
            current_version=author.version,
            noun="author",
        )
    if author_document(author) == document:
        return AuthorUpdate(author, [])
    now = utc_now()
    author.name, author.bio, author.updated_at = document.name, document.bio, now
    author.version += 1
    session.add(author)
    articles = await articles_of_author(session, author.id, lock=True)
    for article in articles:
        assert article.id is not None
        before = snapshot_of(
            await get_revision(session, article_id=article.id, version=article.version)
        )
        article.version += 1
        article.updated_at = now
        session.add(article)
        await session.flush()
        after = before.model_copy(update={"author": document})
        await record_revision(
            session, article=article, document=after, action="author updated", actor=actor
        )
        await record_event(session, event_type=EventType.UPDATED, article=article, occurred_at=now)
    await session.flush()
    return AuthorUpdate(author, articles)


def author_reference(given: Mapping[str, Any], stored: Author | None) -> dict[str, Any]:
    """The `author` of an article as an API client gives it (a slug; a name and bio only if it
    likes), completed from the stored author. Refused with `InvalidContent` when there is no
    such author or when a name or bio given is not the author's: an article only references
    its author (`authorUpdate` changes one)."""
    slug = str(given["slug"])
    if stored is None:
        message = f"there is no author {slug!r}: create it first (authorCreate)"
        raise InvalidContent([ContentProblem("", "author.slug", message)])
    for name in ("name", "bio"):
        value = given.get(name)
        if value is not None and value != getattr(stored, name):
            message = (
                f"differs from the {name} of author {slug!r}: an article only references its "
                "author; change the author itself (authorUpdate)"
            )
            raise InvalidContent([ContentProblem("", f"author.{name}", message)])
    return {"slug": slug, "name": stored.name, "bio": stored.bio}

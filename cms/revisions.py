"""Article history: a full snapshot per saved version, live or pending (`cms.working_copies`),
and diffs between any two."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from cms.db import ReadSession, WriteSession
from cms.documents import ArticleDocument
from cms.errors import NotFound
from cms.models import Article, Revision
from cms.seed_files import dump_document

__all__ = [
    "diff_revisions",
    "get_revision",
    "list_revisions",
    "record_revision",
    "record_revisions",
    "snapshot_of",
]


async def record_revision(
    session: WriteSession,
    *,
    article: Article,
    document: ArticleDocument,
    action: str,
    actor: str,
    version: int | None = None,
    at: datetime | None = None,
    pending: bool = False,
) -> None:
    """Record `document` as the article's live version (as the article row says), or, with
    `pending`, as its pending version `version` saved `at`."""
    # A plain INSERT: history is written, never read back in the same unit of work.
    await session.exec(
        sa.insert(Revision).values(
            _revision_row(article, document, action, actor, version=version, at=at, pending=pending)
        )
    )


async def record_revisions(
    session: WriteSession,
    saves: Sequence[tuple[Article, ArticleDocument]],
    *,
    action: str,
    actor: str,
) -> None:
    """`record_revision` of many articles' live versions at once (`cms seed`): one statement."""
    if saves:
        rows = [_revision_row(article, document, action, actor) for article, document in saves]
        await session.exec(sa.insert(Revision), params=rows)


def _revision_row(
    article: Article,
    document: ArticleDocument,
    action: str,
    actor: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
    pending: bool = False,
) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "article_slug": article.slug,
        "version": article.version if version is None else version,
        "action": action,
        "actor": actor,
        "created_at": article.updated_at if at is None else at,
        "snapshot": document.model_dump(mode="json"),
        "pending": pending,
    }


async def list_revisions(
    session: ReadSession, *, article_id: int, before_version: int | None = None, limit: int
) -> list[Revision]:
    """Newest first."""
    statement = select(Revision).where(Revision.article_id == article_id)
    if before_version is not None:
        statement = statement.where(col(Revision.version) < before_version)
    statement = statement.order_by(col(Revision.version).desc()).limit(limit)
    return list((await session.exec(statement)).all())


async def get_revision(session: ReadSession, *, article_id: int, version: int) -> Revision:
    statement = select(Revision).where(
        Revision.article_id == article_id, Revision.version == version
    )
    revision = (await session.exec(statement)).first()
    if revision is None:
        raise NotFound(f"The article has no version {version}.")
    return revision


def snapshot_of(revision: Revision) -> ArticleDocument:
    return ArticleDocument.model_validate(revision.snapshot)


def diff_revisions(old: Revision, new: Revision) -> str:
    """A unified diff of the two versions as seed files, the form editors review in git."""
    diff = difflib.unified_diff(
        _lines(old.snapshot),
        _lines(new.snapshot),
        fromfile=f"{old.article_slug}@{old.version}",
        tofile=f"{new.article_slug}@{new.version}",
    )
    return "".join(diff)


def _lines(snapshot: dict[str, Any]) -> list[str]:
    return dump_document(ArticleDocument.model_validate(snapshot)).splitlines(keepends=True)

"""What full-text search indexes, and keeping it current: one `SearchDocument` per part of an
article, rewritten by `cms.content` in the transaction of every write.

The text indexed is what a reader sees (Markdown rendered to plain text), so excerpts carry no
Markdown syntax. The two characters that mark matches in excerpts are removed from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from cms.content_model import ITEM_KINDS, ItemDocument, ItemKind, Role
from cms.db import WriteSession
from cms.documents import ArticleDocument
from cms.models import (
    SQLITE_SEARCH_INSERT_TRIGGER,
    PendingSearchDocument,
    SearchDocument,
    SearchPart,
)
from cms.text import to_text

__all__ = [
    "MATCH_END",
    "MATCH_START",
    "deferred_indexing",
    "index_new_articles",
    "reindex_article",
    "reindex_pending",
    "search_rows",
    "update_search_index",
]

# Put around every match in an excerpt by the database; turned into <mark> (or dropped) on read.
MATCH_START = "\x02"
MATCH_END = "\x03"
_MARKERS = str.maketrans("", "", MATCH_START + MATCH_END)


def _clean(text: str) -> str:
    if MATCH_START in text or MATCH_END in text:
        return text.translate(_MARKERS)
    return text


def search_rows(document: ArticleDocument) -> list[dict[str, Any]]:
    """The search documents of an article, in reading order: its own title with the headline
    and intro, each item, then the conclusion. Drafts are kept, marked as such."""
    own_text = "\n\n".join(part for part in (document.headline, to_text(document.intro)) if part)
    rows = [_row(SearchPart.ARTICLE, "", document.title, own_text, draft=False)]
    for kind in ITEM_KINDS:
        part = SearchPart(kind.name)
        for item in document.items(kind):
            rows.append(_row(part, item.slug, item.title, _item_text(kind, item), item.draft))
    if document.conclusion is not None:
        conclusion = document.conclusion
        rows.append(
            _row(SearchPart.CONCLUSION, "", conclusion.title, to_text(conclusion.body), False)
        )
    return rows


def _item_text(kind: ItemKind, item: ItemDocument) -> str:
    """Every text field of an item but its title, as readers see it."""
    texts = (
        to_text(getattr(item, name)) if role is Role.PROSE else getattr(item, name)
        for name, role in kind.text_fields.items()
        if name != "title"
    )
    return "\n\n".join(text for text in texts if text)


def _row(part: SearchPart, slug: str, title: str, body: str, draft: bool) -> dict[str, Any]:
    return {"part": part, "slug": slug, "title": _clean(title), "body": _clean(body),
            "is_draft": draft}  # fmt: skip


async def reindex_article(
    session: WriteSession, *, article_id: int, document: ArticleDocument, new_article: bool
) -> None:
    """Replace the article's search documents with those of `document`: one DELETE (none for a
    new article) and one multi-row INSERT."""
    if not new_article:
        await session.exec(
            sa.delete(SearchDocument).where(col(SearchDocument.article_id) == article_id)
        )
    await index_new_articles(session, [(article_id, document)])


async def index_new_articles(
    session: WriteSession, articles: Sequence[tuple[int, ArticleDocument]]
) -> None:
    """Add the search documents of articles that have none yet, by id: one multi-row INSERT
    per `_ROWS_PER_INSERT` rows, however many articles."""
    rows = [
        {"article_id": article_id, **row}
        for article_id, document in articles
        for row in search_rows(document)
    ]
    # Multi-row VALUES statements, not executemany: on SQLite each statement ends with FTS5
    # writing its pending terms out as a new segment, so a row per statement costs ~3x as much.
    # Plain SQL, cached by row count, so that it is not compiled again for every article.
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        params: dict[str, Any] = {}
        for i, row in enumerate(chunk):
            params.update({f"{name}{i}": value for name, value in row.items()})
            params[f"part{i}"] = row["part"].value
        await session.exec(_insert_statement(len(chunk)), params=params)  # type: ignore[call-overload]


async def update_search_index(
    session: WriteSession,
    *,
    article_id: int,
    before: ArticleDocument,
    after: ArticleDocument,
    pending: bool = False,
) -> None:
    """Rewrite only the search documents that differ between two versions of an article (of
    its pending version's, with `pending`): a one-field edit updates one row."""
    old = {(row["part"], row["slug"]): row for row in search_rows(before)}
    new = {(row["part"], row["slug"]): row for row in search_rows(after)}
    model: Any = PendingSearchDocument if pending else SearchDocument
    table = model.__table__
    of_article = table.c.article_id == article_id
    for part, slug in old.keys() - new.keys():
        await session.exec(
            sa.delete(table).where(of_article, table.c.part == part, table.c.slug == slug)
        )
    for key in old.keys() & new.keys():
        if old[key] != new[key]:
            part, slug = key
            changed = {name: value for name, value in new[key].items() if old[key][name] != value}
            await session.exec(
                sa.update(table)
                .where(of_article, table.c.part == part, table.c.slug == slug)
                .values(**changed)
            )
    added = [row for key, row in new.items() if key not in old]
    if added:
        await session.exec(
            sa.insert(table), params=[{"article_id": article_id, **row} for row in added]
        )


async def reindex_pending(
    session: WriteSession,
    *,
    article_id: int,
    before: ArticleDocument | None,
    after: ArticleDocument | None,
) -> None:
    """Make the search documents of the article's pending version (editors' search only) go
    from those of `before` (None: it had none) to those of `after` (None: it has none any
    more, published or discarded)."""
    table = PendingSearchDocument.__table__  # type: ignore[attr-defined]
    if after is None:
        await session.exec(sa.delete(table).where(table.c.article_id == article_id))
    elif before is None:
        rows = [{"article_id": article_id, **row} for row in search_rows(after)]
        await session.exec(sa.insert(table), params=rows)
    else:
        await update_search_index(
            session, article_id=article_id, before=before, after=after, pending=True
        )


_ROWS_PER_INSERT = 500


@lru_cache(maxsize=128)
def _insert_statement(count: int) -> sa.TextClause:
    values = ", ".join(
        f"(:article_id{i}, :part{i}, :slug{i}, :title{i}, :body{i}, :is_draft{i})"
        for i in range(count)
    )
    columns = "article_id, part, slug, title, body, is_draft"
    return sa.text(f"INSERT INTO search_document ({columns}) VALUES {values}")


@asynccontextmanager
async def deferred_indexing(session: WriteSession) -> AsyncIterator[None]:
    """For many writes in one transaction (`cms seed`): on SQLite, the search documents written
    in the block are added to the FTS5 index by one statement at its end rather than row by row,
    which costs about half as much. Deletes and updates are still indexed as they happen. The
    trigger is dropped and made again inside the caller's transaction, so a failure rolls both
    back. PostgreSQL maintains its GIN index itself; nothing changes there."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    await session.exec(sa.text("DROP TRIGGER search_document_ai"))  # type: ignore[call-overload]
    yield
    # Rows the index holds have a size entry in FTS5's docsize table; the others are new.
    await session.exec(
        sa.text(  # type: ignore[call-overload]
            "INSERT INTO search_fts(rowid, title, body) SELECT id, title, body "
            "FROM search_document WHERE id NOT IN (SELECT id FROM search_fts_docsize)"
        )
    )
    await session.exec(sa.text(SQLITE_SEARCH_INSERT_TRIGGER))  # type: ignore[call-overload]

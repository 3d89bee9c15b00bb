"""An article's items in their tables: rows read back into documents, and the writes that make
one kind's rows match a new list, touching only what differs. Used by `cms.content` alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from cms.content_model import ITEM_KINDS, ItemDocument, ItemKind
from cms.db import WriteSession
from cms.models import ITEM_TABLES
from cms.reads import every_item_by_article_ids

__all__ = ["insert_items", "read_items", "write_items"]


async def read_items(
    session: WriteSession, article_ids: Sequence[int]
) -> dict[int, dict[ItemKind, list[ItemDocument]]]:
    """Every item of each article by kind, drafts included, in reading order (one statement)."""
    items: dict[int, dict[ItemKind, list[ItemDocument]]] = {
        article_id: {kind: [] for kind in ITEM_KINDS} for article_id in article_ids
    }
    for row in await every_item_by_article_ids(session, article_ids, include_drafts=True):
        items[row.article_id][row.item_kind].append(_document(row.item_kind, row))
    return items


def _document(kind: ItemKind, row: Any) -> ItemDocument:
    values = {name: getattr(row, name) for name in kind.fields if name != "draft"}
    return kind.document(**values, draft=row.is_draft)


def _columns(kind: ItemKind, item: ItemDocument, position: int) -> dict[str, Any]:
    values = {name: _stored(getattr(item, name)) for name in kind.fields if name != "draft"}
    return {**values, "position": position, "is_draft": item.draft}


def _stored(value: Any) -> Any:
    """A field's value as its column holds it: structured values (citations) as JSON objects."""
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return [item.model_dump(mode="json", exclude_none=True) for item in value]
    return value


async def write_items(
    session: WriteSession,
    kind: ItemKind,
    article_id: int,
    old: Sequence[ItemDocument],
    new: Sequence[ItemDocument],
) -> None:
    """Make the kind's rows of the article, which hold `old`, hold `new`. Items are matched by
    slug, so their ids survive edits and reordering; only rows that differ are written."""
    table: sa.Table = ITEM_TABLES[kind].__table__  # type: ignore[attr-defined]
    of_article = table.c.article_id == article_id
    before = {item.slug: _columns(kind, item, i) for i, item in enumerate(old)}
    after = {item.slug: _columns(kind, item, i) for i, item in enumerate(new)}

    removed = before.keys() - after.keys()
    if removed:
        await session.exec(sa.delete(table).where(of_article, table.c.slug.in_(sorted(removed))))
    await _write_kept_items(session, table, of_article, before, after)
    # New items go in as one multi-row INSERT: many times faster than ORM objects when a seed
    # creates thousands of articles.
    new_rows = [{"article_id": article_id, **after[slug]} for slug in after if slug not in before]
    if new_rows:
        await session.exec(sa.insert(table), params=new_rows)


async def insert_items(
    session: WriteSession,
    kind: ItemKind,
    articles: Sequence[tuple[int, Sequence[ItemDocument]]],
) -> None:
    """The kind's rows of articles that have none yet, by article id: one statement for all."""
    rows = [
        {"article_id": article_id, **_columns(kind, item, i)}
        for article_id, items in articles
        for i, item in enumerate(items)
    ]
    if rows:
        await session.exec(sa.insert(ITEM_TABLES[kind].__table__), params=rows)  # type: ignore[attr-defined]


async def _write_kept_items(
    session: WriteSession,
    table: sa.Table,
    of_article: sa.ColumnElement[bool],
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
) -> None:
    """Update the items in both lists that changed, moving them to their new places."""
    kept = [slug for slug in after if slug in before]
    moved = [slug for slug in kept if before[slug]["position"] != after[slug]["position"]]
    if moved:
        # Positions are unique per article: park the moving rows past every position in use
        # first, so that no intermediate state of a reorder collides.
        offset = 1 + len(before) + len(after)
        await session.exec(
            sa.update(table)
            .where(of_article, table.c.slug.in_(moved))
            .values(position=table.c.position + offset)
        )
    for slug in kept:
        changed = {k: v for k, v in after[slug].items() if before[slug][k] != v}
        if changed:
            await session.exec(
                sa.update(table).where(of_article, table.c.slug == slug).values(**changed)
            )

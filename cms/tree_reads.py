"""Public reads of an article, or of a page of articles, with what hangs off them (author, items,
translations, approvals, the list's count) in one SQL statement: PostgreSQL only (`json_agg`).

They read exactly what the reads of `cms.reads` read for the public, under the same visibility
rules (`cms.visibility`), and return the same rows: an article row, its author's row, its items
as `cms.reads.typed_item` makes them, its translations as rows with the same attributes.
Whoever asks primes the per-request loaders with them (`cms.graphql.compiled.prefetch`) or
builds a snippet's rows from them (`cms.snippets`). A request reads them through
`RequestDatabase.rows` (psycopg directly, `cms.direct_reads`); a session, through
`cms.db.session_rows`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from cms.models import (
    ArticleReview,
    ArticleTranslation,
    Author,
    ReviewAction,
    Reviewer,
    utc_now,
)
from cms.reads import (
    article_table,
    count_statement,
    every_item_of,
    page_statement,
    public_articles,
    typed_item,
)

__all__ = ["ArticleTree", "Parts", "Reader", "article_tree", "page_tree"]

# Runs a statement with its parameters and returns its rows.
Reader = Callable[[Any, Mapping[str, Any]], Awaitable[list[Any]]]

_ARTICLES = article_table()
_AUTHORS = cast(sa.Table, sa.inspect(Author).local_table)
_TRANSLATIONS = cast(sa.Table, sa.inspect(ArticleTranslation).local_table)
_REVIEWS = cast(sa.Table, sa.inspect(ArticleReview).local_table)
_REVIEWERS = cast(sa.Table, sa.inspect(Reviewer).local_table)
_AUTHOR_PREFIX = "tree_author_"
# Each author column's name and its label in the statement.
_AUTHOR_COLUMNS = tuple((column.name, _AUTHOR_PREFIX + column.name) for column in _AUTHORS.c)


@dataclass(frozen=True)
class Parts:
    """What is read beside the articles."""

    author: bool = False
    # The kinds of item (`ItemKind.name`) read; the others are left empty.
    items: frozenset[str] = frozenset()
    translations: bool = False
    # The list's `totalCount`, pages only.
    count: bool = False
    # Its approving reviews, each with its reviewer.
    approvals: bool = False


@dataclass(frozen=True)
class ArticleTree:
    article: Any
    # None where not asked for.
    author: Any | None
    items: list[Any] | None
    translations: list[Any] | None
    approvals: list[tuple[ArticleReview, Reviewer]] | None = None


def _json_text(aggregate: Any) -> Any:
    # As text: orjson parses it faster than the driver's json loader.
    return sa.cast(sa.func.coalesce(aggregate, sa.text("'[]'::json")), sa.Text)


@cache
def _items_column(kinds: frozenset[str]) -> Any:
    items = every_item_of(
        lambda t: t.c.article_id == _ARTICLES.c.id, include_drafts=False, kinds=kinds
    )
    rows = items.subquery("tree_item")
    ordered: Any = aggregate_order_by(sa.literal_column("tree_item"), rows.c.position)
    return (
        sa.select(_json_text(sa.func.json_agg(ordered)))
        .select_from(rows)
        .scalar_subquery()
        .label("tree_items")
    )


@cache
def _translations_column() -> Any:
    row = sa.func.json_build_object(
        "locale", _TRANSLATIONS.c.locale, "version", _TRANSLATIONS.c.version,
        "document", _TRANSLATIONS.c.document, "source_hashes", _TRANSLATIONS.c.source_hashes,
    )  # fmt: skip
    ordered: Any = aggregate_order_by(row, _TRANSLATIONS.c.locale)
    return (
        sa.select(_json_text(sa.func.json_agg(ordered)))
        .where(_TRANSLATIONS.c.article_id == _ARTICLES.c.id)
        .scalar_subquery()
        .label("tree_translations")
    )


@cache
def _approvals_column() -> Any:
    pair = sa.func.json_build_array(
        sa.literal_column(_REVIEWS.name), sa.literal_column(_REVIEWERS.name)
    )
    ordered: Any = aggregate_order_by(pair, _REVIEWS.c.id)
    return (
        sa.select(_json_text(sa.func.json_agg(ordered)))
        .select_from(_REVIEWS.join(_REVIEWERS, _REVIEWERS.c.id == _REVIEWS.c.reviewer_id))
        .where(_REVIEWS.c.article_id == _ARTICLES.c.id, _REVIEWS.c.action == ReviewAction.APPROVED)
        .scalar_subquery()
        .label("tree_approvals")
    )


def _with_parts(statement: Any, parts: Parts) -> Any:
    if parts.author:
        statement = statement.join(_AUTHORS, _AUTHORS.c.id == _ARTICLES.c.author_id).add_columns(
            *(_AUTHORS.c[name].label(label) for name, label in _AUTHOR_COLUMNS)
        )
    if parts.items:
        statement = statement.add_columns(_items_column(parts.items))
    if parts.translations:
        statement = statement.add_columns(_translations_column())
    if parts.approvals:
        statement = statement.add_columns(_approvals_column())
    return statement


@cache
def _article_statement(parts: Parts) -> Any:
    return _with_parts(public_articles().where(_ARTICLES.c.slug == sa.bindparam("slug")), parts)


@cache
def _page_statement(parts: Parts, *, tag: bool, after: bool, before: bool, from_end: bool) -> Any:
    statement = _with_parts(
        page_statement(
            include_drafts=False, tag=tag, after=after, before=before, from_end=from_end
        ),
        parts,
    )
    if parts.count:
        count = count_statement(
            include_drafts=False, tag=tag, at_most=False, at_least=False, limited=False
        )
        statement = statement.add_columns(count.scalar_subquery().label("tree_count"))
    return statement


def _tree(row: Any, parts: Parts) -> ArticleTree:
    author = None
    if parts.author:
        author = SimpleNamespace(**{name: getattr(row, label) for name, label in _AUTHOR_COLUMNS})
    items = None
    if parts.items:
        items = [typed_item(SimpleNamespace(**item)) for item in orjson.loads(row.tree_items)]
    translations = None
    if parts.translations:
        translations = [
            SimpleNamespace(article_id=row.id, **translation)
            for translation in orjson.loads(row.tree_translations)
        ]
    approvals = None
    if parts.approvals:
        approvals = [
            (ArticleReview.model_validate(review), Reviewer.model_validate(reviewer))
            for review, reviewer in orjson.loads(row.tree_approvals)
        ]
    return ArticleTree(row, author, items, translations, approvals)


async def article_tree(read: Reader, *, slug: str, parts: Parts) -> ArticleTree | None:
    """The public article with `slug` and the `parts` asked for; None when there is none."""
    rows = await read(_article_statement(parts), {"slug": slug, "now": utc_now()})
    return _tree(rows[0], parts) if rows else None


@dataclass(frozen=True)
class PageTree:
    # In slug order, as `cms.reads.articles_page` returns them.
    articles: list[ArticleTree]
    # The list's total, when asked for and the page has a row to carry it.
    count: int | None


async def page_tree(
    read: Reader,
    *,
    after_slug: str | None,
    before_slug: str | None,
    limit: int,
    from_end: bool,
    tag: str | None,
    parts: Parts,
) -> PageTree:
    """`cms.reads.articles_page` for the public, with the `parts` asked for."""
    statement = _page_statement(
        parts, tag=tag is not None, after=after_slug is not None, before=before_slug is not None,
        from_end=from_end,
    )  # fmt: skip
    params = {"tag": tag, "after": after_slug, "before": before_slug, "limit": limit}
    rows = await read(statement, {**params, "now": utc_now()})
    if from_end:
        rows.reverse()
    count = int(rows[0].tree_count) if parts.count and rows else None
    return PageTree([_tree(row, parts) for row in rows], count)

"""Public reads of an article, or of a page of articles, with what hangs off them (author, items,
translations, approvals, the list's count) in one SQL statement, their lists built as JSON by the
database (`_Json`).

They read exactly what the reads of `cms.reads` read for the public, under the same visibility
rules (`cms.visibility`), and return the same rows: an article row, its author's row, its items
as `cms.reads.typed_item` makes them, its translations as rows with the same attributes.
Whoever asks primes the per-request loaders with them (`cms.graphql.compiled.prefetch`) or
builds a snippet's rows from them (`cms.snippets`). A request reads them through
`RequestDatabase.rows` (psycopg directly, `cms.direct_reads`); a session, through
`cms.db.session_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from cms.db import Reader
from cms.models import (
    ArticleReview,
    ArticleTranslation,
    Author,
    ReviewAction,
    Reviewer,
    UTCDateTime,
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

__all__ = ["ArticleTree", "Parts", "article_tree", "page_tree"]

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


class _Json:
    """How a statement builds its JSON lists. PostgreSQL: `json_agg` of whole rows, in order.
    SQLite (3.38 or later): `json_group_array` of `json_object`s, put in order once read (before
    3.44 it cannot order inside an aggregate), each value as the rows' readers read it."""

    def __init__(self, dialect: str) -> None:
        self.postgresql = dialect == "postgresql"

    def list_of(self, element: Any, order: Any) -> Any:
        if not self.postgresql:
            return sa.func.json_group_array(element)
        aggregate = sa.func.json_agg(aggregate_order_by(element, order))
        # As text: orjson parses it faster than the driver's json loader.
        return sa.cast(sa.func.coalesce(aggregate, sa.text("'[]'::json")), sa.Text)

    def row_of(self, table: Any) -> Any:
        """A whole row of `table` (a table or a named subquery) as one JSON object."""
        if self.postgresql:
            return sa.literal_column(table.name)
        return self.object({column.name: self.value(column) for column in table.c})

    def value(self, column: Any) -> Any:
        """A column as `model_validate` and `cms.reads.typed_item` read it from the JSON. On
        SQLite: JSON columns nested, booleans as booleans, timestamps as ISO text in UTC (kept
        without offset). PostgreSQL's JSON needs nothing."""
        if self.postgresql:
            return column
        if isinstance(column.type, sa.JSON):
            return sa.func.json(column)
        if isinstance(column.type, sa.Boolean):
            return sa.case((column, sa.func.json("true")), else_=sa.func.json("false"))
        if isinstance(column.type, UTCDateTime):
            return sa.type_coerce(column, sa.String).concat("+00:00")
        return column

    def object(self, values: dict[str, Any]) -> Any:
        function = sa.func.json_build_object if self.postgresql else sa.func.json_object
        return function(*(part for name, value in values.items() for part in (name, value)))

    def array(self, *values: Any) -> Any:
        return (sa.func.json_build_array if self.postgresql else sa.func.json_array)(*values)


@cache
def _items_column(kinds: frozenset[str], dialect: str) -> Any:
    json = _Json(dialect)
    items = every_item_of(
        lambda t: t.c.article_id == _ARTICLES.c.id, include_drafts=False, kinds=kinds
    )
    rows = items.subquery("tree_item")
    return (
        sa.select(json.list_of(json.row_of(rows), rows.c.position))
        .select_from(rows)
        .scalar_subquery()
        .label("tree_items")
    )


@cache
def _translations_column(dialect: str) -> Any:
    json = _Json(dialect)
    fields = ("locale", "version", "document", "source_hashes")
    row = json.object({name: json.value(_TRANSLATIONS.c[name]) for name in fields})
    return (
        sa.select(json.list_of(row, _TRANSLATIONS.c.locale))
        .where(_TRANSLATIONS.c.article_id == _ARTICLES.c.id)
        .scalar_subquery()
        .label("tree_translations")
    )


@cache
def _approvals_column(dialect: str) -> Any:
    json = _Json(dialect)
    pair = json.array(json.row_of(_REVIEWS), json.row_of(_REVIEWERS))
    return (
        sa.select(json.list_of(pair, _REVIEWS.c.id))
        .select_from(_REVIEWS.join(_REVIEWERS, _REVIEWERS.c.id == _REVIEWS.c.reviewer_id))
        .where(_REVIEWS.c.article_id == _ARTICLES.c.id, _REVIEWS.c.action == ReviewAction.APPROVED)
        .scalar_subquery()
        .label("tree_approvals")
    )


def _with_parts(statement: Any, parts: Parts, dialect: str) -> Any:
    if parts.author:
        statement = statement.join(_AUTHORS, _AUTHORS.c.id == _ARTICLES.c.author_id).add_columns(
            *(_AUTHORS.c[name].label(label) for name, label in _AUTHOR_COLUMNS)
        )
    if parts.items:
        statement = statement.add_columns(_items_column(parts.items, dialect))
    if parts.translations:
        statement = statement.add_columns(_translations_column(dialect))
    if parts.approvals:
        statement = statement.add_columns(_approvals_column(dialect))
    return statement


@cache
def _article_statement(parts: Parts, dialect: str) -> Any:
    return _with_parts(
        public_articles().where(_ARTICLES.c.slug == sa.bindparam("slug")), parts, dialect
    )


@cache
def _page_statement(
    parts: Parts, dialect: str, *, tag: bool, after: bool, before: bool, from_end: bool
) -> Any:
    statement = _with_parts(
        page_statement(
            include_drafts=False, tag=tag, after=after, before=before, from_end=from_end
        ),
        parts,
        dialect,
    )
    if parts.count:
        count = count_statement(
            include_drafts=False, tag=tag, at_most=False, at_least=False, limited=False
        )
        statement = statement.add_columns(count.scalar_subquery().label("tree_count"))
    return statement


def _tree(row: Any, parts: Parts, dialect: str) -> ArticleTree:
    # SQLite's lists come unordered (see `_Json`): put in order here.
    ordered = dialect == "postgresql"
    author = None
    if parts.author:
        author = SimpleNamespace(**{name: getattr(row, label) for name, label in _AUTHOR_COLUMNS})
    items = None
    if parts.items:
        objects = orjson.loads(row.tree_items)
        if not ordered:
            objects.sort(key=lambda item: item["position"])
        items = [typed_item(SimpleNamespace(**item)) for item in objects]
    translations = None
    if parts.translations:
        objects = orjson.loads(row.tree_translations)
        if not ordered:
            objects.sort(key=lambda translation: translation["locale"])
        translations = [SimpleNamespace(article_id=row.id, **each) for each in objects]
    approvals = None
    if parts.approvals:
        pairs = orjson.loads(row.tree_approvals)
        if not ordered:
            pairs.sort(key=lambda pair: pair[0]["id"])
        approvals = [
            (ArticleReview.model_validate(review), Reviewer.model_validate(reviewer))
            for review, reviewer in pairs
        ]
    return ArticleTree(row, author, items, translations, approvals)


async def article_tree(
    read: Reader, *, dialect: str, slug: str, parts: Parts
) -> ArticleTree | None:
    """The public article with `slug` and the `parts` asked for; None when there is none.
    `dialect`: the database's (`postgresql`, `sqlite`)."""
    rows = await read(_article_statement(parts, dialect), {"slug": slug, "now": utc_now()})
    return _tree(rows[0], parts, dialect) if rows else None


@dataclass(frozen=True)
class PageTree:
    # In slug order, as `cms.reads.articles_page` returns them.
    articles: list[ArticleTree]
    # The list's total, when asked for and the page has a row to carry it.
    count: int | None


async def page_tree(
    read: Reader,
    *,
    dialect: str,
    after_slug: str | None,
    before_slug: str | None,
    limit: int,
    from_end: bool,
    tag: str | None,
    parts: Parts,
) -> PageTree:
    """`cms.reads.articles_page` for the public, with the `parts` asked for."""
    statement = _page_statement(
        parts, dialect, tag=tag is not None, after=after_slug is not None,
        before=before_slug is not None, from_end=from_end,
    )  # fmt: skip
    params = {"tag": tag, "after": after_slug, "before": before_slug, "limit": limit}
    rows = await read(statement, {**params, "now": utc_now()})
    if from_end:
        rows.reverse()
    count = int(rows[0].tree_count) if parts.count and rows else None
    return PageTree([_tree(row, parts, dialect) for row in rows], count)

"""Reads of content for the API: visibility, lookups by id and slug, pages, counts, tags,
related articles and the stored translations of articles. Nothing here writes; every write of
content goes through `cms.content` (articles) and `cms.translations` (translations).

Reads take an `include_drafts` flag: public callers pass False and see only what is published
and due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar, cast, get_origin

import orjson
import sqlalchemy as sa
from sqlmodel import col, select

from cms.content_model import ITEM_KINDS, value_type
from cms.db import ReadSession
from cms.models import (
    ITEM_TABLES,
    Article,
    ArticleTag,
    ArticleTranslation,
    Author,
    ItemRow,
    utc_now,
)
from cms.visibility import article_is_public, item_is_public

__all__ = [
    "article_table",
    "articles_by_ids",
    "articles_by_slugs",
    "articles_page",
    "authors_by_ids",
    "children_by_ids",
    "count_statement",
    "every_article_slug",
    "every_item_by_article_ids",
    "every_item_of",
    "translation_of",
    "count_articles",
    "has_articles",
    "page_statement",
    "public_articles",
    "public_articles_by_update",
    "related_articles",
    "tags_by_article_ids",
    "translations_by_article_ids",
    "typed_item",
    "visible_articles",
]

ChildT = TypeVar("ChildT", bound=ItemRow)


# --- visibility -------------------------------------------------------------------------------


def visible_articles(include_drafts: bool, tag: str | None = None) -> Any:
    """A SELECT of the articles the caller may see (and that carry `tag`, if given)."""
    statement = select(Article)
    if tag is not None:
        # Served by ix_article_tag_tag_article; the page still walks slugs in order.
        tagged = select(ArticleTag.article_id).where(ArticleTag.tag == tag)
        statement = statement.where(col(Article.id).in_(tagged))
    return statement if include_drafts else statement.where(article_is_public(utc_now()))


# --- reads ------------------------------------------------------------------------------------


async def has_articles(session: ReadSession) -> bool:
    return (await session.exec(select(Article.id).limit(1))).first() is not None


async def every_article_slug(session: ReadSession) -> list[str]:
    """The slug of every article, drafts included, in order."""
    return list((await session.exec(select(Article.slug).order_by(col(Article.slug)))).all())


async def translation_of(
    session: ReadSession, *, article_id: int, locale: str
) -> ArticleTranslation | None:
    """The stored translation of an article into `locale`, if any."""
    statement = select(ArticleTranslation).where(
        ArticleTranslation.article_id == article_id, ArticleTranslation.locale == locale
    )
    return (await session.exec(statement)).first()


# The reads below run on every API request. They are prebuilt Core statements (no statement is
# built per request) and return plain rows of their table rather than ORM instances: a row has
# the same attributes, with the same Python values, as the model it is typed as, and costs a
# fraction of an instance to make. Callers only read attributes; nothing is loaded lazily.


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, sa.inspect(model).local_table)


_ARTICLES = _table(Article)
_AUTHORS = _table(Author)
_TAGS = _table(ArticleTag)
_KEYS: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
_PUBLIC = article_is_public(sa.bindparam("now"))


def _by(column: sa.ColumnElement[Any], *public: sa.ColumnElement[bool]) -> dict[bool, Any]:
    """A statement selecting rows whose `column` is in `:keys`, for drafts (True) and public
    callers (False, with the `public` conditions added)."""
    table = column.table
    everything = sa.select(table).where(column.in_(_KEYS))
    return {True: everything, False: everything.where(*public)}


_ARTICLES_BY_SLUG = _by(_ARTICLES.c.slug, _PUBLIC)
_ARTICLES_BY_ID = _by(_ARTICLES.c.id, _PUBLIC)
_AUTHORS_BY_ID = _by(
    _AUTHORS.c.id,
    sa.select(_ARTICLES.c.id).where(_ARTICLES.c.author_id == _AUTHORS.c.id, _PUBLIC).exists(),
)
_CHILDREN_BY_ID: dict[type[ItemRow], dict[bool, Any]] = {
    model: {
        True: sa.select(table).where(table.c.id.in_(_KEYS)),
        False: sa.select(table)
        .join(_ARTICLES, _ARTICLES.c.id == table.c.article_id)
        .where(table.c.id.in_(_KEYS), item_is_public(table), _PUBLIC),
    }
    for model in ITEM_TABLES.values()
    for table in [_table(model)]
}


_EXTRA_FIELDS = sorted({name for kind in ITEM_KINDS for name in kind.extra_fields})


def every_item_of(
    belongs: Callable[[sa.Table], Any],
    *,
    include_drafts: bool,
    kinds: frozenset[str] | None = None,
) -> Any:
    """The items of every kind (or of the `kinds` named) of the articles that `belongs` picks
    (a condition on an item table), in one statement: the columns every item has, `item_kind`,
    and each kind's own columns as text (NULL for other kinds), in reading order. Rows read as
    `typed_item`."""
    extra = _EXTRA_FIELDS
    selects = []
    for kind, model in ITEM_TABLES.items():
        if kinds is not None and kind.name not in kinds:
            continue
        table = _table(model)
        own = [
            sa.cast(table.c[name] if name in table.c else sa.null(), sa.Text).label(name)
            for name in extra
        ]
        columns = [table.c[name] for name in ("id", "article_id", "position", "slug", "title")]
        selects.append(
            sa.select(
                sa.literal_column(f"'{kind.name}'", sa.String).label("item_kind"),
                *columns,
                table.c.body,
                table.c.is_draft,
                *own,
            )
            .where(belongs(table), *(() if include_drafts else (item_is_public(table),)))
            # Inside a statement that reads the articles, `belongs` may name their table.
            .correlate_except(table)
        )
    return sa.union_all(*selects).order_by(sa.column("article_id"), sa.column("position"))


_EVERY_ITEM_BY_ARTICLE_ID = {
    include_drafts: every_item_of(
        lambda t: t.c.article_id.in_(_KEYS), include_drafts=include_drafts
    )
    for include_drafts in (True, False)
}
_KINDS_BY_NAME = {kind.name: kind for kind in ITEM_KINDS}


def _text_reader(python_type: Any) -> Callable[[str], Any]:
    """How a value of `python_type` is read back from its text in `every_item_of`'s rows."""
    if get_origin(python_type) is list:  # tags, citations: JSON
        return orjson.loads
    if python_type is bool:
        return lambda text: text.lower() in ("1", "t", "true")
    return cast(Callable[[str], Any], python_type)


# Each kind's own fields with their readers, worked out once rather than per row.
_EXTRA_READERS = {
    kind.name: tuple(
        (name, _text_reader(value_type(info))) for name, info in kind.extra_fields.items()
    )
    for kind in ITEM_KINDS
}


def typed_item(row: Any) -> SimpleNamespace:
    """A row of `every_item_of` (or an object with its attributes) as its kind's table row:
    `item_kind` the kind, its own fields typed."""
    name = row.item_kind
    values = {
        "id": row.id, "article_id": row.article_id, "position": row.position, "slug": row.slug,
        "title": row.title, "body": row.body, "is_draft": bool(row.is_draft),
    }  # fmt: skip
    for field, read in _EXTRA_READERS[name]:
        text = getattr(row, field)
        values[field] = None if text is None else read(text)
    return SimpleNamespace(item_kind=_KINDS_BY_NAME[name], **values)


async def _rows(session: ReadSession, statement: Any, keys: Sequence[Any]) -> list[Any]:
    result = await session.exec(statement, params={"keys": list(keys), "now": utc_now()})
    return list(result.all())


async def articles_by_slugs(
    session: ReadSession, slugs: Sequence[str], *, include_drafts: bool
) -> list[Article]:
    return await _rows(session, _ARTICLES_BY_SLUG[include_drafts], slugs)


async def articles_by_ids(
    session: ReadSession, ids: Sequence[int], *, include_drafts: bool
) -> list[Article]:
    return await _rows(session, _ARTICLES_BY_ID[include_drafts], ids)


async def authors_by_ids(
    session: ReadSession, ids: Sequence[int], *, include_drafts: bool
) -> list[Author]:
    """Authors by id; a public caller sees only authors of at least one public article."""
    return await _rows(session, _AUTHORS_BY_ID[include_drafts], ids)


async def every_item_by_article_ids(
    session: ReadSession, article_ids: Sequence[int], *, include_drafts: bool
) -> list[Any]:
    """The items of every kind of the given articles in reading order, in one statement: each
    has the attributes of its kind's table row, and `item_kind`. The articles' own visibility
    is the caller's to check: these ids come from articles it has already read."""
    rows = await _rows(session, _EVERY_ITEM_BY_ARTICLE_ID[include_drafts], article_ids)
    return [typed_item(row) for row in rows]


async def children_by_ids(
    session: ReadSession, model: type[ChildT], ids: Sequence[int], *, include_drafts: bool
) -> list[ChildT]:
    """Children looked up by their own id, so the parent's visibility is checked here."""
    return await _rows(session, _CHILDREN_BY_ID[model][include_drafts], ids)


async def translations_by_article_ids(
    session: ReadSession, article_ids: Sequence[int]
) -> list[ArticleTranslation]:
    """The translations of the given articles, whose visibility is the caller's to check."""
    statement = (
        select(ArticleTranslation)
        .where(col(ArticleTranslation.article_id).in_(article_ids))
        .order_by(col(ArticleTranslation.article_id), col(ArticleTranslation.locale))
    )
    return list((await session.exec(statement)).all())


@cache
def page_statement(
    *, include_drafts: bool, tag: bool, after: bool, before: bool, from_end: bool
) -> Any:
    """The page statement of each shape a request can take, built once: `:tag`, `:after`,
    `:before` and `:limit` are bound at each read."""
    statement = _visible(include_drafts=include_drafts, tag=tag)
    if after:
        statement = statement.where(_ARTICLES.c.slug > sa.bindparam("after"))
    if before:
        statement = statement.where(_ARTICLES.c.slug < sa.bindparam("before"))
    order = _ARTICLES.c.slug.desc() if from_end else _ARTICLES.c.slug.asc()
    return statement.order_by(order).limit(sa.bindparam("limit", type_=sa.Integer))


@cache
def count_statement(
    *, include_drafts: bool, tag: bool, at_most: bool, at_least: bool, limited: bool
) -> Any:
    statement = _visible(include_drafts=include_drafts, tag=tag).with_only_columns(_ARTICLES.c.id)
    if at_most:
        statement = statement.where(_ARTICLES.c.slug <= sa.bindparam("at_most"))
    if at_least:
        statement = statement.where(_ARTICLES.c.slug >= sa.bindparam("at_least"))
    if limited:
        statement = statement.limit(sa.bindparam("limit", type_=sa.Integer))
    return sa.select(sa.func.count()).select_from(statement.subquery())


def article_table() -> sa.Table:
    return _ARTICLES


def public_articles() -> Any:
    """A Core SELECT of the articles the public may see, `:now` bound later."""
    return sa.select(_ARTICLES).where(_PUBLIC)


def _visible(*, include_drafts: bool, tag: bool) -> Any:
    """`visible_articles` as a Core statement of plain rows, `:tag` and `:now` bound later."""
    statement = sa.select(_ARTICLES)
    if tag:
        tagged = sa.select(_TAGS.c.article_id).where(_TAGS.c.tag == sa.bindparam("tag"))
        statement = statement.where(_ARTICLES.c.id.in_(tagged))
    return statement if include_drafts else statement.where(_PUBLIC)


async def articles_page(
    session: ReadSession,
    *,
    after_slug: str | None,
    before_slug: str | None,
    limit: int,
    from_end: bool,
    include_drafts: bool,
    tag: str | None = None,
) -> list[Article]:
    """Up to `limit` articles in slug order strictly between the two bounds (keyset pagination,
    served by the unique index on slug). With `from_end`, the last `limit` of that range. With
    `tag`, only articles that carry it."""
    statement = page_statement(
        include_drafts=include_drafts, tag=tag is not None, after=after_slug is not None,
        before=before_slug is not None, from_end=from_end,
    )  # fmt: skip
    params = {"tag": tag, "after": after_slug, "before": before_slug, "limit": limit}
    result = await session.exec(statement, params={**params, "now": utc_now()})
    rows: list[Article] = list(result.all())
    return rows[::-1] if from_end else rows


async def count_articles(
    session: ReadSession,
    *,
    include_drafts: bool,
    slug_at_most: str | None = None,
    slug_at_least: str | None = None,
    limit: int | None = None,
    tag: str | None = None,
) -> int:
    """How many visible articles (with `tag`, if given) have a slug within the inclusive bounds,
    counting at most `limit` (so `limit=1` is an existence check that stops at the first row)."""
    statement = count_statement(
        include_drafts=include_drafts, tag=tag is not None, at_most=slug_at_most is not None,
        at_least=slug_at_least is not None, limited=limit is not None,
    )  # fmt: skip
    params = {"tag": tag, "at_most": slug_at_most, "at_least": slug_at_least, "limit": limit}
    result = await session.exec(statement, params={**params, "now": utc_now()})
    return int(result.one()[0])


async def tags_by_article_ids(session: ReadSession, article_ids: Sequence[int]) -> list[ArticleTag]:
    """The tags of the given articles, each article's in the editor's order."""
    statement = (
        select(ArticleTag)
        .where(col(ArticleTag.article_id).in_(article_ids))
        .order_by(col(ArticleTag.article_id), col(ArticleTag.position))
    )
    return list((await session.exec(statement)).all())


async def related_articles(
    session: ReadSession, article_ids: Sequence[int], *, limit: int, include_drafts: bool
) -> list[tuple[int, Article]]:
    """For each given article, up to `limit` other visible articles sharing the most tags with
    it, ties broken by slug: (given article id, related article) pairs in that order. One
    statement for any number of given articles."""
    mine, theirs = sa.orm.aliased(ArticleTag), sa.orm.aliased(ArticleTag)
    shared = (
        select(
            col(mine.article_id).label("source_id"),
            col(theirs.article_id).label("related_id"),
            sa.func.count().label("shared"),
        )
        .join(
            theirs,
            sa.and_(col(theirs.tag) == col(mine.tag), col(theirs.article_id) != mine.article_id),
        )
        .where(col(mine.article_id).in_(article_ids))
        .group_by(col(mine.article_id), col(theirs.article_id))
        .subquery()
    )
    place = (
        sa.func.row_number()
        .over(partition_by=shared.c.source_id, order_by=(shared.c.shared.desc(), Article.slug))
        .label("place")
    )
    ranked = (
        visible_articles(include_drafts)
        .join(shared, shared.c.related_id == Article.id)
        .add_columns(shared.c.source_id, place)
        .subquery()
    )
    related = sa.orm.aliased(Article, ranked)
    statement = (
        select(ranked.c.source_id, related)
        .where(ranked.c.place <= limit)
        .order_by(ranked.c.source_id, ranked.c.place)
    )
    return [(source_id, row) for source_id, row in (await session.exec(statement)).all()]


async def public_articles_by_update(
    session: ReadSession, *, limit: int, tag: str | None = None
) -> list[tuple[Article, str]]:
    """Up to `limit` public articles (that carry `tag`, if given), the most recently updated
    first, ties by slug, each with its author's name: what the sitemap and feeds list."""
    visible = visible_articles(False, tag).with_only_columns(col(Article.id))
    statement = (
        select(Article, col(Author.name))
        .join(Author, col(Author.id) == Article.author_id)
        .where(col(Article.id).in_(visible))
        .order_by(col(Article.updated_at).desc(), col(Article.slug))
        .limit(limit)
    )
    return [(article, name) for article, name in (await session.exec(statement)).all()]

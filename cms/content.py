"""Reads of content for the API, and the only code that writes content.

Every write goes through `save_article_document`, which takes a whole validated
`ArticleDocument` and makes the database match it inside the caller's transaction. Reads take an
`include_drafts` flag: public callers pass False and see only what is published and due.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cms.documents import (
    ArticleDocument,
    AuthorDocument,
    BenefitDocument,
    ConclusionDocument,
    Location,
    NutritionTipDocument,
    PrecautionDocument,
    SectionDocument,
    TranslationDocument,
    field_path,
    translation_problems,
    validate_document,
)
from cms.errors import Conflict, ContentProblem, InvalidContent, NotFound
from cms.models import (
    CHILD_MODELS,
    Article,
    ArticleStatus,
    ArticleTag,
    ArticleTranslation,
    Author,
    Benefit,
    ChildModel,
    NutritionTip,
    Precaution,
    Section,
    utc_now,
)
from cms.outbox import EventType, event_type_for_change, record_event
from cms.revisions import record_revision
from cms.search_index import reindex_article

__all__ = [
    "ChildList",
    "SaveOutcome",
    "articles_by_ids",
    "articles_by_slugs",
    "articles_page",
    "authors_by_ids",
    "children_by_article_ids",
    "children_by_ids",
    "count_articles",
    "delete_article",
    "delete_article_translation",
    "edit_article_document",
    "get_article_document",
    "get_translation_documents",
    "has_articles",
    "related_articles",
    "save_article_document",
    "save_article_translation",
    "tags_by_article_ids",
    "translations_by_article_ids",
    "visible_articles",
]

ChildT = TypeVar("ChildT", bound=ChildModel)


@dataclass(frozen=True)
class ChildList:
    """How one list of an `ArticleDocument` maps onto its table."""

    field: str
    model: type[ChildModel]
    document: type[Any]
    extra_columns: tuple[str, ...] = ()


CHILD_LISTS = (
    ChildList("sections", Section, SectionDocument, ("kind",)),
    ChildList("benefits", Benefit, BenefitDocument, ("tags",)),
    ChildList("nutrition_tips", NutritionTip, NutritionTipDocument, ("kind",)),
    ChildList("precautions", Precaution, PrecautionDocument),
)


class SaveOutcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# --- visibility -------------------------------------------------------------------------------


def _article_is_public(now: datetime) -> sa.ColumnElement[bool]:
    # A scheduled article becomes public when its time comes, with no job having to run then.
    return sa.and_(
        col(Article.status) == ArticleStatus.PUBLISHED,
        col(Article.published_at) <= now,
    )


def visible_articles(include_drafts: bool, tag: str | None = None) -> Any:
    """A SELECT of the articles the caller may see (and that carry `tag`, if given)."""
    statement = select(Article)
    if tag is not None:
        # Served by ix_article_tag_tag_article; the page still walks slugs in order.
        tagged = select(ArticleTag.article_id).where(ArticleTag.tag == tag)
        statement = statement.where(col(Article.id).in_(tagged))
    return statement if include_drafts else statement.where(_article_is_public(utc_now()))


# --- reads ------------------------------------------------------------------------------------


async def has_articles(session: AsyncSession) -> bool:
    return (await session.exec(select(Article.id).limit(1))).first() is not None


# The reads below run on every API request. They are prebuilt Core statements (no statement is
# built per request) and return plain rows of their table rather than ORM instances: a row has
# the same attributes, with the same Python values, as the model it is typed as, and costs a
# fraction of an instance to make. Callers only read attributes; nothing is loaded lazily.


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, sa.inspect(model).local_table)


_ARTICLES = _table(Article)
_AUTHORS = _table(Author)
_KEYS: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
_PUBLIC = sa.and_(
    _ARTICLES.c.status == ArticleStatus.PUBLISHED, _ARTICLES.c.published_at <= sa.bindparam("now")
)


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
_CHILDREN_BY_ARTICLE_ID: dict[type[ChildModel], dict[bool, Any]] = {
    model: {
        include_drafts: statement.order_by(table.c.article_id, table.c.position)
        for include_drafts, statement in _by(
            table.c.article_id, table.c.is_draft.is_(False)
        ).items()
    }
    for model in CHILD_MODELS
    for table in [_table(model)]
}
_CHILDREN_BY_ID: dict[type[ChildModel], dict[bool, Any]] = {
    model: {
        True: sa.select(table).where(table.c.id.in_(_KEYS)),
        False: sa.select(table)
        .join(_ARTICLES, _ARTICLES.c.id == table.c.article_id)
        .where(table.c.id.in_(_KEYS), table.c.is_draft.is_(False), _PUBLIC),
    }
    for model in CHILD_MODELS
    for table in [_table(model)]
}


async def _rows(session: AsyncSession, statement: Any, keys: Sequence[Any]) -> list[Any]:
    result = await session.exec(statement, params={"keys": list(keys), "now": utc_now()})
    return list(result.all())


async def articles_by_slugs(
    session: AsyncSession, slugs: Sequence[str], *, include_drafts: bool
) -> list[Article]:
    return await _rows(session, _ARTICLES_BY_SLUG[include_drafts], slugs)


async def articles_by_ids(
    session: AsyncSession, ids: Sequence[int], *, include_drafts: bool
) -> list[Article]:
    return await _rows(session, _ARTICLES_BY_ID[include_drafts], ids)


async def authors_by_ids(
    session: AsyncSession, ids: Sequence[int], *, include_drafts: bool
) -> list[Author]:
    """Authors by id; a public caller sees only authors of at least one public article."""
    return await _rows(session, _AUTHORS_BY_ID[include_drafts], ids)


async def children_by_article_ids(
    session: AsyncSession, model: type[ChildT], article_ids: Sequence[int], *, include_drafts: bool
) -> list[ChildT]:
    """The children of the given articles in reading order. The articles' own visibility is the
    caller's to check: these ids come from articles it has already read."""
    return await _rows(session, _CHILDREN_BY_ARTICLE_ID[model][include_drafts], article_ids)


async def children_by_ids(
    session: AsyncSession, model: type[ChildT], ids: Sequence[int], *, include_drafts: bool
) -> list[ChildT]:
    """Children looked up by their own id, so the parent's visibility is checked here."""
    return await _rows(session, _CHILDREN_BY_ID[model][include_drafts], ids)


async def translations_by_article_ids(
    session: AsyncSession, article_ids: Sequence[int]
) -> list[ArticleTranslation]:
    """The translations of the given articles, whose visibility is the caller's to check."""
    statement = (
        select(ArticleTranslation)
        .where(col(ArticleTranslation.article_id).in_(article_ids))
        .order_by(col(ArticleTranslation.article_id), col(ArticleTranslation.locale))
    )
    return list((await session.exec(statement)).all())


async def articles_page(
    session: AsyncSession,
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
    statement = visible_articles(include_drafts, tag)
    if after_slug is not None:
        statement = statement.where(col(Article.slug) > after_slug)
    if before_slug is not None:
        statement = statement.where(col(Article.slug) < before_slug)
    order = col(Article.slug).desc() if from_end else col(Article.slug).asc()
    rows = list((await session.exec(statement.order_by(order).limit(limit))).all())
    return rows[::-1] if from_end else rows


async def count_articles(
    session: AsyncSession,
    *,
    include_drafts: bool,
    slug_at_most: str | None = None,
    slug_at_least: str | None = None,
    limit: int | None = None,
    tag: str | None = None,
) -> int:
    """How many visible articles (with `tag`, if given) have a slug within the inclusive bounds,
    counting at most `limit` (so `limit=1` is an existence check that stops at the first row)."""
    statement = visible_articles(include_drafts, tag).with_only_columns(col(Article.id))
    if slug_at_most is not None:
        statement = statement.where(col(Article.slug) <= slug_at_most)
    if slug_at_least is not None:
        statement = statement.where(col(Article.slug) >= slug_at_least)
    if limit is not None:
        statement = statement.limit(limit)
    counted = select(sa.func.count()).select_from(statement.subquery())
    return int((await session.exec(counted)).one())


async def tags_by_article_ids(
    session: AsyncSession, article_ids: Sequence[int]
) -> list[ArticleTag]:
    """The tags of the given articles, each article's in the editor's order."""
    statement = (
        select(ArticleTag)
        .where(col(ArticleTag.article_id).in_(article_ids))
        .order_by(col(ArticleTag.article_id), col(ArticleTag.position))
    )
    return list((await session.exec(statement)).all())


async def related_articles(
    session: AsyncSession, article_ids: Sequence[int], *, limit: int, include_drafts: bool
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


# --- documents --------------------------------------------------------------------------------


async def get_article_document(session: AsyncSession, *, slug: str) -> ArticleDocument | None:
    """The whole article, drafts included, as the document an editor would write."""
    article = (await session.exec(select(Article).where(Article.slug == slug))).first()
    if article is None:
        return None
    return await _document_of(session, article)


async def _document_of(session: AsyncSession, article: Article) -> ArticleDocument:
    assert article.id is not None
    author = await session.get_one(Author, article.author_id)
    lists: dict[str, list[Any]] = {}
    for child_list in CHILD_LISTS:
        rows = await children_by_article_ids(
            session, child_list.model, [article.id], include_drafts=True
        )
        lists[child_list.field] = [_child_document(child_list, row) for row in rows]
    conclusion = (
        ConclusionDocument(title=article.conclusion_title, body=article.conclusion)
        if article.conclusion_title or article.conclusion
        else None
    )
    tags = [row.tag for row in await tags_by_article_ids(session, [article.id])]
    return ArticleDocument(
        slug=article.slug,
        locale=article.locale,
        title=article.title,
        headline=article.headline,
        status=article.status,
        published_at=article.published_at,
        author=AuthorDocument(slug=author.slug, name=author.name, bio=author.bio),
        reviewed_by=article.reviewed_by,
        last_reviewed=article.last_reviewed,
        tags=tags,
        intro=article.intro,
        conclusion=conclusion,
        **lists,
    )


def _child_document(child_list: ChildList, row: ChildModel) -> Any:
    extra = {name: getattr(row, name) for name in child_list.extra_columns}
    return child_list.document(
        slug=row.slug, title=row.title, body=row.body, draft=row.is_draft, **extra
    )


def _child_columns(child_list: ChildList, item: Any, position: int) -> dict[str, Any]:
    extra = {name: getattr(item, name) for name in child_list.extra_columns}
    return dict(
        position=position, slug=item.slug, title=item.title, body=item.body,
        is_draft=item.draft, **extra,
    )  # fmt: skip


# --- the write path ---------------------------------------------------------------------------


async def save_article_document(
    session: AsyncSession,
    document: ArticleDocument,
    *,
    expected_version: int | None = None,
    actor: str = "system",
    action: str | None = None,
    now: datetime | None = None,
) -> SaveOutcome:
    """Make the stored article (found by slug) equal `document`: create it, or update exactly
    what differs and bump its version, or leave it untouched when nothing differs. Children are
    matched by slug, so their ids survive edits and reordering; children missing from the
    document are deleted. Every create or update records a revision and an outbox event.

    With `expected_version`, the save is refused with `Conflict` unless the stored article is at
    that version (for a new article: unless it does not exist, expressed as version 0). The row
    is locked first (`FOR UPDATE` on PostgreSQL; SQLite allows one writer at a time), so two
    concurrent editors cannot both pass the check. Runs in the caller's transaction."""
    now = now or utc_now()
    article = await _locked_article(session, document.slug)
    if expected_version is not None:
        current = article.version if article is not None else 0
        if current != expected_version:
            raise Conflict(
                slug=document.slug, expected_version=expected_version, current_version=current
            )
    author = await _upsert_author(session, document.author, now)
    assert author.id is not None

    status_before = article.status if article is not None else None
    if article is None:
        published_at = document.published_at or (
            now if document.status is ArticleStatus.PUBLISHED else None
        )
        document = document.with_published_at(published_at)
        article = Article(slug=document.slug, title=document.title, author_id=author.id)
        _apply_article_fields(article, document, author.id)
        article.created_at = article.updated_at = now
        session.add(article)
        await session.flush()
        outcome = SaveOutcome.CREATED
    else:
        published_at = document.published_at or article.published_at
        if published_at is None and document.status is ArticleStatus.PUBLISHED:
            published_at = now
        document = document.with_published_at(published_at)
        if await _document_of(session, article) == document:
            return SaveOutcome.UNCHANGED
        _apply_article_fields(article, document, author.id)
        article.version += 1
        article.updated_at = now
        session.add(article)
        outcome = SaveOutcome.UPDATED

    assert article.id is not None
    for child_list in CHILD_LISTS:
        items = getattr(document, child_list.field)
        await _sync_children(
            session, child_list, article.id, items, new_article=outcome is SaveOutcome.CREATED
        )
    await _sync_tags(session, article.id, document.tags, new_article=outcome is SaveOutcome.CREATED)
    await reindex_article(
        session,
        article_id=article.id,
        document=document,
        new_article=outcome is SaveOutcome.CREATED,
    )
    if outcome is SaveOutcome.UPDATED:
        await _fit_translations(session, article.id, document)
    await record_revision(
        session, article=article, document=document, action=action or outcome.value, actor=actor
    )
    await record_event(
        session,
        event_type=event_type_for_change(status_before, article.status),
        article=article,
        occurred_at=now,
    )
    await session.flush()
    return outcome


async def edit_article_document(
    session: AsyncSession,
    *,
    slug: str,
    expected_version: int,
    change: Callable[[ArticleDocument], ArticleDocument | dict[str, Any]],
    actor: str,
    action: str | None = None,
) -> Article:
    """Apply `change` to the current document of an article and save it, refusing a stale
    `expected_version`. A change that returns plain data is validated like a seed file."""
    current = await get_article_document(session, slug=slug)
    if current is None:
        raise NotFound(f"No article {slug!r}.")
    changed = change(current)
    document = changed if isinstance(changed, ArticleDocument) else validate_document(changed)
    if document.slug != slug:
        raise InvalidContent([ContentProblem("", "slug", "an article's slug cannot change")])
    await save_article_document(
        session, document, expected_version=expected_version, actor=actor, action=action
    )
    article = await _locked_article(session, slug)
    assert article is not None
    return article


async def delete_article(
    session: AsyncSession, *, slug: str, expected_version: int | None = None
) -> Article:
    """Delete an article and its children; its revisions stay, detached, as history."""
    article = await _locked_article(session, slug)
    if article is None:
        raise NotFound(f"No article {slug!r}.")
    if expected_version is not None and article.version != expected_version:
        raise Conflict(
            slug=slug, expected_version=expected_version, current_version=article.version
        )
    await record_event(
        session, event_type=EventType.DELETED, article=article, occurred_at=utc_now()
    )
    await session.delete(article)
    await session.flush()
    return article


async def get_translation_documents(
    session: AsyncSession, *, slug: str
) -> list[TranslationDocument]:
    """Every translation of an article, by locale."""
    article = (await session.exec(select(Article).where(Article.slug == slug))).first()
    if article is None or article.id is None:
        return []
    rows = await translations_by_article_ids(session, [article.id])
    return [
        TranslationDocument.of(translation_of=slug, locale=row.locale, overlay=row.document)
        for row in rows
    ]


async def save_article_translation(
    session: AsyncSession,
    document: TranslationDocument,
    *,
    source: str = "",
    line_of: Callable[[Location], int | None] | None = None,
    now: datetime | None = None,
) -> SaveOutcome:
    """Make the stored translation of the article `document.translation_of` into
    `document.locale` equal `document`. Refused with `InvalidContent` (naming `source` and the
    lines `line_of` gives) when there is no such article, when the locale is the article's own,
    or when it translates items the article has not. A change records an `article.updated`
    event carrying the locale and bumps the content revision; the article's version and its
    revisions (snapshots of the base document) are left as they are."""
    now = now or utc_now()
    article = await _locked_article(session, document.translation_of)
    if article is None or article.id is None:
        line = line_of(("translation_of",)) if line_of else None
        message = f"there is no article {document.translation_of!r} to translate"
        raise InvalidContent([ContentProblem(source, "translation_of", message, line)])
    problems = [
        ContentProblem(source, field_path(loc), msg, line_of(loc) if line_of else None)
        for loc, msg in translation_problems(document, await _document_of(session, article))
    ]
    if problems:
        raise InvalidContent(problems)
    statement = select(ArticleTranslation).where(
        ArticleTranslation.article_id == article.id, ArticleTranslation.locale == document.locale
    )
    row = (await session.exec(statement)).first()
    overlay = document.overlay()
    if row is not None and row.document == overlay:
        return SaveOutcome.UNCHANGED
    if row is None:
        row = ArticleTranslation(
            article_id=article.id, locale=document.locale, document=overlay,
            created_at=now, updated_at=now,
        )  # fmt: skip
        outcome = SaveOutcome.CREATED
    else:
        row.document, row.updated_at = overlay, now
        outcome = SaveOutcome.UPDATED
    session.add(row)
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=now,
        locale=document.locale,
    )  # fmt: skip
    await session.flush()
    return outcome


async def _fit_translations(
    session: AsyncSession, article_id: int, document: ArticleDocument
) -> None:
    """Keep the stored translations true to a changed article: an item it no longer has loses
    its translation with it. A translation into the article's new locale is refused."""
    for row in await translations_by_article_ids(session, [article_id]):
        if row.locale == document.locale:
            message = (
                f"the article has a translation into {row.locale!r}; delete it before making "
                "that the article's own locale"
            )
            raise InvalidContent([ContentProblem("", "locale", message)])
        fitted = dict(row.document)
        for list_name in ("sections", "benefits", "nutrition_tips", "precautions"):
            known = {item.slug for item in getattr(document, list_name)}
            items = {
                slug: text for slug, text in fitted.get(list_name, {}).items() if slug in known
            }
            if items:
                fitted[list_name] = items
            else:
                fitted.pop(list_name, None)
        if document.conclusion is None:
            fitted.pop("conclusion", None)
        if fitted != row.document:
            row.document, row.updated_at = fitted, utc_now()
            session.add(row)


async def delete_article_translation(session: AsyncSession, *, slug: str, locale: str) -> None:
    article = await _locked_article(session, slug)
    if article is None:
        raise NotFound(f"No article {slug!r}.")
    deleted = await session.exec(
        sa.delete(ArticleTranslation).where(
            col(ArticleTranslation.article_id) == article.id,
            col(ArticleTranslation.locale) == locale,
        )
    )
    if deleted.rowcount == 0:
        raise NotFound(f"Article {slug!r} has no translation to {locale!r}.")
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=utc_now(),
        locale=locale,
    )  # fmt: skip


async def _locked_article(session: AsyncSession, slug: str) -> Article | None:
    statement = select(Article).where(Article.slug == slug).with_for_update()
    # populate_existing: a row this session read earlier must be re-read under the lock.
    statement = statement.execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


def _apply_article_fields(article: Article, document: ArticleDocument, author_id: int) -> None:
    article.locale = document.locale
    article.title = document.title
    article.headline = document.headline
    article.status = document.status
    article.published_at = document.published_at
    article.intro = document.intro
    article.conclusion_title = document.conclusion.title if document.conclusion else ""
    article.conclusion = document.conclusion.body if document.conclusion else ""
    article.author_id = author_id
    article.reviewed_by = document.reviewed_by
    article.last_reviewed = document.last_reviewed


async def _upsert_author(session: AsyncSession, document: AuthorDocument, now: datetime) -> Author:
    author = (await session.exec(select(Author).where(Author.slug == document.slug))).first()
    if author is None:
        author = Author(slug=document.slug, name=document.name, bio=document.bio)
        author.created_at = author.updated_at = now
    elif (author.name, author.bio) != (document.name, document.bio):
        author.name, author.bio, author.updated_at = document.name, document.bio, now
    else:
        return author
    session.add(author)
    await session.flush()
    return author


async def _sync_tags(
    session: AsyncSession, article_id: int, tags: Sequence[str], *, new_article: bool
) -> None:
    if not new_article:
        await session.exec(sa.delete(ArticleTag).where(col(ArticleTag.article_id) == article_id))
    if tags:
        # Core, not the ORM's bulk insert: this runs once per article in every seed.
        table: sa.Table = ArticleTag.__table__  # type: ignore[attr-defined]
        rows = [{"article_id": article_id, "tag": tag, "position": i} for i, tag in enumerate(tags)]
        await session.exec(sa.insert(table), params=rows)


async def _sync_children(
    session: AsyncSession,
    child_list: ChildList,
    article_id: int,
    items: Sequence[Any],
    *,
    new_article: bool,
) -> None:
    model = child_list.model
    wanted = {item.slug: _child_columns(child_list, item, i) for i, item in enumerate(items)}
    existing: dict[str, ChildModel] = {}
    if not new_article:  # a new article has no children to read back
        # Instances, not rows: the writes below change them in place.
        statement = select(model).where(col(model.article_id) == article_id)
        existing = {row.slug: row for row in (await session.exec(statement)).all()}

    removed = existing.keys() - wanted.keys()
    for slug in removed:
        await session.delete(existing.pop(slug))
    if removed:
        await session.flush()

    moved = [row for slug, row in existing.items() if row.position != wanted[slug]["position"]]
    if moved:
        # Positions are unique per article: park the moving rows past every position in use
        # first, so that no intermediate state of a reorder collides.
        offset = 1 + max(row.position for row in existing.values()) + len(wanted)
        for row in moved:
            row.position += offset
        await session.flush()

    for slug, row in existing.items():
        for name, value in wanted[slug].items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    if existing:
        await session.flush()  # updates land before inserts can take their old positions

    # New items go in as one multi-row INSERT: many times faster than ORM objects when a seed
    # creates thousands of articles, and nothing here needs them as objects.
    new_rows = [
        {"article_id": article_id, **columns}
        for slug, columns in wanted.items()
        if slug not in existing
    ]
    if new_rows:
        await session.exec(sa.insert(model), params=new_rows)

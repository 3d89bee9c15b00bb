"""The write path of articles, the only code that writes them: save, edit and delete an article
document, and the documents of stored articles. Translations are written by `cms.translations`;
the API's reads are in `cms.reads`.

Every write of an article's live version goes through `write_live` (the diff write behind
`save_article_document`), which takes a whole validated `ArticleDocument` and makes the database
match it inside the caller's transaction. Edits (`edit_article_document`) of a published article
go to its pending version instead (`cms.working_copies`) until they are published
(`cms.workflow`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from cms.aliases import (
    check_article_slug,
    check_new_item_slugs,
    publish_benefit_renames,
    record_article_rename,
)
from cms.authors import author_document, referenced_author
from cms.content_model import ITEM_KINDS, ItemDocument, ItemKind
from cms.db import WriteSession
from cms.documents import (
    ArticleDocument,
    AuthorDocument,
    ConclusionDocument,
    ReviewDocument,
    fitted_overlay,
    validate_document,
)
from cms.errors import Conflict, ContentProblem, InvalidContent, NotFound
from cms.events import EventType
from cms.gate import check_save
from cms.item_rows import read_items, write_items
from cms.models import Article, ArticleStatus, Author, PendingVersion, utc_now
from cms.new_articles import apply_article_fields, create_articles, publication_time, write_tags
from cms.outbox import record_change, record_event
from cms.reads import tags_by_article_ids, translations_by_article_ids
from cms.reviews import reviews_by_article_ids
from cms.revisions import get_revision, record_revision, snapshot_of
from cms.search_index import update_search_index
from cms.visibility import is_public
from cms.working_copies import (
    editing_version,
    has_pending,
    next_version,
    pending_document,
    pending_of,
    save_pending,
)

__all__ = [
    "SaveOutcome",
    "StoredArticle",
    "delete_article",
    "edit_article_document",
    "get_article_document",
    "locked_article",
    "rename_article",
    "restore_article_revision",
    "save_article_document",
    "save_article_documents",
    "stored_article",
    "stored_articles",
    "write_live",
]


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP


class SaveOutcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class StoredArticle:
    """An article as stored, locked for the caller's transaction, its whole (live) document
    and its pending version's row, if it ever had one."""

    article: Article
    author: Author
    document: ArticleDocument
    pending: PendingVersion | None = None

    @property
    def working_document(self) -> ArticleDocument:
        """What editors edit: the pending version while there is one, else the live one."""
        return pending_document(self.pending) or self.document

    @property
    def version(self) -> int:
        """The version an edit must expect (`cms.working_copies.editing_version`)."""
        return editing_version(self.article, self.pending)


# --- documents --------------------------------------------------------------------------------


async def get_article_document(session: WriteSession, *, slug: str) -> ArticleDocument | None:
    """The whole article, drafts included, as the document an editor would write."""
    stored = await stored_article(session, slug, lock=False)
    return stored.document if stored is not None else None


async def stored_article(
    session: WriteSession, slug: str, *, lock: bool = True
) -> StoredArticle | None:
    """The article with `slug` and its author (one statement, the article's row locked until
    the transaction ends unless `lock` is false), its items (one), its tags (one), its review
    (one) and its pending version (one, read after the lock is held)."""
    return (await stored_articles(session, [slug], lock=lock)).get(slug)


async def stored_articles(
    session: WriteSession, slugs: Sequence[str], *, lock: bool = True
) -> dict[str, StoredArticle]:
    """`stored_article` of many slugs (those stored), in as many statements as for one."""
    statement = select(Article, Author).join(Author, col(Author.id) == col(Article.author_id))
    statement = statement.where(col(Article.slug).in_(list(slugs)))
    if lock:
        # populate_existing: a row this session read earlier must be re-read under the lock.
        statement = statement.with_for_update(of=Article).execution_options(populate_existing=True)
    found = (await session.exec(statement)).all()
    if not found:
        return {}
    ids = [article.id for article, _ in found if article.id is not None]
    items = await read_items(session, ids)
    tags: dict[int, list[str]] = {article_id: [] for article_id in ids}
    for row in await tags_by_article_ids(session, ids):
        tags[row.article_id].append(row.tag)
    reviews = await reviews_by_article_ids(session, ids)
    pending = await _pending_by_article_ids(session, ids)
    stored = {}
    for article, author in found:
        assert article.id is not None
        review = reviews.get(article.id)
        document = _document_of(
            article,
            author,
            items[article.id],
            tags[article.id],
            review.document() if review else None,
        )
        stored[article.slug] = StoredArticle(article, author, document, pending.get(article.id))
    return stored


def _document_of(
    article: Article,
    author: Author,
    items: dict[ItemKind, list[ItemDocument]],
    tags: list[str],
    review: ReviewDocument | None,
) -> ArticleDocument:
    conclusion = (
        ConclusionDocument(title=article.conclusion_title, body=article.conclusion)
        if article.conclusion_title or article.conclusion
        else None
    )
    return ArticleDocument(
        slug=article.slug,
        locale=article.locale,
        title=article.title,
        headline=article.headline,
        status=article.status,
        published_at=article.published_at,
        unpublish_at=article.unpublish_at,
        author=AuthorDocument(slug=author.slug, name=author.name, bio=author.bio),
        review=review,
        tags=tags,
        intro=article.intro,
        meta_title=article.meta_title,
        meta_description=article.meta_description,
        conclusion=conclusion,
        **{kind.list_name: items[kind] for kind in ITEM_KINDS},
    )


async def _pending_by_article_ids(
    session: WriteSession, article_ids: Sequence[int]
) -> dict[int, PendingVersion]:
    """`cms.working_copies.pending_of` of many articles: their pending rows, read afresh."""
    statement = select(PendingVersion).where(col(PendingVersion.article_id).in_(article_ids))
    statement = statement.execution_options(populate_existing=True)
    return {row.article_id: row for row in (await session.exec(statement)).all()}


# --- the write path ---------------------------------------------------------------------------


async def save_article_document(
    session: WriteSession,
    document: ArticleDocument,
    *,
    expected_version: int | None = None,
    actor: str = "system",
    action: str | None = None,
    now: datetime | None = None,
) -> SaveOutcome:
    """Make the stored article (found by slug) equal `document`: create it, or update exactly
    what differs and bump its version, or leave it untouched when nothing differs. Items are
    matched by slug, so their ids survive edits and reordering; items missing from the
    document are deleted. Every create or update records a revision and an outbox event.

    With `expected_version`, the save is refused with `Conflict` unless the stored article is at
    that version (for a new article: unless it does not exist, expressed as version 0). The row
    is locked first (`FOR UPDATE` on PostgreSQL; SQLite allows one writer at a time), so two
    concurrent editors cannot both pass the check. Runs in the caller's transaction."""
    stored = await stored_article(session, document.slug)
    current_version = stored.article.version if stored is not None else 0
    if expected_version is not None and current_version != expected_version:
        raise Conflict(
            slug=document.slug, expected_version=expected_version, current_version=current_version
        )
    if stored is None:
        await _create(session, document, actor=actor, action=action, now=now or utc_now())
        return SaveOutcome.CREATED
    return await write_live(session, stored, document, actor=actor, action=action, now=now)


async def save_article_documents(
    session: WriteSession, documents: Sequence[ArticleDocument], *, actor: str
) -> list[SaveOutcome]:
    """`save_article_document` of each document, in order, with the articles not stored yet
    created together (`cms.new_articles`): what `cms seed` runs."""
    stored = await stored_articles(session, [document.slug for document in documents])
    outcomes: list[SaveOutcome] = []
    new: list[ArticleDocument] = []
    for document in documents:
        if document.slug in stored:
            # Saved in order: the new articles before this one first.
            await create_articles(session, new, actor=actor, action=None, now=utc_now())
            outcomes.extend(SaveOutcome.CREATED for _ in new)
            new = []
            outcome = await write_live(
                session, stored[document.slug], document, actor=actor, action=None
            )
            outcomes.append(outcome)
        else:
            new.append(document)
    await create_articles(session, new, actor=actor, action=None, now=utc_now())
    outcomes.extend(SaveOutcome.CREATED for _ in new)
    return outcomes


async def edit_article_document(
    session: WriteSession,
    *,
    slug: str,
    expected_version: int,
    change: Callable[[ArticleDocument], ArticleDocument | dict[str, Any]],
    actor: str,
    action: str | None = None,
) -> Article:
    """Apply `change` to the document editors edit and save it, refusing a stale
    `expected_version`. A change that returns plain data is validated like a seed file.

    A draft (an article never published, or unpublished or archived, without a pending version)
    is edited in place. A published article, scheduled or public, is not touched: the edit goes
    to its pending version (`cms.working_copies`), which `cms.workflow.publish_article` makes
    live. `expected_version` is checked against the pending version while there is one."""
    stored = await stored_article(session, slug)
    if stored is None:
        raise NotFound(f"No article {slug!r}.")
    changed = change(stored.working_document)
    document = changed if isinstance(changed, ArticleDocument) else validate_document(changed)
    if document.slug != slug:
        raise InvalidContent([ContentProblem("", "slug", "an article's slug cannot change")])
    if stored.version != expected_version:
        raise Conflict(slug=slug, expected_version=expected_version, current_version=stored.version)
    if stored.article.status is ArticleStatus.PUBLISHED or has_pending(stored.pending):
        if document != stored.working_document:
            assert stored.article.id is not None
            await _check_new_benefit_slugs(
                session, stored.article.id, stored.working_document, document, free=False
            )
            await save_pending(
                session, article=stored.article, pending=stored.pending, document=document,
                actor=actor, action=action or "updated", now=utc_now(),
            )  # fmt: skip
        return stored.article
    await write_live(session, stored, document, actor=actor, action=action)
    return stored.article


async def _create(
    session: WriteSession,
    document: ArticleDocument,
    *,
    actor: str,
    action: str | None,
    now: datetime,
) -> None:
    await create_articles(session, [document], actor=actor, action=action, now=now)


async def write_live(
    session: WriteSession,
    stored: StoredArticle,
    document: ArticleDocument,
    *,
    actor: str,
    action: str | None,
    now: datetime | None = None,
    unpublish_at: datetime | None | _Keep = KEEP,
) -> SaveOutcome:
    """Write what differs between the stored article's live version and `document` (whose
    expiry is replaced by `unpublish_at` when given): nothing when nothing does. A one-field
    edit writes the article row, the item, its search part, a revision and an event."""
    now = now or utc_now()
    article, before = stored.article, stored.document
    assert article.id is not None
    document = document.with_published_at(publication_time(document, article.published_at, now))
    if document.review is None:  # left out: the stored review stays
        document = document.model_copy(update={"review": before.review})
    author = stored.author
    if document.author.slug != author.slug:
        author = await referenced_author(session, document.author)
    # The article references its author: the stored one, whatever the document says of it.
    document = document.model_copy(update={"author": author_document(author)})
    if not isinstance(unpublish_at, _Keep):
        document = document.model_copy(update={"unpublish_at": unpublish_at})
    if before == document:
        return SaveOutcome.UNCHANGED
    was_public = is_public(article, now)
    author_id = author.id
    assert author_id is not None
    apply_article_fields(article, document, author_id)
    article.version = next_version(article, stored.pending)
    article.updated_at = now
    session.add(article)
    await _check_new_benefit_slugs(session, article.id, before, document)
    for kind in ITEM_KINDS:
        if before.items(kind) != document.items(kind):
            await write_items(session, kind, article.id, before.items(kind), document.items(kind))
    if document.tags != before.tags:
        await write_tags(session, [(article.id, document.tags)], new_articles=False)
    await update_search_index(session, article_id=article.id, before=before, after=document)
    if _translations_may_not_fit(before, document):
        await _fit_translations(session, article.id, document)
    await _record(
        session, article, document, was_public, action or "updated", actor, now, before.review
    )
    await publish_benefit_renames(
        session,
        article,
        before=[b.slug for b in before.benefits],
        after=[b.slug for b in document.benefits],
        now=now,
    )
    return SaveOutcome.UPDATED


async def _check_new_benefit_slugs(
    session: WriteSession,
    article_id: int,
    before: ArticleDocument,
    after: ArticleDocument,
    *,
    free: bool = True,
) -> None:
    """A benefit slug the edit adds must not be an old slug of a benefit still there."""
    slugs = [benefit.slug for benefit in after.benefits]
    added = set(slugs) - {benefit.slug for benefit in before.benefits}
    if added:
        await check_new_item_slugs(
            session, article_id=article_id, added=added, kept=slugs, free=free
        )


async def rename_article(
    session: WriteSession, *, slug: str, new_slug: str, expected_version: int, actor: str
) -> Article:
    """Give an article a new slug, as a new version; the old slug stays an alias
    (`cms.aliases`), and the change is announced as `article.renamed`."""
    stored = await stored_article(session, slug)
    if stored is None:
        raise NotFound(f"No article {slug!r}.")
    article = stored.article
    if article.version != expected_version:
        raise Conflict(
            slug=slug, expected_version=expected_version, current_version=article.version
        )
    document = validate_document({**stored.document.model_dump(), "slug": new_slug})
    if document.slug == slug:
        return article
    if (await session.exec(select(Article.id).where(Article.slug == document.slug))).first():
        message = f"there is already an article {document.slug!r}"
        raise InvalidContent([ContentProblem("", "slug", message)])
    await check_article_slug(session, document.slug, article_id=article.id)
    article.slug = document.slug
    article.version += 1
    article.updated_at = utc_now()
    session.add(article)
    await session.flush()
    await record_revision(
        session, article=article, document=document, action="renamed", actor=actor
    )
    await record_article_rename(session, article, slug)
    return article


def _translations_may_not_fit(before: ArticleDocument, after: ArticleDocument) -> bool:
    """Whether a translation may hold text of something the article no longer has."""
    lost_items = any(
        {item.slug for item in before.items(kind)} - {item.slug for item in after.items(kind)}
        for kind in ITEM_KINDS
    )
    lost_conclusion = before.conclusion is not None and after.conclusion is None
    return lost_items or lost_conclusion or after.locale != before.locale


async def _record(
    session: WriteSession,
    article: Article,
    document: ArticleDocument,
    was_public: bool,
    action: str,
    actor: str,
    now: datetime,
    stored_review: ReviewDocument | None = None,
) -> None:
    await record_revision(session, article=article, document=document, action=action, actor=actor)
    await check_save(session, article, document, stored_review)
    await record_change(session, article=article, occurred_at=now, was_public=was_public)
    await session.flush()


async def restore_article_revision(
    session: WriteSession, *, slug: str, expected_version: int, version: int, actor: str
) -> Article:
    """Make the article's content what it was at `version`, as a new version (a pending one for
    a published article); its status, publication time and expiry stay as they are now."""
    article = await locked_article(session, slug)
    if article is None:
        raise NotFound(f"No article {slug!r}.")
    assert article.id is not None
    old = snapshot_of(await get_revision(session, article_id=article.id, version=version))

    def restore(current: ArticleDocument) -> ArticleDocument:
        return old.model_copy(
            update={
                "status": current.status,
                "published_at": current.published_at,
                "unpublish_at": current.unpublish_at,
            }
        )

    return await edit_article_document(
        session,
        slug=slug,
        expected_version=expected_version,
        change=restore,
        actor=actor,
        action="restored",
    )


async def delete_article(
    session: WriteSession, *, slug: str, expected_version: int | None = None
) -> Article:
    """Delete an article and its children (and its pending version); its revisions stay,
    detached, as history. `expected_version` is the version editors edit
    (`cms.working_copies.editing_version`)."""
    article = await locked_article(session, slug)
    if article is None:
        raise NotFound(f"No article {slug!r}.")
    assert article.id is not None
    current = editing_version(article, await pending_of(session, article.id))
    if expected_version is not None and current != expected_version:
        raise Conflict(slug=slug, expected_version=expected_version, current_version=current)
    now = utc_now()
    await record_event(
        session, event_type=EventType.DELETED, article=article, occurred_at=now,
        was_public=is_public(article, now),
    )  # fmt: skip
    await session.delete(article)
    await session.flush()
    return article


async def _fit_translations(
    session: WriteSession, article_id: int, document: ArticleDocument
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
        fitted = fitted_overlay(row.document, document)
        if fitted != row.document:
            row.document, row.updated_at = fitted, utc_now()
            session.add(row)


async def locked_article(session: WriteSession, slug: str) -> Article | None:
    """The article with `slug`, locked for a write until the caller's transaction ends."""
    statement = select(Article).where(Article.slug == slug).with_for_update()
    # populate_existing: a row this session read earlier must be re-read under the lock.
    statement = statement.execution_options(populate_existing=True)
    return (await session.exec(statement)).first()

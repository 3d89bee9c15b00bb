"""The editorial life of an article: draft -> published -> unpublished, and archived.

    DRAFT ──publish──> PUBLISHED ──unpublish──> UNPUBLISHED ──publish──> PUBLISHED
      │                    │                        │
      └──────archive───────┴────────archive─────────┘──> ARCHIVED ──restore to draft──> DRAFT

Publishing may be scheduled: a `publish_at` in the future keeps the article out of public reads
until then, with no job having to run at that moment (reads compare against the clock). An
`unpublish_at` makes it expire the same way. Edits of a published article wait in its pending
version (`cms.working_copies`) and its pending translations (`cms.pending_translations`) until
`publish_article` makes them live together; scheduled for later, the live version stays live
until then and `apply_due` (run by every server process's change channel, `cms.changes`)
publishes them when the time comes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import select

from cms.content import StoredArticle, stored_article, write_live
from cms.db import ReadSession, WriteSession
from cms.documents import ArticleDocument
from cms.errors import Conflict, ContentProblem, InvalidContent, InvalidTransition, NotFound
from cms.models import Article, ArticleStatus, PendingVersion, utc_now
from cms.outbox import record_change
from cms.pending_translations import (
    discard_pending_translations,
    pending_translation_changes,
    pending_translations_by_article_ids,
    publish_pending_translations,
)
from cms.visibility import is_public
from cms.working_copies import (
    FieldChange,
    consume_pending,
    discard_pending,
    due_pending,
    field_changes,
    has_pending,
    pending_document,
    save_pending,
    schedule_pending,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "due_state",
    "apply_due",
    "change_status",
    "discard_pending_changes",
    "pending_changes",
    "publish_article",
    "transition",
]

ALLOWED_TRANSITIONS: dict[ArticleStatus, frozenset[ArticleStatus]] = {
    ArticleStatus.DRAFT: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.PUBLISHED: frozenset(
        {ArticleStatus.PUBLISHED, ArticleStatus.UNPUBLISHED, ArticleStatus.ARCHIVED}
    ),
    ArticleStatus.UNPUBLISHED: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.ARCHIVED: frozenset({ArticleStatus.DRAFT}),
}


def transition(
    document: ArticleDocument,
    target: ArticleStatus,
    *,
    now: datetime,
    publish_at: datetime | None = None,
) -> ArticleDocument:
    """The document moved to `target`. Publishing an already published article again is how a
    publication is rescheduled."""
    if target not in ALLOWED_TRANSITIONS[document.status]:
        raise InvalidTransition(
            f"An article cannot go from {document.status.value} to {target.value}."
        )
    if publish_at is not None and target is not ArticleStatus.PUBLISHED:
        raise InvalidTransition("Only publishing takes a publishAt time.")
    published_at = document.published_at
    if target is ArticleStatus.PUBLISHED:
        published_at = publish_at or now
    return document.model_copy(update={"status": target, "published_at": published_at})


# --- publishing, with working copies ----------------------------------------------------------


async def _stored(session: WriteSession, slug: str, expected_version: int) -> StoredArticle:
    stored = await stored_article(session, slug)
    if stored is None:
        raise NotFound(f"No article {slug!r}.")
    if stored.version != expected_version:
        raise Conflict(slug=slug, expected_version=expected_version, current_version=stored.version)
    return stored


async def publish_article(
    session: WriteSession,
    *,
    slug: str,
    expected_version: int,
    publish_at: datetime | None,
    unpublish_at: datetime | None,
    actor: str,
    now: datetime | None = None,
) -> Article:
    """Publish the article's pending version (or, without one, the article as it is) now or at
    `publish_at`, public until `unpublish_at` (never expiring when left out).

    For an article the public sees now and a `publish_at` to come, the live version stays live
    and the pending version is scheduled: `apply_due` makes it live when the time comes. Every
    other publication is written at once (a scheduled one becomes public by the clock alone,
    `cms.visibility`). A live article keeps its first publication time unless `publish_at`
    says otherwise."""
    now = now or utc_now()
    if unpublish_at is not None and unpublish_at <= (publish_at or now):
        message = "the expiry must come after the publication"
        raise InvalidContent([ContentProblem("", "unpublishAt", message)])
    stored = await _stored(session, slug, expected_version)
    article, pending = stored.article, stored.pending
    live = is_public(article, now)
    if live and publish_at is not None and publish_at > now:
        if not has_pending(pending):
            if not await _has_pending_translations(session, article):
                raise InvalidTransition(
                    "The article is live and has no pending changes: there is nothing to "
                    "publish later. Edit it first, or publish without publishAt to change its "
                    "expiry."
                )
            # Only translations wait: they go live with a pending version of the live text.
            pending = await save_pending(
                session, article=article, pending=pending, document=stored.document,
                actor=actor, action="updated", now=now,
            )  # fmt: skip
        assert pending is not None
        await schedule_pending(
            session, article=article, pending=pending, publish_at=publish_at,
            unpublish_at=unpublish_at, actor=actor, now=now,
        )  # fmt: skip
        return article
    base = stored.working_document.model_copy(update=_live_fields(stored))
    document = transition(base, ArticleStatus.PUBLISHED, now=now, publish_at=publish_at)
    if live and publish_at is None:
        document = document.model_copy(update={"published_at": article.published_at})
    if pending is not None and has_pending(pending) and not await consume_pending(session, pending):
        # Unreachable while the article is locked; refuse rather than publish twice.
        raise Conflict(slug=slug, expected_version=expected_version, current_version=stored.version)
    await write_live(
        session, stored, document, actor=actor, action="published", now=now,
        unpublish_at=unpublish_at,
    )  # fmt: skip
    await publish_pending_translations(
        session, article=article, document=document, actor=actor, now=now
    )
    return article


async def _has_pending_translations(session: WriteSession, article: Article) -> bool:
    assert article.id is not None
    return bool(await pending_translations_by_article_ids(session, [article.id]))


def _live_fields(stored: StoredArticle) -> dict[str, Any]:
    """What a pending version takes from the live one when published: its status, publication
    time and medical review (approvals are recorded as they happen, never by a save; the
    pending document holds the review as it was when the edit began)."""
    document = stored.document
    return {
        "status": document.status,
        "published_at": document.published_at,
        "review": document.review,
    }


async def change_status(
    session: WriteSession, *, slug: str, expected_version: int, target: ArticleStatus, actor: str
) -> Article:
    """Unpublish, archive or bring back as a draft: a change of the live version, at once. A
    pending version stays pending."""
    stored = await _stored(session, slug, expected_version)
    document = transition(stored.document, target, now=utc_now())
    await write_live(session, stored, document, actor=actor, action=_ACTIONS[target])
    return stored.article


_ACTIONS = {
    ArticleStatus.UNPUBLISHED: "unpublished",
    ArticleStatus.ARCHIVED: "archived",
    ArticleStatus.DRAFT: "unarchived",
    ArticleStatus.PUBLISHED: "published",
}


async def discard_pending_changes(
    session: WriteSession, *, slug: str, expected_version: int, actor: str
) -> Article:
    """Drop the article's pending version and its pending translations."""
    stored = await _stored(session, slug, expected_version)
    now = utc_now()
    translations = await discard_pending_translations(session, article=stored.article, now=now)
    if stored.pending is not None and has_pending(stored.pending):
        await discard_pending(
            session, article=stored.article, pending=stored.pending, actor=actor, now=now
        )
    elif not translations:
        raise NotFound(f"Article {slug!r} has no pending changes.")
    return stored.article


# --- what comes due by the clock ----------------------------------------------------------------

DUE_BATCH = 100
_ARTICLES: Any = Article.__table__  # type: ignore[attr-defined]
# Articles the public started to see (a scheduled publication came due) or stopped seeing (an
# expiry came due) since their last write: a write sets `updated_at` to its time, so a time
# still after `updated_at` has not been announced. Announcing it sets `updated_at` to that time.
_WENT_PUBLIC = sa.and_(
    _ARTICLES.c.status == ArticleStatus.PUBLISHED,
    _ARTICLES.c.published_at <= sa.bindparam("now"),
    _ARTICLES.c.published_at > _ARTICLES.c.updated_at,
)
_EXPIRED = sa.and_(
    _ARTICLES.c.status == ArticleStatus.PUBLISHED,
    _ARTICLES.c.unpublish_at <= sa.bindparam("now"),
    _ARTICLES.c.unpublish_at > _ARTICLES.c.updated_at,
)
_PENDING: Any = PendingVersion.__table__  # type: ignore[attr-defined]
_NOW: sa.BindParameter[datetime] = sa.bindparam("now")
_LIVE = _ARTICLES.c.status == ArticleStatus.PUBLISHED
_DUE_STATE = sa.select(
    sa.or_(
        sa.select(_PENDING.c.id)
        .where(_PENDING.c.publish_at <= _NOW, _PENDING.c.document.is_not(None))
        .exists(),
        sa.select(_ARTICLES.c.id).where(_WENT_PUBLIC).exists(),
        sa.select(_ARTICLES.c.id).where(_EXPIRED).exists(),
    ),
    sa.select(sa.func.min(_PENDING.c.publish_at))
    .where(_PENDING.c.publish_at > _NOW, _PENDING.c.document.is_not(None))
    .scalar_subquery(),
    sa.select(sa.func.min(_ARTICLES.c.published_at))
    .where(_LIVE, _ARTICLES.c.published_at > _NOW)
    .scalar_subquery(),
    sa.select(sa.func.min(_ARTICLES.c.unpublish_at))
    .where(_LIVE, _ARTICLES.c.unpublish_at > _NOW)
    .scalar_subquery(),
)


async def due_state(session: ReadSession, *, now: datetime) -> tuple[bool, datetime | None]:
    """Whether `apply_due` has work at `now`, and the next time it will have some (None when
    nothing is scheduled): one cheap read, so that watching the clock costs no write."""
    due, *later = (await session.exec(_DUE_STATE, params={"now": now})).one()  # type: ignore[call-overload]
    times = [_aware(value) for value in later if value is not None]
    return bool(due), min(times) if times else None


def _aware(value: datetime | str) -> datetime:
    """A time read through a scalar subquery, which SQLite returns as it stores it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def apply_due(session: WriteSession, *, now: datetime) -> int:
    """Do what the clock made due, once, whichever server process gets there first: publish
    scheduled pending versions, and announce (one event each) the articles that became public
    or expired. Safe to run in any number of processes at once: each step is a compare-and-set
    on the rows it changes, so a second runner finds nothing left to do. Returns how many
    articles it changed."""
    done = 0
    for article_id in await due_pending(session, now=now, limit=DUE_BATCH):
        done += await _publish_due_pending(session, article_id, now)
    for went_public in (True, False):
        done += await _announce(session, went_public=went_public, now=now)
    return done


async def _publish_due_pending(session: WriteSession, article_id: int, now: datetime) -> int:
    slug = (await session.exec(select(Article.slug).where(Article.id == article_id))).first()
    stored = await stored_article(session, slug) if slug is not None else None
    if stored is None or stored.pending is None:
        return 0
    pending = stored.pending
    document = pending_document(pending)
    if document is None or pending.publish_at is None or pending.publish_at > now:
        return 0
    unpublish_at, actor = pending.unpublish_at, pending.created_by
    if not await consume_pending(session, pending):
        return 0
    document = document.model_copy(update=_live_fields(stored))
    await write_live(
        session, stored, document, actor=actor, action="published", now=now,
        unpublish_at=unpublish_at,
    )  # fmt: skip
    await publish_pending_translations(
        session, article=stored.article, document=document, actor=actor, now=now
    )
    return 1


async def _announce(session: WriteSession, *, went_public: bool, now: datetime) -> int:
    condition = _WENT_PUBLIC if went_public else _EXPIRED
    column = _ARTICLES.c.published_at if went_public else _ARTICLES.c.unpublish_at
    ids = (
        await session.exec(  # type: ignore[call-overload]
            sa.select(_ARTICLES.c.id).where(condition).limit(DUE_BATCH), params={"now": now}
        )
    ).scalars()
    announced = 0
    for article_id in list(ids):
        claimed = await session.exec(
            sa.update(_ARTICLES)
            .where(_ARTICLES.c.id == article_id, condition)
            .values(updated_at=column)
            .execution_options(synchronize_session=False),
            params={"now": now},
        )
        if claimed.rowcount != 1:
            continue  # another process announced it
        statement = select(Article).where(Article.id == article_id)
        article = (await session.exec(statement.execution_options(populate_existing=True))).one()
        at = article.published_at if went_public else article.unpublish_at
        assert at is not None
        was_public = (
            not went_public and article.published_at is not None and (article.published_at < at)
        )
        await record_change(session, article=article, occurred_at=at, was_public=was_public)
        announced += 1
    await session.flush()
    return announced


async def pending_changes(session: ReadSession, *, slug: str) -> list[FieldChange]:
    """The article's pending version against its live one, field by field, then its pending
    translations against the live ones; empty without either."""
    stored = await stored_article(cast(WriteSession, session), slug, lock=False)
    if stored is None or stored.article.id is None:
        return []
    pending = pending_document(stored.pending)
    changes = field_changes(stored.document, pending) if pending is not None else []
    return changes + await pending_translation_changes(session, article_id=stored.article.id)

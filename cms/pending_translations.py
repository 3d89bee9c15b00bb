"""Pending translations: where an edit of a published article's translation waits until the
article is published, while `ArticleTranslation` stays what the public reads (the translation's
counterpart of `cms.working_copies`).

An article has at most one pending translation per locale, a whole overlay or (null) the
deletion of that locale's translation. Editors' saves and deletions come here
(`edit_article_translation`); `cms.workflow` makes the pending translations live with the
article's publication, through the live writes of `cms.translations`, or discards them. A
pending row lives only while it is pending: its versions stay in `TranslationRevision`, so none
is handed out twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from cms.content import StoredArticle, stored_article
from cms.db import ReadSession, WriteSession
from cms.documents import ArticleDocument, TranslationDocument, fitted_overlay
from cms.errors import NotFound
from cms.events import EventType
from cms.models import Article, ArticleStatus, ArticleTranslation, PendingTranslation, utc_now
from cms.outbox import record_event
from cms.reads import translation_of, translations_by_article_ids
from cms.translations import (
    Path,
    check_translation_fits,
    check_translation_version,
    delete_article_translation,
    next_translation_version,
    record_translation_revision,
    remove_live_translation,
    save_article_translation,
    source_hashes,
    translated_article,
    translated_fields,
    write_live_translation,
)
from cms.working_copies import FieldChange, has_pending

__all__ = [
    "discard_pending_translations",
    "edit_article_translation",
    "edit_delete_article_translation",
    "editing_translation_version",
    "pending_translation_changes",
    "pending_translation_of",
    "pending_translations_by_article_ids",
    "publish_pending_translations",
    "working_translations",
]

Overlay = tuple[dict[str, Any], dict[str, str]]


async def pending_translation_of(
    session: ReadSession, *, article_id: int, locale: str
) -> PendingTranslation | None:
    """The pending translation into `locale`, read afresh (call it once the article is locked)."""
    statement = select(PendingTranslation).where(
        PendingTranslation.article_id == article_id, PendingTranslation.locale == locale
    )
    statement = statement.execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def _pending_of(
    session: ReadSession, article: Article, locale: str
) -> PendingTranslation | None:
    assert article.id is not None
    return await pending_translation_of(session, article_id=article.id, locale=locale)


async def pending_translations_by_article_ids(
    session: ReadSession, article_ids: Sequence[int]
) -> list[PendingTranslation]:
    """The pending translations of the given articles, by article and locale."""
    statement = (
        select(PendingTranslation)
        .where(col(PendingTranslation.article_id).in_(article_ids))
        .order_by(col(PendingTranslation.article_id), col(PendingTranslation.locale))
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(statement)).all())


def editing_translation_version(
    row: ArticleTranslation | None, pending: PendingTranslation | None
) -> int:
    """The version an edit's `expectedVersion` is checked against: the pending translation's
    while there is one (0 while it deletes the translation), else the live one's (0: none)."""
    if pending is not None:
        return pending.version if pending.document is not None else 0
    return row.version if row is not None else 0


def working_translations(
    live: Mapping[str, ArticleTranslation], pending: Sequence[PendingTranslation]
) -> dict[str, ArticleTranslation]:
    """The translations editors read, by locale: the live ones with the pending ones over
    them (unsaved rows, for reading only)."""
    working = dict(live)
    for row in pending:
        if row.document is None:
            working.pop(row.locale, None)
        else:
            working[row.locale] = ArticleTranslation(
                article_id=row.article_id, locale=row.locale, document=row.document,
                version=row.version, source_hashes=row.source_hashes, updated_at=row.updated_at,
            )  # fmt: skip
    return working


async def discard_pending_translations(
    session: WriteSession, *, article: Article, now: datetime
) -> bool:
    """Drop the article's pending translations (an event only editors see for each); False
    when it had none."""
    assert article.id is not None
    rows = await pending_translations_by_article_ids(session, [article.id])
    for row in rows:
        await session.delete(row)
        await record_event(
            session, event_type=EventType.UPDATED, article=article, occurred_at=now,
            locale=row.locale, pending=True,
        )  # fmt: skip
    await session.flush()
    return bool(rows)


# --- editors' writes ----------------------------------------------------------------------------


async def edit_article_translation(
    session: WriteSession,
    document: TranslationDocument,
    *,
    expected_version: int | None,
    actor: str,
) -> int:
    """An editor's save of a translation, refused as `save_article_translation` refuses one.
    A draft's translation is saved live. A published article's (scheduled ones included) waits
    in its pending translation, unseen by the public until the article is published, and
    `expected_version` is checked against the pending translation while there is one. Returns
    the version to expect next."""
    stored = await translated_article(session, document)
    article, locale = stored.article, document.locale
    assert article.id is not None
    pending = await _pending_of(session, article, locale)
    if not _waits(stored, pending):
        await save_article_translation(
            session, document, expected_version=expected_version, actor=actor
        )
        row = await translation_of(session, article_id=article.id, locale=locale)
        return row.version if row is not None else 0
    check_translation_fits(document, stored.working_document)
    row = await translation_of(session, article_id=article.id, locale=locale)
    current = editing_translation_version(row, pending)
    check_translation_version(article.slug, locale, expected_version, current)
    overlay = document.overlay()
    before = _working(row, pending)
    if before is not None and before[0] == overlay:
        return current
    # The hashes of the text the editor translated: the article's pending version, if any.
    hashes = source_hashes(overlay, stored.working_document, before=before)
    action = "updated" if before is not None else "created"
    return await _save_pending(
        session, stored, locale, row, pending, (overlay, hashes), action, actor
    )


async def edit_delete_article_translation(
    session: WriteSession, *, slug: str, locale: str, actor: str
) -> None:
    """An editor's deletion of a translation: at once for a draft; for a published article
    (or a translation pending already) the pending translation becomes the deletion, made
    live when the article is published."""
    stored = await stored_article(session, slug)
    if stored is None:
        raise NotFound(f"No article {slug!r}.")
    article = stored.article
    pending = await _pending_of(session, article, locale)
    if not _waits(stored, pending):
        await delete_article_translation(session, slug=slug, locale=locale, actor=actor)
        return
    assert article.id is not None
    row = await translation_of(session, article_id=article.id, locale=locale)
    before = _working(row, pending)
    if before is None:
        raise NotFound(f"Article {slug!r} has no translation to {locale!r}.")
    await _save_pending(
        session, stored, locale, row, pending, None, "deleted", actor, deleted=before
    )


async def _save_pending(
    session: WriteSession,
    stored: StoredArticle,
    locale: str,
    row: ArticleTranslation | None,
    pending: PendingTranslation | None,
    overlay: Overlay | None,
    action: str,
    actor: str,
    *,
    deleted: Overlay | None = None,
) -> int:
    """Make `overlay` (None: the deletion of the translation `deleted`) the pending translation,
    as a new version, recorded as a pending revision and an event only editors see. A scheduled
    publication of the article is cancelled, as an edit of its own cancels it: what goes live
    is only ever what a publisher scheduled. Returns the version."""
    article, scheduled = stored.article, stored.pending
    assert article.id is not None
    now = utc_now()
    if scheduled is not None and scheduled.publish_at is not None:
        scheduled.publish_at = scheduled.unpublish_at = None
        session.add(scheduled)
    version = await next_translation_version(session, article.id, locale, row)
    if pending is None:
        pending = PendingTranslation(
            article_id=article.id, locale=locale, version=version, created_by=actor
        )
    if overlay is not None:
        pending.document, pending.source_hashes = overlay
    else:
        pending.document, pending.source_hashes = None, deleted[1] if deleted else {}
    pending.version, pending.updated_at = version, now
    session.add(pending)
    await record_translation_revision(
        session, pending, action, actor, now, document=deleted[0] if deleted else None
    )
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=now,
        locale=locale, pending=True,
    )  # fmt: skip
    if overlay is None and row is None:
        # Only a pending translation was there: deleting it leaves nothing to publish.
        await session.delete(pending)
    await session.flush()
    return version


def _waits(stored: StoredArticle, pending: PendingTranslation | None) -> bool:
    """Whether an edit of the translation goes to its pending translation: when the article's
    own edits would (it is published, or has a pending version), or it is pending already."""
    published = stored.article.status is ArticleStatus.PUBLISHED or has_pending(stored.pending)
    return published or pending is not None


def _working(row: ArticleTranslation | None, pending: PendingTranslation | None) -> Overlay | None:
    """The overlay and hashes editors edit: the pending ones while there are some; None for no
    translation."""
    if pending is not None:
        return None if pending.document is None else (pending.document, pending.source_hashes)
    return (row.document, row.source_hashes) if row is not None else None


# --- publishing ---------------------------------------------------------------------------------


async def publish_pending_translations(
    session: WriteSession, *, article: Article, document: ArticleDocument, actor: str, now: datetime
) -> None:
    """Make the article's pending translations live as their direct saves would be (a new
    version, a revision, an event each), fitted to `document`, the article as it goes live.
    Their source hashes are those of the text their editors translated (the article's pending
    version where there was one): a field whose source changed since reads as stale."""
    assert article.id is not None
    for pending in await pending_translations_by_article_ids(session, [article.id]):
        row = await translation_of(session, article_id=article.id, locale=pending.locale)
        await session.delete(pending)
        if pending.locale == document.locale:
            continue  # the article is now written in that locale: it is no translation any more
        if pending.document is None:
            if row is not None:
                await remove_live_translation(
                    session, article=article, row=row, actor=actor, now=now
                )
            continue
        overlay = fitted_overlay(pending.document, document)
        kept = {".".join(path) for path, _ in translated_fields(overlay)}
        hashes = {key: value for key, value in pending.source_hashes.items() if key in kept}
        if row is None or (row.document, row.source_hashes) != (overlay, hashes):
            await write_live_translation(
                session, article=article, row=row, locale=pending.locale, overlay=overlay,
                hashes=hashes, actor=actor, now=now,
            )  # fmt: skip
    await session.flush()


async def pending_translation_changes(
    session: ReadSession, *, article_id: int
) -> list[FieldChange]:
    """The article's pending translations against the live ones, by locale, field by field
    (items by slug, as `cms.working_copies.field_changes` addresses them)."""
    live = {row.locale: row for row in await translations_by_article_ids(session, [article_id])}
    changes: list[FieldChange] = []
    for pending in await pending_translations_by_article_ids(session, [article_id]):
        row = live.get(pending.locale)
        old = _flat(row.document) if row is not None else {}
        new = _flat(pending.document or {})
        paths = list(old) + [path for path in new if path not in old]
        changes.extend(
            FieldChange(path, old.get(path), new.get(path), locale=pending.locale)
            for path in paths
            if old.get(path) != new.get(path)
        )
    return changes


def _flat(overlay: Mapping[str, Any]) -> dict[str, str]:
    def at(path: Path) -> str:
        return f"{path[0]}[{path[1]}].{path[2]}" if len(path) == 3 else ".".join(path)

    return {at(path): text for path, text in translated_fields(overlay)}

"""Translations of articles, the only code that writes them: read, save and delete the overlay
that translates an article into one more locale. Saving an article keeps its stored translations
true to it (`cms.content`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from cms.content import SaveOutcome, locked_article, stored_article
from cms.db import ReadSession, WriteSession
from cms.documents import Location, TranslationDocument, field_path, translation_problems
from cms.errors import ContentProblem, InvalidContent, NotFound
from cms.models import ArticleTranslation, utc_now
from cms.outbox import EventType, record_event
from cms.reads import articles_by_slugs, translation_of, translations_by_article_ids

__all__ = [
    "delete_article_translation",
    "get_translation_documents",
    "save_article_translation",
]


async def get_translation_documents(
    session: ReadSession, *, slug: str
) -> list[TranslationDocument]:
    """Every translation of an article, by locale."""
    articles = await articles_by_slugs(session, [slug], include_drafts=True)
    if not articles or articles[0].id is None:
        return []
    rows = await translations_by_article_ids(session, [articles[0].id])
    return [
        TranslationDocument.of(translation_of=slug, locale=row.locale, overlay=row.document)
        for row in rows
    ]


async def save_article_translation(
    session: WriteSession,
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
    stored = await stored_article(session, document.translation_of)
    if stored is None:
        line = line_of(("translation_of",)) if line_of else None
        message = f"there is no article {document.translation_of!r} to translate"
        raise InvalidContent([ContentProblem(source, "translation_of", message, line)])
    article = stored.article
    assert article.id is not None
    problems = [
        ContentProblem(source, field_path(loc), msg, line_of(loc) if line_of else None)
        for loc, msg in translation_problems(document, stored.document)
    ]
    if problems:
        raise InvalidContent(problems)
    row = await translation_of(session, article_id=article.id, locale=document.locale)
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


async def delete_article_translation(session: WriteSession, *, slug: str, locale: str) -> None:
    article = await locked_article(session, slug)
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

"""Translations of articles, the only code that writes the live ones: read, save and delete
the overlay that translates an article into one more locale. Saving an article keeps its stored
translations true to it (`cms.content`); editors' edits of a published article's translations
wait in `cms.pending_translations` until the article is published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms.content import SaveOutcome, StoredArticle, locked_article, stored_article
from cms.content_model import item_kind
from cms.db import Database, ReadSession, WriteSession, as_database
from cms.documents import (
    ArticleDocument,
    Location,
    TranslationDocument,
    field_path,
    translation_problems,
)
from cms.errors import Conflict, ContentProblem, InvalidContent, NotFound
from cms.events import EventType
from cms.lint import Finding, Rule
from cms.locales import source_hash
from cms.models import (
    Article,
    ArticleTranslation,
    PendingTranslation,
    TranslationRevision,
    utc_now,
)
from cms.outbox import record_event
from cms.reads import (
    articles_by_slugs,
    every_article_slug,
    translation_of,
    translations_by_article_ids,
)

__all__ = [
    "check_translation_fits",
    "check_translation_version",
    "lint_stored_translations",
    "delete_article_translation",
    "get_translation_documents",
    "next_translation_version",
    "record_translation_revision",
    "remove_live_translation",
    "save_article_translation",
    "source_hashes",
    "source_text",
    "stale_fields",
    "stale_translations",
    "translated_article",
    "translated_fields",
    "write_live_translation",
]

Path = tuple[str, ...]


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
    expected_version: int | None = None,
    actor: str = "system",
    source: str = "",
    line_of: Callable[[Location], int | None] | None = None,
    now: datetime | None = None,
) -> SaveOutcome:
    """Make the stored (live) translation of the article `document.translation_of` into
    `document.locale` equal `document`, whatever the article's state: seed files do this;
    editors' saves go through `edit_article_translation`. Refused with `InvalidContent` (naming
    `source` and the lines `line_of` gives) when there is no such article, when the locale is
    the article's own, or when it translates items the article has not; with `Conflict` when
    `expected_version` is given and the translation is at another version (0: it must not
    exist yet).

    A change bumps the translation's version, records a `TranslationRevision` and an
    `article.updated` event carrying the locale. Each translated field keeps the hash of the
    source text it translates (kept from before when its translation did not change), so a read
    can tell when the source has changed since. The article's own version is left as it is."""
    stored = await translated_article(session, document, source, line_of)
    check_translation_fits(document, stored.document, source, line_of)
    return await _save_live(session, stored, document, expected_version, actor, now or utc_now())


async def translated_article(
    session: WriteSession,
    document: TranslationDocument,
    source: str = "",
    line_of: Callable[[Location], int | None] | None = None,
) -> StoredArticle:
    """The article `document` translates, locked; `InvalidContent` when there is none."""
    stored = await stored_article(session, document.translation_of)
    if stored is None:
        line = line_of(("translation_of",)) if line_of else None
        message = f"there is no article {document.translation_of!r} to translate"
        raise InvalidContent([ContentProblem(source, "translation_of", message, line)])
    return stored


def check_translation_fits(
    document: TranslationDocument,
    article: ArticleDocument,
    source: str = "",
    line_of: Callable[[Location], int | None] | None = None,
) -> None:
    problems = [
        ContentProblem(source, field_path(loc), msg, line_of(loc) if line_of else None)
        for loc, msg in translation_problems(document, article)
    ]
    if problems:
        raise InvalidContent(problems)


def check_translation_version(slug: str, locale: str, expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise Conflict(
            slug=slug, expected_version=expected, current_version=current,
            noun=f"the translation into {locale!r} of article",
        )  # fmt: skip


async def _save_live(
    session: WriteSession,
    stored: StoredArticle,
    document: TranslationDocument,
    expected_version: int | None,
    actor: str,
    now: datetime,
) -> SaveOutcome:
    article, locale = stored.article, document.locale
    assert article.id is not None
    row = await translation_of(session, article_id=article.id, locale=locale)
    current = row.version if row is not None else 0
    check_translation_version(document.translation_of, locale, expected_version, current)
    overlay = document.overlay()
    if row is not None and row.document == overlay:
        return SaveOutcome.UNCHANGED
    before = (row.document, row.source_hashes) if row is not None else None
    hashes = source_hashes(overlay, stored.document, before=before)
    return await write_live_translation(
        session, article=article, row=row, locale=locale, overlay=overlay, hashes=hashes,
        actor=actor, now=now,
    )  # fmt: skip


async def write_live_translation(
    session: WriteSession,
    *,
    article: Article,
    row: ArticleTranslation | None,
    locale: str,
    overlay: dict[str, Any],
    hashes: dict[str, str],
    actor: str,
    now: datetime,
) -> SaveOutcome:
    """Make the live translation into `locale` (`row`, None for none yet) `overlay`, as a new
    version with its revision and an event: the public reads it from now on."""
    assert article.id is not None
    version = await next_translation_version(session, article.id, locale, row)
    if row is None:
        row = ArticleTranslation(
            article_id=article.id, locale=locale, document=overlay, version=version,
            source_hashes=hashes, created_at=now, updated_at=now,
        )  # fmt: skip
        outcome = SaveOutcome.CREATED
    else:
        row.document, row.source_hashes, row.updated_at = overlay, hashes, now
        row.version = version
        outcome = SaveOutcome.UPDATED
    session.add(row)
    await record_translation_revision(session, row, outcome.value, actor, now)
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=now, locale=locale
    )
    await session.flush()
    return outcome


async def remove_live_translation(
    session: WriteSession, *, article: Article, row: ArticleTranslation, actor: str, now: datetime
) -> None:
    """Delete the live translation `row`, as a new version whose revision records it."""
    row.version = await next_translation_version(session, row.article_id, row.locale, row)
    await session.delete(row)
    await record_translation_revision(session, row, "deleted", actor, now)
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=now,
        locale=row.locale,
    )  # fmt: skip


async def next_translation_version(
    session: WriteSession, article_id: int, locale: str, row: ArticleTranslation | None
) -> int:
    """A version the translation into `locale` never had: every version handed out, live or
    pending, is recorded as a revision (a `row` from before revisions were kept has its own)."""
    statement = select(sa.func.max(col(TranslationRevision.version))).where(
        col(TranslationRevision.article_id) == article_id,
        col(TranslationRevision.locale) == locale,
    )
    last = int((await session.exec(statement)).first() or 0)
    return 1 + max(last, row.version if row is not None else 0)


async def record_translation_revision(
    session: WriteSession,
    row: ArticleTranslation | PendingTranslation,
    action: str,
    actor: str,
    now: datetime,
    *,
    document: dict[str, Any] | None = None,
) -> None:
    """A revision of `row` at its version, pending for a `PendingTranslation`; `document` for a
    pending deletion, whose row holds no overlay."""
    await session.exec(
        sa.insert(TranslationRevision).values(
            article_id=row.article_id, locale=row.locale, version=row.version, action=action,
            actor=actor, created_at=now, document=document or row.document or {},
            source_hashes=row.source_hashes, pending=isinstance(row, PendingTranslation),
        )
    )  # fmt: skip


def translated_fields(overlay: Mapping[str, Any], path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every translated text of an overlay with its path: `("benefits", "<slug>", "title")`."""
    for key, value in overlay.items():
        if isinstance(value, Mapping):
            yield from translated_fields(value, (*path, key))
        elif isinstance(value, str):
            yield (*path, key), value


def source_text(document: ArticleDocument, path: Path) -> str:
    """The text of the article that the field at `path` of a translation translates."""
    if len(path) == 1:
        return str(getattr(document, path[0]))
    if path[0] == "conclusion":
        return str(getattr(document.conclusion, path[1])) if document.conclusion else ""
    list_name, slug, name = path
    items = document.items(item_kind(list_name))
    return next((str(getattr(item, name)) for item in items if item.slug == slug), "")


def source_hashes(
    overlay: Mapping[str, Any],
    document: ArticleDocument,
    *,
    before: tuple[Mapping[str, Any], Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """The hash of the source text of every field of `overlay`. A field translated as it was
    `before` keeps the hash it had: it still translates the text it was made from."""
    old = dict(translated_fields(before[0])) if before else {}
    old_hashes = before[1] if before else {}
    hashes = {}
    for path, text in translated_fields(overlay):
        key = ".".join(path)
        if old.get(path) == text and key in old_hashes:
            hashes[key] = old_hashes[key]
        else:
            hashes[key] = source_hash(source_text(document, path))
    return hashes


async def delete_article_translation(
    session: WriteSession, *, slug: str, locale: str, actor: str = "system"
) -> None:
    """Delete a live translation at once (seed files, drafts); its revisions stay, the last one
    recording the deletion. Editors delete through `cms.pending_translations`."""
    article = await locked_article(session, slug)
    if article is None:
        raise NotFound(f"No article {slug!r}.")
    assert article.id is not None
    row = await translation_of(session, article_id=article.id, locale=locale)
    if row is None:
        raise NotFound(f"Article {slug!r} has no translation to {locale!r}.")
    await remove_live_translation(session, article=article, row=row, actor=actor, now=utc_now())


def stale_fields(translation: ArticleTranslation, document: ArticleDocument) -> list[str]:
    """The paths of the fields of a translation whose source text has changed since they were
    translated (a field with no hash kept is not reported: nothing is known of it)."""
    return [
        key
        for path, _ in translated_fields(translation.document)
        if (key := ".".join(path)) in translation.source_hashes
        and translation.source_hashes[key] != source_hash(source_text(document, path))
    ]


async def stale_translations(session: WriteSession) -> list[tuple[str, str, str]]:
    """Every stale translated field stored: (article slug, locale, field path), in order."""
    found: list[tuple[str, str, str]] = []
    for slug in await every_article_slug(session):
        stored = await stored_article(session, slug, lock=False)
        assert stored is not None and stored.article.id is not None
        for row in await translations_by_article_ids(session, [stored.article.id]):
            found.extend((slug, row.locale, key) for key in stale_fields(row, stored.document))
    return found


async def lint_stored_translations(database: Database | AsyncEngine) -> list[Finding]:
    """A warning for every stored translated field whose source text changed after it was
    translated, naming the article, the locale and the field."""
    async with as_database(database).write_session() as session:
        stale = await stale_translations(session)
    return [
        Finding(
            f"{slug} ({locale})", None, path, Rule.STALE_TRANSLATION,
            f"the {locale!r} translation of article {slug!r} translates an older text: the "
            "source has changed since; check the translation",
        )
        for slug, locale, path in stale
    ]  # fmt: skip

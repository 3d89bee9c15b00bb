"""Loading seed files into the database, all or nothing, and exporting articles (and their
translations, as `<slug>.<locale>.yaml`) back to files."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from cms import authors, content, reads
from cms.db import Database, WriteSession, as_database
from cms.documents import ArticleDocument, TranslationDocument
from cms.search_index import deferred_indexing
from cms.seed_files import (
    SeedFile,
    bundled_seed_dir,
    discover_seed_files,
    dump_document,
    read_seed_files,
)
from cms.translations import (
    delete_article_translation,
    get_translation_documents,
    save_article_translation,
)

__all__ = ["SeedReport", "export_articles", "seed_database", "seed_if_empty"]

Progress = Callable[[SeedFile], None]
# Seed files live in seed/ beside schema/ in a checkout; editors' tools resolve the modeline
# from there.
SCHEMA_REF = "../schema/seed.schema.json"
# Articles saved together (`cms.content.save_article_documents`): few statements each, and
# progress that moves.
_ARTICLES_PER_BATCH = 500


@dataclass
class SeedReport:
    outcomes: dict[Path, content.SaveOutcome] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    # Authors the seed created or changed, by slug, and the articles a change reached.
    authors: dict[str, content.SaveOutcome] = field(default_factory=dict)
    author_articles: dict[str, list[str]] = field(default_factory=dict)

    def author_lines(self) -> list[str]:
        """One line per author the seed created or changed."""
        lines = []
        for slug, outcome in self.authors.items():
            reached = self.author_articles.get(slug, [])
            also = f" (the byline of {', '.join(reached)})" if reached else ""
            lines.append(f"author {slug!r} {outcome.value}{also}")
        return lines

    def counts(self) -> Counter[str]:
        counts = Counter(outcome.value for outcome in self.outcomes.values())
        counts["deleted"] = len(self.deleted)
        return counts


async def seed_database(
    database: Database | AsyncEngine,
    paths: Sequence[Path],
    *,
    prune: bool = False,
    progress: Progress | None = None,
    inline: bool = False,
) -> SeedReport:
    """Validate every file first, then save all articles in one transaction: either every file
    lands or none does. Raises `InvalidContent` (nothing written) listing every problem. With
    `prune`, articles that no file holds are deleted, in the same transaction. `inline` is for
    commands: see `cms.db.Database.write_session`."""
    with _no_collections():
        seed_files = read_seed_files(discover_seed_files(paths))
    # The parsed files live until the end: the collector need not walk them again and again.
    gc.freeze()
    try:
        return await _seed_files(
            database, seed_files, prune=prune, progress=progress, inline=inline
        )
    finally:
        gc.unfreeze()


@contextmanager
def _no_collections() -> Iterator[None]:
    """Parsing makes no reference cycles, only very many objects, each batch of which would
    make the cyclic collector walk all made before (with the freeze after it: 46.6 s -> 33.8 s
    of CPU for seeding 10,000 files)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _seed_files(
    database: Database | AsyncEngine,
    seed_files: Sequence[SeedFile],
    *,
    prune: bool,
    progress: Progress | None,
    inline: bool,
) -> SeedReport:
    articles = [f for f in seed_files if isinstance(f.document, ArticleDocument)]
    translations = [f for f in seed_files if isinstance(f.document, TranslationDocument)]
    report = SeedReport()
    async with as_database(database).write_session(inline=inline) as session:
        await _seed_authors(session, articles, report)
        async with deferred_indexing(session):
            for start in range(0, len(articles), _ARTICLES_PER_BATCH):
                batch = articles[start : start + _ARTICLES_PER_BATCH]
                documents = [f.document for f in batch if isinstance(f.document, ArticleDocument)]
                outcomes = await content.save_article_documents(session, documents, actor="seed")
                for seed_file, outcome in zip(batch, outcomes, strict=True):
                    report.outcomes[seed_file.path] = outcome
                    if progress is not None:
                        progress(seed_file)
        # After every article: a translation may be of an article another file creates.
        for seed_file in translations:
            assert isinstance(seed_file.document, TranslationDocument)
            report.outcomes[seed_file.path] = await save_article_translation(
                session,
                seed_file.document,
                actor="seed",
                source=str(seed_file.path),
                line_of=seed_file.line_of,
            )
            if progress is not None:
                progress(seed_file)
        if prune:
            await _prune(session, seed_files, report)
    return report


async def _seed_authors(
    session: WriteSession, articles: Sequence[SeedFile], report: SeedReport
) -> None:
    """Create the authors the files define, and change the stored ones they define differently,
    through `cms.authors` (the files agree on each author: `cross_file_problems`)."""
    defined = {
        f.document.author.slug: f.document.author
        for f in articles
        if isinstance(f.document, ArticleDocument)
    }
    for slug, document in defined.items():
        stored = await authors.get_author(session, slug)
        if stored is None:
            await authors.create_author(session, document)
            report.authors[slug] = content.SaveOutcome.CREATED
        elif authors.author_document(stored) != document:
            update = await authors.update_author(
                session, document, expected_version=None, actor="seed"
            )
            report.authors[slug] = content.SaveOutcome.UPDATED
            report.author_articles[slug] = [article.slug for article in update.articles]


async def _prune(session: WriteSession, seed_files: Sequence[SeedFile], report: SeedReport) -> None:
    kept: set[str] = set()
    kept_translations: set[tuple[str, str]] = set()
    for seed_file in seed_files:
        document = seed_file.document
        if isinstance(document, TranslationDocument):
            kept_translations.add((document.translation_of, document.locale))
        else:
            kept.add(document.slug)
    stored = await reads.every_article_slug(session)
    for slug in stored:
        if slug not in kept:
            await content.delete_article(session, slug=slug)
            report.deleted.append(slug)
            continue
        for translation in await get_translation_documents(session, slug=slug):
            if (slug, translation.locale) not in kept_translations:
                await delete_article_translation(session, slug=slug, locale=translation.locale)
                report.deleted.append(f"{slug}.{translation.locale}")


async def seed_if_empty(
    database: Database | AsyncEngine, seed_dir: Path | None
) -> SeedReport | None:
    """Load the seed content only into a database with no article: a restart never overwrites
    what editors have changed since. The schema must exist (`cms.migrate.ensure_schema`)."""
    database = as_database(database)
    async with database.write_session() as session:
        if await reads.has_articles(session):
            return None
    return await seed_database(database, [seed_dir or bundled_seed_dir()])


async def export_articles(database: Database | AsyncEngine, out_dir: Path) -> list[Path]:
    """Write every article to `<out_dir>/<slug>.yaml` and every translation of it to
    `<out_dir>/<slug>.<locale>.yaml`, in the canonical seed layout."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    async with as_database(database).write_session() as session:
        slugs = await reads.every_article_slug(session)
        for slug in slugs:
            document = await content.get_article_document(session, slug=slug)
            assert document is not None
            path = out_dir / f"{slug}.yaml"
            path.write_text(dump_document(document, schema_ref=SCHEMA_REF), "utf-8")
            written.append(path)
            for translation in await get_translation_documents(session, slug=slug):
                path = out_dir / f"{slug}.{translation.locale}.yaml"
                path.write_text(dump_document(translation, schema_ref=SCHEMA_REF), "utf-8")
                written.append(path)
    return written

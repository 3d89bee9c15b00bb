"""Loading seed files into the database, all or nothing, and exporting articles back to files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms import content
from cms.db import session_scope
from cms.models import Article
from cms.search_index import deferred_indexing
from cms.seed_files import (
    SeedFile,
    bundled_seed_dir,
    discover_seed_files,
    dump_document,
    read_seed_files,
)

__all__ = ["SeedReport", "export_articles", "seed_database", "seed_if_empty"]

Progress = Callable[[SeedFile], None]
# Seed files live in seed/ beside schema/ in a checkout; editors' tools resolve the modeline
# from there.
SCHEMA_REF = "../schema/seed.schema.json"


@dataclass
class SeedReport:
    outcomes: dict[Path, content.SaveOutcome] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        counts = Counter(outcome.value for outcome in self.outcomes.values())
        counts["deleted"] = len(self.deleted)
        return counts


async def seed_database(
    engine: AsyncEngine,
    paths: Sequence[Path],
    *,
    prune: bool = False,
    progress: Progress | None = None,
    inline: bool = False,
) -> SeedReport:
    """Validate every file first, then save all articles in one transaction: either every file
    lands or none does. Raises `InvalidContent` (nothing written) listing every problem. With
    `prune`, articles that no file holds are deleted, in the same transaction. `inline` is for
    commands: see `cms.db.session_scope`."""
    seed_files = read_seed_files(discover_seed_files(paths))
    report = SeedReport()
    async with session_scope(engine, inline=inline) as session:
        async with deferred_indexing(session):
            for seed_file in seed_files:
                report.outcomes[seed_file.path] = await content.save_article_document(
                    session, seed_file.document, actor="seed"
                )
                if progress is not None:
                    progress(seed_file)
        if prune:
            kept = {seed_file.document.slug for seed_file in seed_files}
            stored = (await session.exec(select(Article.slug).order_by(col(Article.slug)))).all()
            for slug in stored:
                if slug not in kept:
                    await content.delete_article(session, slug=slug)
                    report.deleted.append(slug)
    return report


async def seed_if_empty(engine: AsyncEngine, seed_dir: Path | None) -> SeedReport | None:
    """Load the seed content only into a database with no article: a restart never overwrites
    what editors have changed since. The schema must exist (`cms.migrate.ensure_schema`)."""
    async with session_scope(engine) as session:
        if await content.has_articles(session):
            return None
    return await seed_database(engine, [seed_dir or bundled_seed_dir()])


async def export_articles(engine: AsyncEngine, out_dir: Path) -> list[Path]:
    """Write every article to `<out_dir>/<slug>.yaml` in the canonical seed layout."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    async with session_scope(engine) as session:
        slugs = (await session.exec(select(Article.slug).order_by(col(Article.slug)))).all()
        for slug in slugs:
            document = await content.get_article_document(session, slug=slug)
            assert document is not None
            path = out_dir / f"{slug}.yaml"
            path.write_text(dump_document(document, schema_ref=SCHEMA_REF), "utf-8")
            written.append(path)
    return written

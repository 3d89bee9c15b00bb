"""Alembic owns the schema: migrations build exactly the models' schema and keep content."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col, select

from cms import content, migrate, models, reads, reviews, search, translations, workflow
from cms.db import create_engine, session_scope
from cms.documents import ArticleDocument
from cms.models import utc_now
from cms.search_index import search_rows
from cms.seed import seed_database
from cms.settings import Settings
from tests.conftest import SEED_DIR
from tests.documents import article_document

pytestmark = pytest.mark.anyio


@pytest.fixture
async def empty_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _schema_differences(engine: AsyncEngine) -> list[Any]:
    def compare(connection: sa.Connection) -> list[Any]:
        options = {"compare_type": True, "include_name": models.is_schema_object}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, SQLModel.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def test_migrations_build_exactly_the_models_schema(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)
    assert await migrate.current_revision(empty_engine) == migrate.head_revision()
    assert await _schema_differences(empty_engine) == []


async def _content_at_baseline(engine: AsyncEngine) -> ArticleDocument | None:
    """Content as a baseline database holds it; returns the article as stored. Today's code
    writes today's schema (the outbox has gained a column since), so it seeds at head and steps
    the schema back. Tags came later (0007): the baseline cannot hold them."""
    await migrate.upgrade(engine)
    await seed_database(engine, [SEED_DIR])
    async with session_scope(engine) as session:
        stored = await content.get_article_document(session, slug="back-walk")
    await migrate.downgrade(engine, migrate.BASELINE)
    if stored is None:
        return None
    benefits = [benefit.model_copy(update={"tags": []}) for benefit in stored.benefits]
    return stored.model_copy(update={"tags": [], "benefits": benefits})


async def test_upgrading_backfills_the_search_index_as_writes_fill_it(
    empty_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])
    await migrate.downgrade(empty_engine, "0005")
    await migrate.upgrade(empty_engine)
    async with session_scope(empty_engine) as session:
        document = await content.get_article_document(session, slug="back-walk")
        stored = (
            await session.exec(
                select(models.SearchDocument).order_by(col(models.SearchDocument.id))
            )
        ).all()
        hits = await search.search_page(
            session, ["lymphatic"], after=None, limit=10, include_drafts=False
        )
    assert document is not None
    expected = [
        (row["part"], row["slug"], row["title"], row["body"], row["is_draft"])
        for row in search_rows(document)
    ]
    assert [(r.part, r.slug, r.title, r.body, r.is_draft) for r in stored] == expected
    assert [hit.article.slug for hit in hits] == ["back-walk"]


async def test_a_database_made_before_migrations_is_adopted(empty_engine: AsyncEngine) -> None:
    """Before migrations, `cms serve` made the baseline schema itself, with no version table."""
    await _content_at_baseline(empty_engine)
    async with empty_engine.begin() as connection:
        await connection.execute(sa.text("DROP TABLE alembic_version"))
    await migrate.upgrade(empty_engine)
    assert await migrate.pending_revisions(empty_engine) == []
    async with session_scope(empty_engine) as session:
        assert await reads.has_articles(session)


async def test_pending_migrations_are_refused_when_auto_migrate_is_off(
    empty_engine: AsyncEngine,
) -> None:
    with pytest.raises(migrate.SchemaOutdated) as raised:
        await migrate.ensure_schema(empty_engine, auto_migrate=False)
    assert "Run `cms db upgrade`" in raised.value.message
    assert await migrate.current_revision(empty_engine) is None


async def test_ensure_schema_applies_what_is_pending_once(empty_engine: AsyncEngine) -> None:
    pending = await migrate.pending_revisions(empty_engine)
    assert pending[0] == migrate.BASELINE and pending[-1] == migrate.head_revision()
    assert await migrate.ensure_schema(empty_engine, auto_migrate=True) == pending
    assert await migrate.ensure_schema(empty_engine, auto_migrate=False) == []


async def test_a_current_database_is_recognised_without_alembic(
    empty_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every `cms` command checks the schema first: when it is current, Alembic (a quarter of a
    second to import) is not needed. One migration behind, the migration is pending as before."""
    await migrate.upgrade(empty_engine)
    with monkeypatch.context() as patched:
        for name in [name for name in sys.modules if name.split(".")[0] == "alembic"]:
            patched.setitem(sys.modules, name, None)  # importing it fails
        assert await migrate.ensure_schema(empty_engine, auto_migrate=False) == []
    head = migrate.head_revision()
    await migrate.downgrade(empty_engine, "-1")
    with pytest.raises(migrate.SchemaOutdated):
        await migrate.ensure_schema(empty_engine, auto_migrate=False)
    assert await migrate.ensure_schema(empty_engine, auto_migrate=True) == [head]


async def test_upgrading_to_the_seo_fields_keeps_articles_with_empty_ones(
    empty_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])
    async with session_scope(empty_engine) as session:
        before = await content.get_article_document(session, slug="back-walk")
    await migrate.downgrade(empty_engine, "0009")
    await migrate.upgrade(empty_engine)
    async with session_scope(empty_engine) as session:
        after = await content.get_article_document(session, slug="back-walk")
    assert before is not None and after == before
    assert (after.meta_title, after.meta_description) == ("", "")


async def _set_free_text_review(
    engine: AsyncEngine, slug: str, reviewed_by: str, last_reviewed: str | None
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE article SET reviewed_by = :by, last_reviewed = :on WHERE slug = :slug"),
            {"by": reviewed_by, "on": last_reviewed, "slug": slug},
        )


async def test_upgrading_moves_free_text_reviews_to_reviewers_without_inventing_any(
    empty_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])
    async with session_scope(empty_engine) as session:
        for slug in ("unchanged", "edited", "undated"):
            await content.save_article_document(
                session, article_document(slug=slug, author_slug="penci")
            )
    await migrate.downgrade(empty_engine, "0009")
    today = utc_now().date()
    await _set_free_text_review(empty_engine, "unchanged", "Dr. Ada Example, MD", str(today))
    await _set_free_text_review(empty_engine, "edited", "Dr. Ada Example, MD", "2020-01-01")
    await _set_free_text_review(empty_engine, "undated", "Sam Lee", None)
    await migrate.upgrade(empty_engine)
    slugs = ["back-walk", "unchanged", "edited", "undated"]
    async with session_scope(empty_engine) as session:
        by_slug = select(models.Reviewer).order_by(col(models.Reviewer.slug))
        reviewers = (await session.exec(by_slug)).all()
        rows = await reads.articles_by_slugs(session, slugs, include_drafts=True)
        articles = {a.slug: a for a in rows}
        found = await reviews.reviews_by_article_ids(
            session, [a.id for a in rows if a.id is not None]
        )
        documents = {slug: await content.get_article_document(session, slug=slug) for slug in slugs}
    assert [(r.slug, r.name, r.credentials) for r in reviewers] == [
        ("dr-ada-example", "Dr. Ada Example", "MD"),
        ("sam-lee", "Sam Lee", ""),
    ]
    for slug, article in articles.items():
        document = documents[slug]
        assert document is not None
        assert article.content_hash == reviews.reviewable_hash(document)
    status = {
        slug: reviews.status_of(found.get(a.id), a.content_hash, today)  # type: ignore[arg-type]
        for slug, a in articles.items()
    }
    assert status == {
        "back-walk": reviews.ReviewStatus.NEVER,  # the seed names no reviewer: none is invented
        "unchanged": reviews.ReviewStatus.CURRENT,
        "edited": reviews.ReviewStatus.CHANGED_SINCE_REVIEW,
        "undated": reviews.ReviewStatus.NEVER,
    }


async def test_upgrading_to_working_copies_keeps_content_and_announces_no_past_go_live(
    empty_engine: AsyncEngine,
) -> None:
    """0010 adds pending versions and expiry; a scheduled publication that came due before it
    (which nothing announced then) is marked announced rather than announced late."""
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])
    now = models.utc_now()
    async with session_scope(empty_engine) as session:
        await session.exec(
            sa.update(models.Article).values(
                published_at=now - timedelta(minutes=1), updated_at=now - timedelta(minutes=2)
            )
        )
        before = await content.get_article_document(session, slug="back-walk")
    await migrate.downgrade(empty_engine, "0009")
    await migrate.upgrade(empty_engine)
    assert await _schema_differences(empty_engine) == []
    async with session_scope(empty_engine) as session:
        after = await content.get_article_document(session, slug="back-walk")
        article = (await session.exec(select(models.Article))).one()
        assert await workflow.apply_due(session, now=models.utc_now()) == 0
    assert after == before
    assert (article.updated_at, article.unpublish_at) == (article.published_at, None)


async def test_upgrading_to_0011_keeps_content_and_hashes_the_translated_sources(
    empty_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])
    async with session_scope(empty_engine) as session:
        before = await content.get_article_document(session, slug="back-walk")
        hashes = (await session.exec(select(models.ArticleTranslation.source_hashes))).one()
    await migrate.downgrade(empty_engine, "0009")
    await migrate.upgrade(empty_engine)
    async with session_scope(empty_engine) as session:
        assert await content.get_article_document(session, slug="back-walk") == before
        author = (await session.exec(select(models.Author))).one()
        translation = (await session.exec(select(models.ArticleTranslation))).one()
    assert author.version == 1
    assert translation.version == 1
    # The same hashes as a save computes, so that no translation reads as stale.
    assert translation.source_hashes == hashes
    assert len(hashes) > 10
    assert await translations.lint_stored_translations(empty_engine) == []


async def test_upgrading_to_pending_translations_keeps_translations_and_their_history(
    empty_engine: AsyncEngine,
) -> None:
    """0014 adds pending translations: every existing translation stays live as it was, and its
    revisions read as live saves."""
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])

    async def stored() -> tuple[list[Any], list[Any]]:
        async with session_scope(empty_engine) as session:
            rows = (await session.exec(select(models.ArticleTranslation))).all()
            history = (await session.exec(select(models.TranslationRevision))).all()
        translations = [(r.locale, r.document, r.version, r.source_hashes) for r in rows]
        return translations, [(r.locale, r.version, r.action, r.document) for r in history]

    before = await stored()
    assert before[0] and before[1]
    await migrate.downgrade(empty_engine, "0013")
    await migrate.upgrade(empty_engine)
    assert await stored() == before
    async with session_scope(empty_engine) as session:
        revisions = (await session.exec(select(models.TranslationRevision))).all()
        assert {revision.pending for revision in revisions} == {False}
        assert (await session.exec(select(models.PendingTranslation))).all() == []


async def test_upgrading_to_0015_indexes_the_stored_pending_versions_for_editors(
    empty_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(empty_engine)
    await seed_database(empty_engine, [SEED_DIR])

    def calm(document: ArticleDocument) -> ArticleDocument:
        return document.model_copy(update={"title": "Serenity on foot"})

    async with session_scope(empty_engine) as session:
        await content.edit_article_document(
            session, slug="back-walk", expected_version=1, change=calm, actor="test"
        )
    await migrate.downgrade(empty_engine, "0014")
    await migrate.upgrade(empty_engine)
    assert await _schema_differences(empty_engine) == []
    async with session_scope(empty_engine) as session:
        stored = (
            await session.exec(
                select(models.PendingSearchDocument).order_by(col(models.PendingSearchDocument.id))
            )
        ).all()
        found = {
            include_drafts: await search.search_page(
                session, ["serenity"], after=None, limit=10, include_drafts=include_drafts
            )
            for include_drafts in (False, True)
        }
    document = calm(await _live_document(empty_engine))
    assert [(r.part, r.slug, r.title, r.body) for r in stored] == [
        (row["part"], row["slug"], row["title"], row["body"]) for row in search_rows(document)
    ]
    assert found[False] == []
    assert [(hit.article.slug, hit.pending) for hit in found[True]] == [("back-walk", True)]


async def _live_document(engine: AsyncEngine) -> ArticleDocument:
    async with session_scope(engine) as session:
        document = await content.get_article_document(session, slug="back-walk")
    assert document is not None
    return document

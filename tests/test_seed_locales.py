"""Translation seed files: validated against their article, seeded all or nothing with the rest,
exported back byte for byte, pruned with `prune`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from cms import reads
from cms.db import session_scope
from cms.documents import TranslationDocument
from cms.errors import InvalidContent
from cms.models import Article, ArticleTranslation
from cms.outbox import content_revision
from cms.seed import export_articles, seed_database
from cms.seed_files import read_seed_files

pytestmark = pytest.mark.anyio

ARTICLE = """\
# yaml-language-server: $schema=../schema/seed.schema.json
slug: tiny
title: Tiny
status: published
published_at: 2026-11-25T00:00:00Z
author:
  slug: penci
  name: Penci
benefits:
  - slug: calm
    title: Calm
    body: |
      Calms you.
precautions:
  - slug: care
    title: Care
    body: |
      Take care.
"""

GERMAN = """\
# yaml-language-server: $schema=../schema/seed.schema.json
translation_of: tiny
locale: de
title: Winzig
benefits:
  calm:
    title: Ruhe
    body: |
      Beruhigt dich.
"""


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, "utf-8")
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(InvalidContent) as raised:
        read_seed_files(sorted(folder.glob("*.yaml")))
    return [str(problem) for problem in raised.value.problems]


def test_a_translation_file_reads_into_a_translation_document(tmp_path: Path) -> None:
    folder = _write(tmp_path, tiny=ARTICLE, **{"tiny.de": GERMAN})
    german, article = read_seed_files(sorted(folder.glob("*.yaml")))
    assert german.document == TranslationDocument(
        translation_of="tiny",
        locale="de",
        title="Winzig",
        benefits={"calm": {"title": "Ruhe", "body": "Beruhigt dich."}},  # type: ignore[dict-item]
    )


def test_an_unknown_slug_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    folder = _write(
        tmp_path, tiny=ARTICLE, **{"tiny.de": GERMAN + "precautions:\n  carefull:\n    title: X\n"}
    )
    assert _problems(folder) == [
        f"{folder / 'tiny.de.yaml'}:11: precautions.carefull: 'tiny' has no precautions item "
        "'carefull'"
    ]


def test_a_malformed_locale_is_reported(tmp_path: Path) -> None:
    folder = _write(tmp_path, **{"tiny.de": GERMAN.replace("locale: de", "locale: de_at")})
    assert _problems(folder) == [
        f"{folder / 'tiny.de.yaml'}:3: locale: not a locale: expected a BCP 47 tag in "
        "canonical case, e.g. `de` or `de-AT`"
    ]


def test_a_translation_into_the_articles_own_locale_is_refused(tmp_path: Path) -> None:
    folder = _write(
        tmp_path, tiny=ARTICLE, **{"tiny.en": GERMAN.replace("locale: de", "locale: en")}
    )
    assert _problems(folder) == [
        f"{folder / 'tiny.en.yaml'}:3: locale: 'tiny' is written in 'en': a translation needs "
        "another locale"
    ]


def test_two_files_translating_an_article_into_one_locale_are_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path, tiny=ARTICLE, **{"tiny.de": GERMAN, "tiny.de2": GERMAN})
    assert _problems(folder) == [
        f"{folder / 'tiny.de2.yaml'}:3: locale: 'tiny' is also translated to 'de' by "
        f"{folder / 'tiny.de.yaml'}"
    ]


def test_an_item_that_translates_nothing_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path, **{"tiny.de": GERMAN + "precautions:\n  care: {}\n"})
    assert _problems(folder) == [
        f"{folder / 'tiny.de.yaml'}:11: precautions.care: translates nothing: give at least one "
        "of its fields"
    ]


async def test_a_translation_of_a_missing_article_writes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = _write(tmp_path, tiny=ARTICLE, **{"other.de": GERMAN.replace("of: tiny", "of: other")})
    with pytest.raises(InvalidContent) as raised:
        await seed_database(engine, [folder])
    assert [str(p) for p in raised.value.problems] == [
        f"{folder / 'other.de.yaml'}:2: translation_of: there is no article 'other' to translate"
    ]
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Article))).one() == 0


async def test_a_translation_is_checked_against_the_stored_article(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed_database(engine, [_write(tmp_path / "a", tiny=ARTICLE)])
    bad = _write(tmp_path / "b", **{"tiny.de": GERMAN.replace("  calm:", "  calmer:")})
    with pytest.raises(InvalidContent) as raised:
        await seed_database(engine, [bad])
    assert [str(p) for p in raised.value.problems] == [
        f"{bad / 'tiny.de.yaml'}:6: benefits.calmer: 'tiny' has no benefits item 'calmer'"
    ]
    good = _write(tmp_path / "c", **{"tiny.de": GERMAN})
    report = await seed_database(engine, [good])
    assert [outcome.value for outcome in report.outcomes.values()] == ["created"]


async def test_a_translation_round_trips_byte_for_byte_and_seeds_idempotently(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "seed", tiny=ARTICLE, **{"tiny.de": GERMAN})
    first = await seed_database(engine, [folder])
    assert sorted(o.value for o in first.outcomes.values()) == ["created", "created"]
    second = await seed_database(engine, [folder])
    assert sorted(o.value for o in second.outcomes.values()) == ["unchanged", "unchanged"]
    written = await export_articles(engine, tmp_path / "export")
    assert [path.name for path in written] == ["tiny.yaml", "tiny.de.yaml"]
    for path in written:
        assert path.read_text("utf-8") == (folder / path.name).read_text("utf-8")


async def test_editing_a_translation_updates_it_and_bumps_the_content_revision(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = _write(tmp_path, tiny=ARTICLE, **{"tiny.de": GERMAN})
    await seed_database(engine, [folder])
    async with session_scope(engine) as session:
        revision = await content_revision(session)
    (folder / "tiny.de.yaml").write_text(GERMAN.replace("title: Ruhe", "title: Gelassenheit"))
    report = await seed_database(engine, [folder])
    assert [o.value for o in report.outcomes.values()] == ["unchanged", "updated"]
    async with session_scope(engine) as session:
        assert await content_revision(session) == revision + 1
        (row,) = (await session.exec(select(ArticleTranslation))).all()
        (article,) = await reads.articles_by_slugs(session, ["tiny"], include_drafts=True)
    assert row.document["benefits"] == {"calm": {"title": "Gelassenheit", "body": "Beruhigt dich."}}
    assert article.version == 1  # the article itself did not change


async def test_prune_deletes_a_translation_no_file_holds(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    folder = _write(tmp_path, tiny=ARTICLE, **{"tiny.de": GERMAN})
    await seed_database(engine, [folder])
    (folder / "tiny.de.yaml").unlink()
    assert (await seed_database(engine, [folder])).deleted == []
    assert (await seed_database(engine, [folder], prune=True)).deleted == ["tiny.de"]
    async with session_scope(engine) as session:
        assert (await session.exec(select(ArticleTranslation))).all() == []

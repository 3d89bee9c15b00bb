"""An article's expiry (`unpublish_at`) in seed files: validated against its publication,
applied by seeding, written by export, so that export -> seed changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.errors import InvalidContent
from cms.seed import export_articles, seed_database
from tests.conftest import SEED_DIR, GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

PUBLISHED = "published_at: 2026-11-25T00:00:00Z\n"
EXPIRY = '{ article(slug: "back-walk") { version unpublishAt } }'


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped seed files that a test may edit."""
    copy = tmp_path / "seed"
    shutil.copytree(SEED_DIR, copy)
    return copy


def _set(seed_dir: Path, old: str, new: str) -> Path:
    path = seed_dir / "back-walk.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


async def _expiry(graphql: GraphQL, token: str | None = None) -> object:
    body = await graphql(EXPIRY, token=token)
    assert "errors" not in body, body
    return body["data"]["article"]


async def test_an_expiry_in_a_seed_file_is_applied_and_exported_as_written(
    engine: AsyncEngine, seed_dir: Path, tmp_path: Path, graphql: GraphQL
) -> None:
    path = _set(seed_dir, PUBLISHED, PUBLISHED + "unpublish_at: 2099-06-01T08:00:00Z\n")
    await seed_database(engine, [seed_dir])
    assert await _expiry(graphql) == {"version": 1, "unpublishAt": "2099-06-01T08:00:00+00:00"}
    written = await export_articles(engine, tmp_path / "export")
    assert written[0].read_bytes() == path.read_bytes()
    report = await seed_database(engine, [tmp_path / "export"])
    assert {outcome.value for outcome in report.outcomes.values()} == {"unchanged"}


async def test_an_expired_article_from_a_seed_file_is_hidden_from_the_public(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL, make_token: TokenFactory
) -> None:
    _set(seed_dir, PUBLISHED, PUBLISHED + "unpublish_at: 2026-11-26T00:00:00+01:00\n")
    await seed_database(engine, [seed_dir])
    assert await _expiry(graphql) is None
    editor = await make_token(Scope.READ_DRAFTS)
    assert await _expiry(graphql, editor) == {
        "version": 1,
        "unpublishAt": "2026-11-25T23:00:00+00:00",
    }


async def test_an_expiry_left_out_of_the_file_is_cleared_by_seeding(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    """The file says what the article is: without `unpublish_at` it never expires."""
    _set(seed_dir, PUBLISHED, PUBLISHED + "unpublish_at: 2099-06-01T08:00:00Z\n")
    await seed_database(engine, [seed_dir])
    _set(seed_dir, "unpublish_at: 2099-06-01T08:00:00Z\n", "")
    report = await seed_database(engine, [seed_dir])
    assert [outcome.value for outcome in report.outcomes.values()] == ["updated", "unchanged"]
    assert await _expiry(graphql) == {"version": 2, "unpublishAt": None}


async def test_an_expiry_set_by_a_publisher_survives_export_and_seed(
    seeded: AsyncEngine, tmp_path: Path, graphql: GraphQL, make_token: TokenFactory
) -> None:
    publisher = await make_token(Scope.PUBLISH)
    publish = """mutation {
      articlePublish(slug: "back-walk", expectedVersion: 1, unpublishAt: "2099-01-01T00:00:00Z") {
        errors { message }
      }
    }"""
    assert (await graphql(publish, token=publisher))["data"]["articlePublish"]["errors"] == []
    written = await export_articles(seeded, tmp_path / "export")
    assert "\nunpublish_at: 2099-01-01T00:00:00Z\n" in written[0].read_text("utf-8")
    report = await seed_database(seeded, [tmp_path / "export"])
    assert {outcome.value for outcome in report.outcomes.values()} == {"unchanged"}
    assert await _expiry(graphql) == {"version": 2, "unpublishAt": "2099-01-01T00:00:00+00:00"}


@pytest.mark.parametrize(
    ("published", "message"),
    [
        (PUBLISHED, "must come after `published_at`"),
        ("", "needs `published_at`: an expiry ends a publication"),
    ],
)
async def test_an_expiry_not_after_the_publication_is_refused_naming_file_line_and_field(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL, published: str, message: str
) -> None:
    path = _set(seed_dir, PUBLISHED, published + "unpublish_at: 2026-11-25T00:00:00Z\n")
    line = path.read_text("utf-8").splitlines().index("unpublish_at: 2026-11-25T00:00:00Z") + 1
    with pytest.raises(InvalidContent) as raised:
        await seed_database(engine, [seed_dir])
    assert [(p.file, p.line, p.field, p.message) for p in raised.value.problems] == [
        (str(path), line, "unpublish_at", message)
    ]
    assert await _expiry(graphql) is None  # nothing was written

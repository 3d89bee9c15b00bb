"""Seeding the database: upsert by slug in one transaction, idempotent, all or nothing; export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms import reads
from cms.access import Scope
from cms.content import SaveOutcome
from cms.db import session_scope
from cms.errors import InvalidContent
from cms.models import Article, ArticleReview, Benefit, OutboxEvent, Reviewer, Revision
from cms.seed import SeedReport, export_articles, seed_database, seed_if_empty
from tests.conftest import SEED_DIR, GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

BENEFITS = '{ article(slug: "back-walk") { version benefits { id slug body } } }'


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped seed files that a test may edit."""
    copy = tmp_path / "seed"
    shutil.copytree(SEED_DIR, copy)
    return copy


def _edit(seed_dir: Path, old: str, new: str) -> None:
    path = seed_dir / "back-walk.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


async def _outcomes(report: SeedReport) -> list[str]:
    return [outcome.value for outcome in report.outcomes.values()]


async def test_seeding_twice_changes_nothing(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    assert await _outcomes(await seed_database(engine, [seed_dir])) == ["created", "created"]
    before = await graphql(BENEFITS)
    assert await _outcomes(await seed_database(engine, [seed_dir])) == ["unchanged", "unchanged"]
    assert await graphql(BENEFITS) == before


async def test_editing_a_body_updates_exactly_that_benefit(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    await seed_database(engine, [seed_dir])
    before = (await graphql(BENEFITS))["data"]["article"]
    _edit(
        seed_dir, "Regular back walking sessions can", "Regular, gentle back walking sessions can"
    )
    assert await _outcomes(await seed_database(engine, [seed_dir])) == ["updated", "unchanged"]
    after = (await graphql(BENEFITS))["data"]["article"]
    assert after["version"] == before["version"] + 1
    changed = [
        (old["slug"], new["body"].startswith("Regular, gentle"))
        for old, new in zip(before["benefits"], after["benefits"], strict=True)
        if old != new
    ]
    assert changed == [("increased-flexibility", True)]


async def test_removing_a_benefit_from_the_file_removes_it(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    await seed_database(engine, [seed_dir])
    path = seed_dir / "back-walk.yaml"
    text = path.read_text("utf-8")
    detox = text[text.index("  - slug: detoxification") : text.index("  - slug: increased-flex")]
    path.write_text(text.replace(detox, ""), "utf-8")
    (seed_dir / "back-walk.de.yaml").unlink()  # it translates the benefit (see test_seed_locales)
    await seed_database(engine, [seed_dir])
    slugs = [b["slug"] for b in (await graphql(BENEFITS))["data"]["article"]["benefits"]]
    assert "detoxification" not in slugs
    assert len(slugs) == 6


async def test_reordering_benefits_keeps_their_ids(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    await seed_database(engine, [seed_dir])
    before = {b["slug"]: b["id"] for b in (await graphql(BENEFITS))["data"]["article"]["benefits"]}
    path = seed_dir / "back-walk.yaml"
    text = path.read_text("utf-8")
    stress = text[text.index("  - slug: stress-relief") : text.index("  - slug: pain-management")]
    text = (
        text.replace(stress, "")
        .replace("nutrition_tips:\n", "")
        .replace("  - slug: emotional-release", stress + "  - slug: emotional-release")
    )
    path.write_text(
        text.replace("  - slug: balanced-diet", "nutrition_tips:\n  - slug: balanced-diet")
    )
    await seed_database(engine, [seed_dir])
    after = (await graphql(BENEFITS))["data"]["article"]["benefits"]
    assert [b["slug"] for b in after][-2:] == ["stress-relief", "emotional-release"]
    assert {b["slug"]: b["id"] for b in after} == before


async def test_an_invalid_file_writes_nothing_even_beside_valid_ones(
    engine: AsyncEngine, seed_dir: Path, tmp_path: Path
) -> None:
    (seed_dir / "broken.yaml").write_text("slug: broken\ntitle: Broken\n")
    with pytest.raises(InvalidContent) as raised:
        await seed_database(engine, [seed_dir])
    assert [(Path(p.file).name, p.field) for p in raised.value.problems] == [
        ("broken.yaml", "author")
    ]
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Article))).one() == 0


async def test_a_failure_while_writing_rolls_back_every_file(
    engine: AsyncEngine, seed_dir: Path
) -> None:
    """The first article is written, then the process fails: the first is undone too."""
    second = (seed_dir / "back-walk.yaml").read_text("utf-8").replace("slug: back-walk", "slug: z")
    (seed_dir / "z.yaml").write_text(second)

    def fail_after_first_file(seed_file: object) -> None:
        raise RuntimeError("the process died mid-way")

    with pytest.raises(RuntimeError):
        await seed_database(engine, [seed_dir], progress=fail_after_first_file)
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Article))).one() == 0


async def test_seed_if_empty_never_overwrites_edited_content(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    assert await seed_if_empty(engine, seed_dir) is not None
    _edit(seed_dir, "Regular back walking sessions can", "Edited in the database")
    await seed_database(engine, [seed_dir])
    shutil.copytree(SEED_DIR, seed_dir, dirs_exist_ok=True)
    assert await seed_if_empty(engine, seed_dir) is None
    bodies = [b["body"] for b in (await graphql(BENEFITS))["data"]["article"]["benefits"]]
    assert any(body.startswith("Edited in the database") for body in bodies)


async def test_export_reproduces_the_seed_files_byte_for_byte(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed_database(engine, [SEED_DIR])
    written = await export_articles(engine, tmp_path / "export")
    assert [path.name for path in written] == ["back-walk.yaml", "back-walk.de.yaml"]
    for path in written:
        assert path.read_bytes() == (SEED_DIR / path.name).read_bytes()


async def test_database_constraints_hold_without_python(engine: AsyncEngine) -> None:
    """Unique slugs per article are enforced by the database itself."""
    await seed_database(engine, [SEED_DIR])
    from sqlalchemy.exc import IntegrityError

    async with session_scope(engine) as session:
        (article,) = await reads.articles_by_slugs(session, ["back-walk"], include_drafts=True)
    with pytest.raises(IntegrityError):
        async with session_scope(engine) as session:
            session.add(
                Benefit(article_id=article.id, position=99, slug="stress-relief", title="Dup")
            )


async def test_prune_deletes_articles_no_file_holds_and_only_then(
    engine: AsyncEngine, seed_dir: Path
) -> None:
    extra = seed_dir / "extra.yaml"
    extra.write_text(
        (seed_dir / "back-walk.yaml").read_text("utf-8").replace("slug: back-walk", "slug: extra")
    )
    await seed_database(engine, [seed_dir])
    extra.unlink()
    assert (await seed_database(engine, [seed_dir])).deleted == []
    report = await seed_database(engine, [seed_dir], prune=True)
    assert report.deleted == ["extra"]
    assert report.counts()["unchanged"] == 2
    async with session_scope(engine) as session:
        slugs = [
            a.slug
            for a in await reads.articles_by_slugs(
                session, ["back-walk", "extra"], include_drafts=True
            )
        ]
    assert slugs == ["back-walk"]


REVIEW = """
review:
  reviewer:
    slug: ada-example
    name: Dr. Ada Example
    credentials: MD
    job_title: Physiatrist
  reviewed_on: 2026-11-20
tags:
"""


async def test_a_medical_review_round_trips_through_the_database(
    engine: AsyncEngine, seed_dir: Path, tmp_path: Path
) -> None:
    _edit(seed_dir, "\ntags:\n", REVIEW)
    await seed_database(engine, [seed_dir])
    written, _ = await export_articles(engine, tmp_path / "export")
    exported = written.read_text("utf-8")
    # The export binds the review to the text it covered: its version and the text's hash.
    assert "  version: 1\n" in exported and "  content_hash: " in exported
    assert "  next_review_due: 2027-11-20\n" in exported
    report = await seed_database(engine, [written.parent])
    assert set(await _outcomes(report)) == {"unchanged"}
    again, _ = await export_articles(engine, tmp_path / "again")
    assert again.read_text("utf-8") == exported
    async with session_scope(engine) as session:
        article = (await session.exec(select(Article))).one()
        (review,) = (await session.exec(select(ArticleReview))).all()
        reviewer = (await session.exec(select(Reviewer))).one()
    assert (reviewer.name, reviewer.credentials, reviewer.job_title) == (
        "Dr. Ada Example", "MD", "Physiatrist",
    )  # fmt: skip
    assert review.content_hash == article.content_hash
    assert review.reviewed_on is not None and review.reviewed_on.isoformat() == "2026-11-20"


AUTHOR = '{ article(slug: "back-walk") { version author { name version } } }'


async def test_an_author_changed_in_the_files_is_updated_through_the_author_path(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL
) -> None:
    await seed_database(engine, [seed_dir])
    _edit(seed_dir, "  name: Penci\n", "  name: Penci Sharma\n")
    report = await seed_database(engine, [seed_dir])
    assert report.authors == {"penci": SaveOutcome.UPDATED}
    assert report.author_lines() == ["author 'penci' updated (the byline of back-walk)"]
    # The article itself reads as its file does: nothing else to change.
    assert await _outcomes(report) == ["unchanged", "unchanged"]
    article = (await graphql(AUTHOR))["data"]["article"]
    assert article == {"version": 2, "author": {"name": "Penci Sharma", "version": 2}}
    async with session_scope(engine) as session:
        revisions = (
            await session.exec(select(Revision.action).order_by(col(Revision.version)))
        ).all()
        events = (
            await session.exec(select(OutboxEvent.event_type).order_by(col(OutboxEvent.revision)))
        ).all()
    assert revisions == ["created", "author updated"]
    assert events[-1] == "article.updated"
    again = await seed_database(engine, [seed_dir])
    assert again.authors == {}


async def test_a_copied_seed_file_is_refused_never_an_overwrite(
    engine: AsyncEngine, seed_dir: Path
) -> None:
    original = seed_dir / "back-walk.yaml"
    copy = seed_dir / "copy.yaml"
    copy.write_text(original.read_text("utf-8").replace("title: ", "title: Copy ", 1), "utf-8")
    with pytest.raises(InvalidContent) as raised:
        await seed_database(engine, [seed_dir])
    assert [str(p) for p in raised.value.problems] == [
        f"{copy}:2: slug: article slug 'back-walk' is also used by {original}:2; "
        "give each article its own slug"
    ]
    async with session_scope(engine) as session:
        assert not await reads.has_articles(session)


def _copies(seed_dir: Path, prefix: str, count: int) -> Path:
    """A folder of `count` copies of the back walk article, slugs `<prefix>-<n>`."""
    folder = seed_dir.parent / prefix
    folder.mkdir()
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    for n in range(count):
        slug = f"{prefix}-{n:03d}"
        (folder / f"{slug}.yaml").write_text(text.replace("slug: back-walk", f"slug: {slug}"))
    return folder


async def test_new_articles_cost_the_same_statements_however_many_and_each_is_saved_whole(
    engine: AsyncEngine, seed_dir: Path, sql_statements: list[str], graphql: GraphQL
) -> None:
    await seed_database(engine, [_copies(seed_dir, "one", 1)])  # and its author
    sql_statements.clear()
    await seed_database(engine, [_copies(seed_dir, "two", 2)])
    for_two = len(sql_statements)
    sql_statements.clear()
    report = await seed_database(engine, [_copies(seed_dir, "many", 20)])
    assert len(sql_statements) == for_two
    assert set(await _outcomes(report)) == {"created"}
    slugs = [f"many-{n:03d}" for n in range(20)]
    async with session_scope(engine) as session:
        revisions = await session.exec(
            select(Revision.article_slug, Revision.version, Revision.action)
            .where(col(Revision.article_slug).in_(slugs))
            .order_by(col(Revision.article_slug))
        )
        assert revisions.all() == [(slug, 1, "created") for slug in slugs]
        events = await session.exec(
            select(OutboxEvent.revision, OutboxEvent.article_slug, OutboxEvent.event_type)
            .where(col(OutboxEvent.article_slug).in_(slugs))
            .order_by(col(OutboxEvent.revision))
        )
        assert events.all() == [(4 + n, slug, "article.published") for n, slug in enumerate(slugs)]
    search = '{ search(query: "detoxification", first: 100) { edges { node { slug } } } }'
    found = (await graphql(search))["data"]["search"]["edges"]
    assert sorted(edge["node"]["slug"] for edge in found) == sorted(
        ["one-000", "two-000", "two-001", *slugs]
    )


# An article's expiry (`unpublish_at`): validated against its publication, applied by seeding,
# written by export, so that export -> seed changes nothing.

PUBLISHED = "published_at: 2026-11-25T00:00:00Z\n"
EXPIRY = '{ article(slug: "back-walk") { version unpublishAt } }'


async def _expiry(graphql: GraphQL, token: str | None = None) -> object:
    body = await graphql(EXPIRY, token=token)
    assert "errors" not in body, body
    return body["data"]["article"]


async def test_an_expiry_in_a_seed_file_is_applied_and_exported_as_written(
    engine: AsyncEngine, seed_dir: Path, tmp_path: Path, graphql: GraphQL
) -> None:
    _edit(seed_dir, PUBLISHED, PUBLISHED + "unpublish_at: 2099-06-01T08:00:00Z\n")
    path = seed_dir / "back-walk.yaml"
    await seed_database(engine, [seed_dir])
    assert await _expiry(graphql) == {"version": 1, "unpublishAt": "2099-06-01T08:00:00+00:00"}
    written = await export_articles(engine, tmp_path / "export")
    assert written[0].read_bytes() == path.read_bytes()
    report = await seed_database(engine, [tmp_path / "export"])
    assert {outcome.value for outcome in report.outcomes.values()} == {"unchanged"}


async def test_an_expired_article_from_a_seed_file_is_hidden_from_the_public(
    engine: AsyncEngine, seed_dir: Path, graphql: GraphQL, make_token: TokenFactory
) -> None:
    _edit(seed_dir, PUBLISHED, PUBLISHED + "unpublish_at: 2026-11-26T00:00:00+01:00\n")
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
    _edit(seed_dir, PUBLISHED, PUBLISHED + "unpublish_at: 2099-06-01T08:00:00Z\n")
    await seed_database(engine, [seed_dir])
    _edit(seed_dir, "unpublish_at: 2099-06-01T08:00:00Z\n", "")
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
    _edit(seed_dir, PUBLISHED, published + "unpublish_at: 2026-11-25T00:00:00Z\n")
    path = seed_dir / "back-walk.yaml"
    line = path.read_text("utf-8").splitlines().index("unpublish_at: 2026-11-25T00:00:00Z") + 1
    with pytest.raises(InvalidContent) as raised:
        await seed_database(engine, [seed_dir])
    assert [(p.file, p.line, p.field, p.message) for p in raised.value.problems] == [
        (str(path), line, "unpublish_at", message)
    ]
    assert await _expiry(graphql) is None  # nothing was written

"""A snippet's rows, read in one statement: the same rows the reads of each part return."""

from __future__ import annotations

from typing import Any

import pytest

from cms import content, reads
from cms.content_model import BENEFIT, PRECAUTION
from cms.db import Database, ReadSession, session_rows
from cms.documents import ArticleDocument
from cms.models import ArticleStatus
from cms.reviews import reviews_by_article_ids
from cms.snippets import SyndicatedRows, read_syndicated_rows
from tests.documents import REVIEW, article_document

pytestmark = pytest.mark.anyio

SOURCE = {"title": "A trial", "doi": "10.1136/bmj.m1234", "year": 2020}


def _document() -> ArticleDocument:
    fields = article_document(benefit_count=3, draft_benefit=True, review=REVIEW).model_dump()
    fields["benefits"][1]["citations"] = [SOURCE]
    fields["precautions"][0]["citations"] = [SOURCE, {**SOURCE, "doi": "10.1136/bmj.m5678"}]
    return ArticleDocument.model_validate(fields)


async def _read(session: ReadSession, slug: str) -> SyndicatedRows | None:
    dialect = session.get_bind().dialect.name
    return await read_syndicated_rows(session_rows(session), dialect=dialect, slug=slug)


async def test_the_rows_read_at_once_are_those_each_part_reads(database: Database) -> None:
    async with database.write_session() as session:
        await content.save_article_document(session, _document())
    async with database.read_session() as session:
        rows = await _read(session, "x")
        (article,) = await reads.articles_by_slugs(session, ["x"], include_drafts=False)
        (author,) = await reads.authors_by_ids(session, [article.author_id], include_drafts=False)
        items = await reads.every_item_by_article_ids(session, [article.id], include_drafts=False)
        review = (await reviews_by_article_ids(session, [article.id]))[article.id]
    assert rows is not None and rows.review is not None

    def fields(row: Any) -> dict[str, Any]:
        return dict(vars(row)) if hasattr(row, "__dict__") else dict(row._mapping)

    assert {name: getattr(rows.article, name) for name in article._fields} == fields(article)
    assert fields(rows.author) == fields(author)
    for kind, read in ((BENEFIT, rows.benefits), (PRECAUTION, rows.precautions)):
        assert [vars(item) for item in read] == [vars(i) for i in items if i.item_kind is kind]
    assert [b.slug for b in rows.benefits] == ["public-benefit", "benefit-1", "benefit-2"]
    assert rows.review.row.model_dump() == review.row.model_dump()
    assert rows.review.reviewer.model_dump() == review.reviewer.model_dump()
    assert rows.review.row.created_at.utcoffset() is not None


async def test_no_public_article_reads_as_none(database: Database) -> None:
    async with database.write_session() as session:
        await content.save_article_document(
            session, article_document(slug="draft", status=ArticleStatus.DRAFT)
        )
    async with database.read_session() as session:
        assert await _read(session, "draft") is None
        assert await _read(session, "nowhere") is None

"""Reviewers: the clinicians who medically review articles. Defined inline in seed files (like an
article's author) or with `reviewerCreate`; matched by slug."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import col, select

from cms.citations import HttpUrl
from cms.content_model import Slug, Title
from cms.db import ReadSession, WriteSession
from cms.errors import Conflict, ContentProblem, InvalidContent, NotFound
from cms.events import EventType
from cms.models import Article, ArticleReview, ReviewAction, Reviewer, utc_now
from cms.outbox import record_event
from cms.text import storable

__all__ = [
    "ReviewerDocument",
    "create_reviewer",
    "get_reviewer",
    "reviewed_articles",
    "reviewer_document",
    "update_reviewer",
    "upsert_reviewer",
]


_Short = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(storable)
]


class ReviewerDocument(BaseModel):
    """A clinician who reviews articles medically."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: Title = Field(description="The name shown in review lines, e.g. `Dr. Jane Doe`.")
    credentials: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(storable)
    ] = Field(default="", description="Post-nominal qualifications, e.g. `MD`, `PT`, `RD`.")
    job_title: _Short = Field(default="", description="e.g. `Consultant physiotherapist`.")
    specialty: _Short = Field(default="", description="e.g. `Musculoskeletal medicine`.")
    registration_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = Field(default=None, description="Professional registration, e.g. `GMC 1234567`.")
    profile_url: HttpUrl | None = Field(
        default=None, description="A public profile page: an http(s) address."
    )


_FIELDS = tuple(ReviewerDocument.model_fields)


def reviewer_document(row: Reviewer) -> ReviewerDocument:
    return ReviewerDocument(**{name: getattr(row, name) for name in _FIELDS})


async def get_reviewer(session: ReadSession, slug: str) -> Reviewer | None:
    return (await session.exec(select(Reviewer).where(Reviewer.slug == slug))).first()


async def upsert_reviewer(
    session: WriteSession, document: ReviewerDocument, now: datetime | None = None
) -> Reviewer:
    """The reviewer with the document's slug, created or changed to read as the document does."""
    now = now or utc_now()
    row = await get_reviewer(session, document.slug)
    if row is None:
        row = Reviewer(**document.model_dump(), created_at=now, updated_at=now)
    elif reviewer_document(row) != document:
        _apply(row, document, now)
    else:
        return row
    session.add(row)
    await session.flush()
    return row


async def create_reviewer(session: WriteSession, document: ReviewerDocument) -> Reviewer:
    if await get_reviewer(session, document.slug) is not None:
        message = f"a reviewer {document.slug!r} exists; change it with reviewerUpdate"
        raise InvalidContent([ContentProblem("", "slug", message)])
    return await upsert_reviewer(session, document)


async def update_reviewer(
    session: WriteSession, document: ReviewerDocument, *, expected_version: int
) -> Reviewer:
    row = await get_reviewer(session, document.slug)
    if row is None:
        raise NotFound(f"No reviewer {document.slug!r}.")
    if row.version != expected_version:
        raise Conflict(
            slug=document.slug, expected_version=expected_version, current_version=row.version
        )
    if reviewer_document(row) != document:
        now = utc_now()
        _apply(row, document, now)
        session.add(row)
        await session.flush()
        # Their review line changed: caches, the change feed and webhooks must follow.
        for article in await reviewed_articles(session, row.slug):
            await record_event(
                session, event_type=EventType.UPDATED, article=article, occurred_at=now
            )
    return row


async def reviewed_articles(session: ReadSession, slug: str) -> list[Article]:
    """The articles the reviewer `slug` approved (any version)."""
    approved = (
        select(ArticleReview.article_id)
        .join(Reviewer, col(Reviewer.id) == col(ArticleReview.reviewer_id))
        .where(Reviewer.slug == slug, col(ArticleReview.action) == ReviewAction.APPROVED)
    )
    statement = select(Article).where(col(Article.id).in_(approved)).order_by(col(Article.id))
    return list((await session.exec(statement)).all())


def _apply(row: Reviewer, document: ReviewerDocument, now: datetime) -> None:
    for name in _FIELDS:
        setattr(row, name, getattr(document, name))
    row.version += 1
    row.updated_at = now

"""Medical reviews bound to the text they covered: the reviewable text's hash, an article's
review status, and the review steps (submit, approve, request changes)."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson
from sqlmodel import col, select

from cms.content_model import ITEM_KINDS
from cms.db import ReadSession, WriteSession
from cms.documents import ArticleDocument, ReviewDocument
from cms.errors import ContentProblem, InvalidContent, NotFound
from cms.events import EventType
from cms.models import Article, ArticleReview, ReviewAction, Reviewer, utc_now
from cms.outbox import record_event
from cms.reviewers import get_reviewer, reviewer_document, upsert_reviewer
from cms.revisions import get_revision, snapshot_of

__all__ = [
    "Review",
    "ReviewStatus",
    "approve_review",
    "document_status",
    "hash_reviewable",
    "record_review_step",
    "review_events",
    "review_of_document",
    "reviewable_content",
    "reviewable_hash",
    "reviews_by_article_ids",
    "reviews_of",
    "status_of",
    "stored_review",
    "sync_seeded_review",
]


class ReviewStatus(enum.StrEnum):
    CURRENT = "current"
    CHANGED_SINCE_REVIEW = "changed_since_review"
    OVERDUE = "overdue"
    NEVER = "never"


def reviewable_content(document: ArticleDocument) -> dict[str, Any]:
    """What a medical review covers: the title, intro, every published item's text and the
    conclusion. Drafts are not read by the public, so they are not part of it."""
    items = {
        kind.list_name: [
            {"slug": item.slug, **{name: getattr(item, name) for name in kind.text_fields}}
            for item in document.items(kind)
            if not item.draft
        ]
        for kind in ITEM_KINDS
    }
    conclusion = document.conclusion.model_dump() if document.conclusion else None
    return {
        "title": document.title,
        "intro": document.intro,
        "items": items,
        "conclusion": conclusion,
    }


def hash_reviewable(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of reviewable content."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def reviewable_hash(document: ArticleDocument) -> str:
    return hash_reviewable(reviewable_content(document))


@dataclass(frozen=True)
class Review:
    """An article's review: its newest approval and who gave it, and its earlier approvals
    (newest first), so that a text keeps the approval that covered it while a newer text (a
    pending version) is approved."""

    row: ArticleReview
    reviewer: Reviewer
    earlier: tuple[tuple[ArticleReview, Reviewer], ...] = ()

    def covering(self, content_hash: str) -> Review:
        """The newest approval of the text hashing to `content_hash`; the newest one if none."""
        if self.row.content_hash == content_hash:
            return self
        for row, reviewer in self.earlier:
            if row.content_hash == content_hash:
                return Review(row, reviewer)
        return self

    def status(self, content_hash: str, today: date) -> ReviewStatus:
        row = self.covering(content_hash).row
        return _status(row.content_hash, row.next_review_due, content_hash, today)

    def document(self) -> ReviewDocument:
        assert self.row.reviewed_on is not None
        return ReviewDocument(
            reviewer=reviewer_document(self.reviewer),
            reviewed_on=self.row.reviewed_on,
            next_review_due=self.row.next_review_due,
            note=self.row.note,
            version=self.row.version,
            content_hash=self.row.content_hash or None,
        )


def status_of(review: Review | None, content_hash: str, today: date) -> ReviewStatus:
    return review.status(content_hash, today) if review else ReviewStatus.NEVER


async def reviews_by_article_ids(
    session: ReadSession, article_ids: Sequence[int]
) -> dict[int, Review]:
    """The newest approval of each article that has one, with its reviewer and the earlier
    approvals (one statement)."""
    if not article_ids:
        return {}
    statement = (
        select(ArticleReview, Reviewer)
        .join(Reviewer, col(Reviewer.id) == col(ArticleReview.reviewer_id))
        .where(
            col(ArticleReview.article_id).in_(list(article_ids)),
            ArticleReview.action == ReviewAction.APPROVED,
        )
        .order_by(col(ArticleReview.id))
    )
    return reviews_of((await session.exec(statement)).all())


def reviews_of(approvals: Iterable[tuple[ArticleReview, Reviewer]]) -> dict[int, Review]:
    """The review of each article from its approvals and their reviewers, oldest first."""
    found: dict[int, Review] = {}
    for row, reviewer in approvals:
        before = found.get(row.article_id)
        earlier = ((before.row, before.reviewer), *before.earlier) if before else ()
        found[row.article_id] = Review(row, reviewer, earlier)
    return found


async def stored_review(session: ReadSession, article_id: int) -> ReviewDocument | None:
    """The article's review as its document holds it."""
    review = (await reviews_by_article_ids(session, [article_id])).get(article_id)
    return review.document() if review else None


async def review_events(session: ReadSession, article_id: int) -> list[ArticleReview]:
    """Every review step of the article, oldest first."""
    statement = (
        select(ArticleReview)
        .where(ArticleReview.article_id == article_id)
        .order_by(col(ArticleReview.id))
    )
    return list((await session.exec(statement)).all())


def review_of_document(document: ArticleDocument, stored: Review | None) -> ReviewDocument | None:
    """The review a save keeps: the document's own, else the stored one."""
    if document.review is not None:
        return document.review
    return stored.document() if stored else None


async def sync_seeded_review(
    session: WriteSession,
    article: Article,
    document: ArticleDocument,
    stored: ReviewDocument | None,
    *,
    interval_days: int,
    actor: str,
) -> ReviewDocument | None:
    """Record the review a saved document names when it differs from the stored one; return the
    article's review after the save. A review without `content_hash` covers the document's text
    as saved."""
    given = document.review
    if given is None or (stored is not None and _same_review(given, stored)):
        return stored
    assert article.id is not None
    reviewer = await upsert_reviewer(session, given.reviewer)
    due = given.next_review_due or given.reviewed_on + timedelta(days=interval_days)
    version = given.version or article.version
    content_hash = given.content_hash or reviewable_hash(document)
    session.add(
        ArticleReview(
            article_id=article.id,
            action=ReviewAction.APPROVED,
            reviewer_id=reviewer.id,
            version=version,
            content_hash=content_hash,
            reviewed_on=given.reviewed_on,
            next_review_due=due,
            note=given.note,
            actor=actor,
        )
    )
    recorded = given.model_copy(
        update={"next_review_due": due, "version": version, "content_hash": content_hash}
    )
    await session.flush()
    return recorded


def document_status(review: ReviewDocument | None, content_hash: str, today: date) -> ReviewStatus:
    """The status of a review as a document holds it (`status_of` for a stored one)."""
    if review is None:
        return ReviewStatus.NEVER
    return _status(review.content_hash or "", review.next_review_due, content_hash, today)


def _status(reviewed: str, due: date | None, content_hash: str, today: date) -> ReviewStatus:
    """CURRENT only while the live text hashes to the reviewed hash and the review holds."""
    if reviewed != content_hash:
        return ReviewStatus.CHANGED_SINCE_REVIEW
    if due is not None and today > due:
        return ReviewStatus.OVERDUE
    return ReviewStatus.CURRENT


def _same_review(given: ReviewDocument, stored: ReviewDocument) -> bool:
    fields = ("reviewer", "reviewed_on", "note")
    same = all(getattr(given, name) == getattr(stored, name) for name in fields)
    for name in ("next_review_due", "version", "content_hash"):
        value = getattr(given, name)
        same = same and (value is None or value == getattr(stored, name))
    return same


async def record_review_step(
    session: WriteSession, *, article: Article, action: ReviewAction, note: str, actor: str
) -> ArticleReview:
    """A submission for review or a request for changes: history, changing no content."""
    assert article.id is not None
    row = ArticleReview(
        article_id=article.id, action=action, version=article.version, note=note, actor=actor
    )
    session.add(row)
    await session.flush()
    return row


async def approve_review(
    session: WriteSession,
    *,
    article: Article,
    version: int,
    reviewer_slug: str,
    note: str,
    actor: str,
    interval_days: int,
    today: date | None = None,
) -> ArticleReview:
    """Approve `version` of the article as `reviewer_slug`: the review covers exactly the text
    of that version (its hash), live, older or pending; approving the pending version lets it
    go live reviewed. Announced as an update, so caches and partners follow."""
    assert article.id is not None
    reviewer = await get_reviewer(session, reviewer_slug)
    if reviewer is None:
        raise InvalidContent([ContentProblem("", "reviewer", f"no reviewer {reviewer_slug!r}")])
    if version == article.version:
        content_hash = article.content_hash
    elif version >= 1:
        # An older version, or a saved version of the pending one (every save is a revision).
        revision = await get_revision(session, article_id=article.id, version=version)
        content_hash = reviewable_hash(snapshot_of(revision))
    else:
        raise NotFound(f"The article has no version {version}.")
    today = today or utc_now().date()
    row = ArticleReview(
        article_id=article.id,
        action=ReviewAction.APPROVED,
        reviewer_id=reviewer.id,
        version=version,
        content_hash=content_hash,
        reviewed_on=today,
        next_review_due=today + timedelta(days=interval_days),
        note=note,
        actor=actor,
    )
    session.add(row)
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=utc_now()
    )
    await session.flush()
    return row

"""The editorial life of an article: draft -> published -> unpublished, and archived.

    DRAFT ──publish──> PUBLISHED ──unpublish──> UNPUBLISHED ──publish──> PUBLISHED
      │                    │                        │
      └──────archive───────┴────────archive─────────┘──> ARCHIVED ──restore to draft──> DRAFT

Publishing may be scheduled: a `publish_at` in the future keeps the article out of public reads
until then, with no job having to run at that moment (reads compare against the clock).
"""

from __future__ import annotations

from datetime import datetime

from cms.documents import ArticleDocument
from cms.errors import InvalidTransition
from cms.models import ArticleStatus

__all__ = ["ALLOWED_TRANSITIONS", "transition"]

ALLOWED_TRANSITIONS: dict[ArticleStatus, frozenset[ArticleStatus]] = {
    ArticleStatus.DRAFT: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.PUBLISHED: frozenset(
        {ArticleStatus.PUBLISHED, ArticleStatus.UNPUBLISHED, ArticleStatus.ARCHIVED}
    ),
    ArticleStatus.UNPUBLISHED: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.ARCHIVED: frozenset({ArticleStatus.DRAFT}),
}


def transition(
    document: ArticleDocument,
    target: ArticleStatus,
    *,
    now: datetime,
    publish_at: datetime | None = None,
) -> ArticleDocument:
    """The document moved to `target`. Publishing an already published article again is how a
    publication is rescheduled."""
    if target not in ALLOWED_TRANSITIONS[document.status]:
        raise InvalidTransition(
            f"An article cannot go from {document.status.value} to {target.value}."
        )
    if publish_at is not None and target is not ArticleStatus.PUBLISHED:
        raise InvalidTransition("Only publishing takes a publishAt time.")
    published_at = document.published_at
    if target is ArticleStatus.PUBLISHED:
        published_at = publish_at or now
    return document.model_copy(update={"status": target, "published_at": published_at})

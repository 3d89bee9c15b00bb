"""The domain's enums, registered with Strawberry once, with their descriptions.

Every GraphQL module imports this before using an enum: a plain enum used first in an input
would otherwise be registered without its description, and registering it again fails.
"""

from __future__ import annotations

import strawberry

from cms import models
from cms.reviews import ReviewStatus
from cms.text import TextFormat

__all__ = [
    "ArticleStatus",
    "ReviewAction",
    "ReviewStatus",
    "SearchPart",
    "SectionKind",
    "TextFormat",
    "TipKind",
]

strawberry.enum(
    TextFormat,
    name="TextFormat",
    description="How prose is returned: the Markdown source, sanitised HTML, or plain text.",
)
strawberry.enum(models.ArticleStatus, description="Where an article is in its life.")
strawberry.enum(
    models.SectionKind,
    description="What a section introduces: standalone prose, or the lead-in of a list.",
)
strawberry.enum(models.TipKind, description="Whether a tip is about food or water.")
strawberry.enum(models.SearchPart, description="A part of an article that search looks in.")
strawberry.enum(
    ReviewStatus,
    description="Whether the live text is the text a clinician reviewed: CURRENT (it is, and "
    "the review has not run out), CHANGED_SINCE_REVIEW, OVERDUE (past `nextReviewDue`) or NEVER.",
)
strawberry.enum(
    models.ReviewAction, description="A step of a medical review: submitted, approved or not."
)

ArticleStatus = models.ArticleStatus
SearchPart = models.SearchPart
SectionKind = models.SectionKind
TipKind = models.TipKind
ReviewAction = models.ReviewAction

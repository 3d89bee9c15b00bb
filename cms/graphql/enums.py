"""The domain's enums, registered with Strawberry once, with their descriptions.

Every GraphQL module imports this before using an enum: a plain enum used first in an input
would otherwise be registered without its description, and registering it again fails.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

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
# Each value described too (main's `described_enum` does this for every enum; use it on merge).
_REVIEW_ENUMS: tuple[tuple[type[enum.Enum], str, Mapping[Any, str]], ...] = (
    (
        ReviewStatus,
        "Whether the live text is the text a clinician reviewed.",
        {
            ReviewStatus.CURRENT: "The live text is the reviewed text and the review holds.",
            ReviewStatus.CHANGED_SINCE_REVIEW: "The text changed after its review.",
            ReviewStatus.OVERDUE: "The text is the reviewed text, but `nextReviewDue` has passed.",
            ReviewStatus.NEVER: "No clinician has approved the article.",
        },
    ),
    (
        models.ReviewAction,
        "A step of a medical review.",
        {
            models.ReviewAction.SUBMITTED: "An editor asked for a review.",
            models.ReviewAction.APPROVED: "A reviewer approved a version.",
            models.ReviewAction.CHANGES_REQUESTED: "A reviewer sent the article back.",
        },
    ),
)
for _enum, _description, _values in _REVIEW_ENUMS:
    _registered = strawberry.enum(_enum, description=_description)
    for _value in getattr(_registered, "__strawberry_definition__").values:  # noqa: B009
        _value.description = _values[_enum[_value.name]]

ArticleStatus = models.ArticleStatus
SearchPart = models.SearchPart
SectionKind = models.SectionKind
TipKind = models.TipKind
ReviewAction = models.ReviewAction

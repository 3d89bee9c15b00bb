"""The domain's enums, registered with Strawberry once, with their descriptions and each value's.

Every GraphQL module imports this before using an enum: a plain enum used first in an input
would otherwise be registered without its description, and registering it again fails.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry

from cms import models
from cms.text import TextFormat

__all__ = [
    "ArticleStatus",
    "SearchPart",
    "SectionKind",
    "TextFormat",
    "TipKind",
    "described_enum",
]

E = TypeVar("E", bound=type[enum.Enum])


def described_enum(
    cls: E, *, description: str, values: Mapping[enum.Enum, str], name: str | None = None
) -> E:
    """Register a plain Python enum (one that cannot carry `strawberry.enum_value`) with a
    description for the enum and one for each of its values; a value left out fails loudly."""
    missing = [member.name for member in cls if member not in values]
    if missing:
        raise TypeError(f"{cls.__name__}: no description for {', '.join(missing)}")
    registered = strawberry.enum(cls, name=name, description=description)
    by_name = {member.name: text for member, text in values.items()}
    for value in registered.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = by_name[value.name]
    return registered


described_enum(
    TextFormat,
    name="TextFormat",
    description="How prose is returned: the Markdown source, sanitised HTML, or plain text.",
    values={
        TextFormat.MARKDOWN: "The Markdown source, as stored.",
        TextFormat.HTML: "Sanitised HTML, safe to insert into a page.",
        TextFormat.TEXT: "Plain text, without markup.",
    },
)
described_enum(
    models.ArticleStatus,
    description="Where an article is in its life.",
    values={
        models.ArticleStatus.DRAFT: "Being written; never public.",
        models.ArticleStatus.PUBLISHED: "Public once its `publishedAt` has come.",
        models.ArticleStatus.UNPUBLISHED: "Taken down; can be published again.",
        models.ArticleStatus.ARCHIVED: "Kept for the record; unarchive it to edit it again.",
    },
)
described_enum(
    models.SectionKind,
    description="What a section introduces: standalone prose, or the lead-in of a list.",
    values={
        models.SectionKind.PROSE: "Standalone prose.",
        models.SectionKind.BENEFITS: "The lead-in of the article's benefits.",
        models.SectionKind.NUTRITION: "The lead-in of the article's nutrition tips.",
        models.SectionKind.PRECAUTIONS: "The lead-in of the article's precautions.",
    },
)
described_enum(
    models.TipKind,
    description="Whether a tip is about food or water.",
    values={
        models.TipKind.NUTRITION: "About food.",
        models.TipKind.HYDRATION: "About water and drinks.",
    },
)
described_enum(
    models.SearchPart,
    description="A part of an article that search looks in.",
    values={
        models.SearchPart.ARTICLE: "The article's title, headline or intro.",
        models.SearchPart.SECTION: "A section.",
        models.SearchPart.BENEFIT: "A benefit.",
        models.SearchPart.NUTRITION_TIP: "A nutrition tip.",
        models.SearchPart.PRECAUTION: "A precaution.",
        models.SearchPart.CONCLUSION: "The conclusion.",
    },
)

ArticleStatus = models.ArticleStatus
SearchPart = models.SearchPart
SectionKind = models.SectionKind
TipKind = models.TipKind

"""Input types of the editing mutations. They mirror `cms.documents`, which validates them."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry

from cms.content_model import BENEFIT, NUTRITION_TIP, PRECAUTION, SECTION
from cms.documents import ArticleDocument, AuthorDocument, ConclusionDocument
from cms.graphql import enums as enums  # registers the enums first
from cms.graphql.items import document_field, item_input

__all__ = [
    "ArticleFilter",
    "ArticleInput",
    "ArticleUpdateInput",
    "AuthorInput",
    "BenefitInput",
    "BenefitUpdateInput",
    "ConclusionInput",
    "NutritionTipInput",
    "NutritionTipUpdateInput",
    "PrecautionInput",
    "PrecautionUpdateInput",
    "SectionInput",
    "SectionUpdateInput",
    "provided_fields",
]

UNSET: Any = strawberry.UNSET
# The documents' descriptions, declared once there.


def provided_fields(value: Any) -> dict[str, Any]:
    """The fields a client actually sent, as plain data (nested inputs included)."""
    return {
        f.name: _plain(getattr(value, f.name))
        for f in dataclasses.fields(value)
        if getattr(value, f.name) is not UNSET
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return provided_fields(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@strawberry.input(
    description="The author of an article, referenced by slug: an article never changes its "
    "author (`authorCreate` and `authorUpdate` do). `name` and `bio`, when given, must be the "
    "author's own."
)
class AuthorInput:
    slug: str = document_field(AuthorDocument, "slug")
    name: str | None = strawberry.field(
        default=None, description="Optional; when given, must be the author's name."
    )
    bio: str | None = strawberry.field(
        default=None, description="Optional; when given, must be the author's bio."
    )


# The fields of each item input come from its document (`cms.content_model`).


@item_input(SECTION)
class SectionInput:
    pass


@item_input(SECTION, partial=True)
class SectionUpdateInput:
    pass


@item_input(BENEFIT)
class BenefitInput:
    pass


@item_input(BENEFIT, partial=True)
class BenefitUpdateInput:
    pass


@item_input(NUTRITION_TIP)
class NutritionTipInput:
    pass


@item_input(NUTRITION_TIP, partial=True)
class NutritionTipUpdateInput:
    pass


@item_input(PRECAUTION)
class PrecautionInput:
    pass


@item_input(PRECAUTION, partial=True)
class PrecautionUpdateInput:
    pass


@strawberry.input(description="The closing words of an article.")
class ConclusionInput:
    title: str = document_field(ConclusionDocument, "title")
    body: str = document_field(ConclusionDocument, "body")


@strawberry.input(description="Narrows a list of articles; every field given must hold.")
class ArticleFilter:
    tag: str | None = strawberry.field(default=None, description="Only articles with this tag.")


@strawberry.input(description="A new article. It starts as a draft; publish it separately.")
class ArticleInput:
    slug: str = document_field(ArticleDocument, "slug")
    title: str = document_field(ArticleDocument, "title")
    author: AuthorInput = document_field(ArticleDocument, "author")
    locale: str = strawberry.field(
        default="en", description="The locale it is written in, a BCP 47 tag such as `en`."
    )
    headline: str = document_field(ArticleDocument, "headline", default="")
    tags: list[str] = document_field(ArticleDocument, "tags", default_factory=list)
    intro: str = document_field(ArticleDocument, "intro", default="")
    meta_title: str = document_field(ArticleDocument, "meta_title", default="")
    meta_description: str = document_field(ArticleDocument, "meta_description", default="")
    sections: list[SectionInput] = document_field(ArticleDocument, "sections", default_factory=list)
    benefits: list[BenefitInput] = document_field(ArticleDocument, "benefits", default_factory=list)
    nutrition_tips: list[NutritionTipInput] = document_field(
        ArticleDocument, "nutrition_tips", default_factory=list
    )
    precautions: list[PrecautionInput] = document_field(
        ArticleDocument, "precautions", default_factory=list
    )
    conclusion: ConclusionInput | None = document_field(ArticleDocument, "conclusion", default=None)


@strawberry.input(description="Only the fields given are changed; a list given replaces the list.")
class ArticleUpdateInput:
    title: str | None = document_field(ArticleDocument, "title", default=UNSET)
    headline: str | None = document_field(ArticleDocument, "headline", default=UNSET)
    author: AuthorInput | None = document_field(ArticleDocument, "author", default=UNSET)
    tags: list[str] | None = document_field(ArticleDocument, "tags", default=UNSET)
    intro: str | None = document_field(ArticleDocument, "intro", default=UNSET)
    meta_title: str | None = document_field(ArticleDocument, "meta_title", default=UNSET)
    meta_description: str | None = document_field(
        ArticleDocument, "meta_description", default=UNSET
    )
    sections: list[SectionInput] | None = document_field(ArticleDocument, "sections", default=UNSET)
    benefits: list[BenefitInput] | None = document_field(ArticleDocument, "benefits", default=UNSET)
    nutrition_tips: list[NutritionTipInput] | None = document_field(
        ArticleDocument, "nutrition_tips", default=UNSET
    )
    precautions: list[PrecautionInput] | None = document_field(
        ArticleDocument, "precautions", default=UNSET
    )
    conclusion: ConclusionInput | None = document_field(
        ArticleDocument, "conclusion", default=UNSET
    )

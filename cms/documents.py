"""The validation model of an article as editors write it: one `ArticleDocument` per seed file.

Seed files, exports and (later) mutations all go through these models, so a rule written here
holds on every path into the database. The JSON Schema of seed files is generated from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from cms.errors import ContentProblem, InvalidContent
from cms.locales import DEFAULT_LOCALE, LOCALE_PATTERN
from cms.models import ArticleStatus, SectionKind, TipKind

__all__ = [
    "ArticleDocument",
    "AuthorDocument",
    "BenefitDocument",
    "ConclusionDocument",
    "NutritionTipDocument",
    "PrecautionDocument",
    "SectionDocument",
    "ItemTranslation",
    "Location",
    "MAX_TAG_LENGTH",
    "SeedDocument",
    "TAG_PATTERN",
    "Tags",
    "TranslationDocument",
    "field_path",
    "seed_file_json_schema",
    "translation_problems",
    "validate_document",
    "validation_problems",
]

Location = tuple[str | int, ...]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=100),
    Field(
        description="Lower-case words joined by hyphens, e.g. `stress-relief`. Stable: "
        "it addresses the item in URLs and snippets."
    ),
]
Locale = Annotated[
    str,
    StringConstraints(pattern=LOCALE_PATTERN, max_length=35),
    Field(
        description="A BCP 47 language tag in canonical case: a language, then an optional "
        "script and region, e.g. `en`, `de`, `de-AT`."
    ),
]

TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def _unique_tags(tags: list[str]) -> list[str]:
    seen: set[str] = set()
    for tag in tags:
        if tag in seen:
            raise ValueError(f"duplicate tag {tag!r}")
        seen.add(tag)
    return tags


Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN, max_length=MAX_TAG_LENGTH)]
Tags = Annotated[
    list[Tag],
    AfterValidator(_unique_tags),
    Field(
        max_length=MAX_TAGS,
        json_schema_extra={"uniqueItems": True},
        description="Topic slugs, e.g. `stress-relief`, each at most once, in the order shown. "
        "Articles sharing tags are related.",
    ),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Markdown = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    Field(description="Markdown. Rendered as sanitised HTML or plain text."),
]
RequiredMarkdown = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    Field(description="Markdown, not empty. Rendered as sanitised HTML or plain text."),
]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class AuthorDocument(_Document):
    slug: Slug
    name: Title = Field(description="The name shown in bylines and attributions.")
    bio: Markdown = ""


class SectionDocument(_Document):
    slug: Slug
    title: Title = Field(description="The section heading.")
    kind: SectionKind = Field(
        default=SectionKind.PROSE,
        description="What the section introduces: `prose` stands alone; `benefits`, `nutrition` "
        "and `precautions` lead in the article's list of that name.",
    )
    body: Markdown = ""
    draft: StrictBool = Field(default=False, description="Hidden from public reads while true.")


class BenefitDocument(_Document):
    slug: Slug
    title: Title
    tags: Tags = Field(default_factory=list)
    body: RequiredMarkdown
    draft: StrictBool = Field(default=False, description="Hidden from public reads while true.")


class NutritionTipDocument(_Document):
    slug: Slug
    kind: TipKind
    title: Title
    body: RequiredMarkdown
    draft: StrictBool = Field(default=False, description="Hidden from public reads while true.")


class PrecautionDocument(_Document):
    slug: Slug
    title: Title
    body: RequiredMarkdown
    draft: StrictBool = Field(default=False, description="Hidden from public reads while true.")


Headline = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class ConclusionDocument(_Document):
    title: Title
    body: RequiredMarkdown


class ArticleDocument(_Document):
    """One article with everything it owns. Lists are in reading order."""

    slug: Slug
    locale: Locale = Field(
        default=DEFAULT_LOCALE,
        description="The locale the article is written in. Translations (seed files with "
        "`translation_of`) add others.",
    )
    title: Title
    headline: Headline = ""
    status: ArticleStatus = Field(
        default=ArticleStatus.DRAFT,
        description="Only `published` articles whose `published_at` has come are public.",
    )
    published_at: AwareDatetime | None = Field(
        default=None,
        description="When the article is (or was) published, with a time zone, e.g. "
        "2026-11-25T08:00:00Z. Set to the time of the first seed when left out.",
    )
    author: AuthorDocument
    reviewed_by: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        default="",
        description="Who last checked the article medically, with their qualification, "
        "e.g. `Dr. Jane Doe, MD`. Shown with every snippet.",
    )
    last_reviewed: date | None = Field(
        default=None, description="When that medical review happened, e.g. 2026-11-20."
    )
    tags: Tags = Field(default_factory=list)
    intro: Markdown = ""
    sections: list[SectionDocument] = Field(default_factory=list)
    benefits: list[BenefitDocument] = Field(default_factory=list)
    nutrition_tips: list[NutritionTipDocument] = Field(default_factory=list)
    precautions: list[PrecautionDocument] = Field(default_factory=list)
    conclusion: ConclusionDocument | None = None

    @model_validator(mode="after")
    def _slugs_are_unique_within_each_list(self) -> ArticleDocument:
        for list_name in ("sections", "benefits", "nutrition_tips", "precautions"):
            first_index: dict[str, int] = {}
            for index, item in enumerate(getattr(self, list_name)):
                if item.slug in first_index:
                    raise DuplicateSlug(list_name, index, item.slug, first_index[item.slug])
                first_index[item.slug] = index
        return self

    def with_published_at(self, published_at: datetime | None) -> ArticleDocument:
        return self.model_copy(update={"published_at": published_at})


class _Overlay(_Document):
    @model_validator(mode="after")
    def _translates_something(self) -> _Overlay:
        if not self.model_dump(exclude_defaults=True):
            raise ValueError("translates nothing: give at least one of its fields")
        return self


class ItemTranslation(_Overlay):
    """The translated text of one item of a list; fields left out fall back."""

    title: Title | None = None
    body: RequiredMarkdown | None = None


class ConclusionTranslation(_Overlay):
    title: Title | None = None
    body: RequiredMarkdown | None = None


ItemTranslations = Annotated[
    dict[Slug, ItemTranslation],
    Field(description="Translated items, by the slug they have in the article."),
]


class TranslationDocument(_Document):
    """An article's text in one more locale. Holds only what is translated: every field left
    out (and every item not listed) falls back to the article's base locale, reported as such.
    Slugs, order, status and everything else stay the article's own."""

    translation_of: Slug = Field(description="The slug of the article this translates.")
    locale: Locale
    title: Title | None = None
    headline: Headline | None = None
    intro: RequiredMarkdown | None = None
    sections: ItemTranslations = Field(default_factory=dict)
    benefits: ItemTranslations = Field(default_factory=dict)
    nutrition_tips: ItemTranslations = Field(default_factory=dict)
    precautions: ItemTranslations = Field(default_factory=dict)
    conclusion: ConclusionTranslation | None = None

    def overlay(self) -> dict[str, Any]:
        """What `ArticleTranslation.document` stores: the translated fields only."""
        return self.model_dump(
            mode="json", exclude_defaults=True, exclude={"translation_of", "locale"}
        )

    @classmethod
    def of(
        cls, *, translation_of: str, locale: str, overlay: dict[str, Any]
    ) -> TranslationDocument:
        return cls.model_validate({"translation_of": translation_of, "locale": locale, **overlay})


SeedDocument = ArticleDocument | TranslationDocument


class DuplicateSlug(ValueError):
    """Raised inside validation; carries the exact location so errors can point at the line."""

    def __init__(self, list_name: str, index: int, slug: str, first_index: int) -> None:
        self.location: tuple[str | int, ...] = (list_name, index, "slug")
        super().__init__(f"duplicate slug {slug!r}: already used by {list_name}[{first_index}]")


def translation_problems(
    translation: TranslationDocument, article: ArticleDocument
) -> Iterator[tuple[Location, str]]:
    """What makes a translation not fit its article: the same locale, or items it has not."""
    if translation.locale == article.locale:
        yield (
            ("locale",),
            f"{article.slug!r} is written in {article.locale!r}: "
            "a translation needs another locale",
        )
    for list_name in ("sections", "benefits", "nutrition_tips", "precautions"):
        known = {item.slug for item in getattr(article, list_name)}
        for slug in getattr(translation, list_name):
            if slug not in known:
                yield (list_name, slug), f"{article.slug!r} has no {list_name} item {slug!r}"
    if translation.conclusion is not None and article.conclusion is None:
        yield ("conclusion",), f"{article.slug!r} has no conclusion to translate"


def seed_file_json_schema() -> dict[str, Any]:
    """An article, or (with `translation_of`) a translation of one."""
    schema = TypeAdapter(SeedDocument).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://backwalk-cms.dev/schema/seed.schema.json"
    schema["title"] = "CMS article seed file"
    return schema


def validation_problems(error: ValidationError) -> list[tuple[Location, str]]:
    """Each problem of a failed validation as (location in the document, plain message)."""
    problems: list[tuple[Location, str]] = []
    for detail in error.errors(include_url=False):
        location: Location = tuple(detail["loc"])
        message = detail["msg"]
        context = detail.get("ctx") or {}
        cause = context.get("error")
        if isinstance(cause, DuplicateSlug):
            location, message = cause.location, str(cause)
        elif context.get("pattern") == LOCALE_PATTERN:
            message = "not a locale: expected a BCP 47 tag in canonical case, e.g. `de` or `de-AT`"
        problems.append((location, _plain(message)))
    return problems


def _plain(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if message == "Extra inputs are not permitted":
        return "unknown field"
    return message


def field_path(location: Location) -> str:
    """`("benefits", 2, "title")` -> `"benefits[2].title"`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validate_document(data: Any, *, source: str = "") -> ArticleDocument:
    """Validate plain data as an article; raise `InvalidContent` naming every problem's field."""
    try:
        return ArticleDocument.model_validate(data)
    except ValidationError as error:
        raise InvalidContent(
            [
                ContentProblem(source, field_path(loc), msg)
                for loc, msg in validation_problems(error)
            ]
        ) from None

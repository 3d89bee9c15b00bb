"""The validation model of an article as editors write it: one `ArticleDocument` per seed file.

Seed files, exports and (later) mutations all go through these models, so a rule written here
holds on every path into the database. The JSON Schema of seed files is generated from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)

from cms.content_model import (
    BENEFIT,
    ITEM_KINDS,
    MAX_TAG_LENGTH,
    NUTRITION_TIP,
    PRECAUTION,
    SECTION,
    TAG_PATTERN,
    BenefitDocument,
    ItemDocument,
    ItemKind,
    Markdown,
    NutritionTipDocument,
    PrecautionDocument,
    RequiredMarkdown,
    SectionDocument,
    Slug,
    Tags,
    Title,
)
from cms.errors import ContentProblem, InvalidContent
from cms.locales import DEFAULT_LOCALE, LOCALE_PATTERN
from cms.models import ArticleStatus
from cms.reviewers import ReviewerDocument
from cms.text import storable

__all__ = [
    "ArticleDocument",
    "AuthorDocument",
    "BenefitDocument",
    "ConclusionDocument",
    "NutritionTipDocument",
    "PrecautionDocument",
    "ReviewDocument",
    "SectionDocument",
    "ITEM_TRANSLATIONS",
    "OUT_OF_UTC_RANGE",
    "representable_in_utc",
    "Location",
    "MAX_TAG_LENGTH",
    "SeedDocument",
    "TAG_PATTERN",
    "Tags",
    "TranslationDocument",
    "field_path",
    "seed_file_json_schema",
    "fitted_overlay",
    "translation_problems",
    "validate_document",
    "validate_model",
    "validation_problems",
]

Location = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

Locale = Annotated[
    str,
    StringConstraints(pattern=LOCALE_PATTERN, max_length=35),
    Field(
        description="A BCP 47 language tag in canonical case: a language, then an optional "
        "script and region, e.g. `en`, `de`, `de-AT`."
    ),
]


OUT_OF_UTC_RANGE = "out of range: in UTC it falls outside the years 1 to 9999"


def representable_in_utc(value: datetime) -> bool:
    """Whether a time with a zone is a moment the database can hold (years 1 to 9999 in UTC)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _in_utc_range(value: datetime) -> datetime:
    if not representable_in_utc(value):
        raise ValueError(OUT_OF_UTC_RANGE)
    return value


PublicationTime = Annotated[AwareDatetime, AfterValidator(_in_utc_range)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class AuthorDocument(_Document):
    slug: Slug
    name: Title = Field(description="The name shown in bylines and attributions.")
    bio: Markdown = Field(default="", description="A short biography, in Markdown.")


Headline = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(storable)
]
MetaText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(storable)
]


class ReviewDocument(_Document):
    """A medical review of the article's text (see docs/review.md)."""

    reviewer: ReviewerDocument
    reviewed_on: date = Field(description="When the reviewer approved the text, e.g. 2026-11-20.")
    next_review_due: date | None = Field(
        default=None,
        description="When the review runs out; by default `CMS_REVIEW_INTERVAL_DAYS` after "
        "`reviewed_on`.",
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(storable)] = ""
    version: int | None = Field(
        default=None, ge=1, description="The article version the reviewer approved."
    )
    content_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="SHA-256 of the reviewed text (written by `cms export`). Left out, the "
        "review covers the text of this file as it is seeded.",
    )


class ConclusionDocument(_Document):
    title: Title = Field(description="The conclusion's heading.")
    body: RequiredMarkdown = Field(description="The closing words, in Markdown; not empty.")


class ArticleDocument(_Document):
    """One article with everything it owns. Lists are in reading order."""

    slug: Slug
    locale: Locale = Field(
        default=DEFAULT_LOCALE,
        description="The locale the article is written in. Translations (seed files with "
        "`translation_of`) add others.",
    )
    title: Title = Field(description="The article's title, as shown in lists and snippets.")
    headline: Headline = Field(default="", description="The long display title.")
    status: ArticleStatus = Field(
        default=ArticleStatus.DRAFT,
        description="Only `published` articles whose `published_at` has come are public.",
    )
    published_at: PublicationTime | None = Field(
        default=None,
        description="When the article is (or was) published, with a time zone, e.g. "
        "2026-11-25T08:00:00Z. Set to the time of the first seed when left out.",
    )
    unpublish_at: PublicationTime | None = Field(
        default=None,
        description="When the article expires: public until then, not after, with a time "
        "zone, e.g. 2027-05-25T08:00:00Z. Needs `published_at` and must come after it. Left "
        "out, the article never expires.",
    )
    author: AuthorDocument = Field(description="Who wrote the article; matched by slug.")
    review: ReviewDocument | None = Field(
        default=None,
        description="The article's medical review: who approved which text, and when. Left "
        "out, the stored review (if any) stays.",
    )
    tags: Tags = Field(default_factory=list)
    intro: Markdown = Field(default="", description="The opening paragraphs, in Markdown.")
    meta_title: MetaText = Field(
        default="",
        description="The title search engines show, plain text; keep it within 60 characters. "
        "Empty: the title.",
    )
    meta_description: MetaText = Field(
        default="",
        description="The description search engines show, plain text, 50 to 160 characters. "
        "Empty: the start of the intro.",
    )
    # One list per item kind of `cms.content_model` (checked below).
    sections: list[SectionDocument] = Field(
        default_factory=list, description=SECTION.list_description
    )
    benefits: list[BenefitDocument] = Field(
        default_factory=list, description=BENEFIT.list_description
    )
    nutrition_tips: list[NutritionTipDocument] = Field(
        default_factory=list, description=NUTRITION_TIP.list_description
    )
    precautions: list[PrecautionDocument] = Field(
        default_factory=list, description=PRECAUTION.list_description
    )
    conclusion: ConclusionDocument | None = Field(
        default=None, description="The closing words; none when the article has none."
    )

    @model_validator(mode="after")
    def _slugs_are_unique_within_each_list(self) -> ArticleDocument:
        for kind in ITEM_KINDS:
            first_index: dict[str, int] = {}
            for index, item in enumerate(self.items(kind)):
                if item.slug in first_index:
                    raise DuplicateSlug(kind.list_name, index, item.slug, first_index[item.slug])
                first_index[item.slug] = index
        return self

    @model_validator(mode="after")
    def _expires_after_its_publication(self) -> ArticleDocument:
        if self.unpublish_at is None:
            return self
        if self.published_at is None:
            message = "needs `published_at`: an expiry ends a publication"
            raise LocatedProblem(("unpublish_at",), message)
        if self.unpublish_at <= self.published_at:
            raise LocatedProblem(("unpublish_at",), "must come after `published_at`")
        return self

    def items(self, kind: ItemKind) -> list[ItemDocument]:
        items: list[ItemDocument] = getattr(self, kind.list_name)
        return items

    def with_published_at(self, published_at: datetime | None) -> ArticleDocument:
        return self.model_copy(update={"published_at": published_at})


class _Overlay(_Document):
    @model_validator(mode="after")
    def _translates_something(self) -> _Overlay:
        if not self.model_dump(exclude_defaults=True):
            raise ValueError("translates nothing: give at least one of its fields")
        return self


def _item_translation(kind: ItemKind) -> type[_Overlay]:
    """The translated text of one item of a kind: its text fields, each optional."""
    fields: dict[str, Any] = {}
    for name in kind.text_fields:
        info = kind.document.model_fields[name]
        constrained: Any = Annotated[(info.annotation, *info.metadata)]
        fields[name] = (constrained | None, None)
    return create_model(
        f"{kind.type_name}Translation",
        __base__=_Overlay,
        __doc__=f"The translated text of one {kind.label}; fields left out fall back.",
        **fields,
    )


ITEM_TRANSLATIONS: dict[ItemKind, type[_Overlay]] = {
    kind: _item_translation(kind) for kind in ITEM_KINDS
}
SectionTranslation = ITEM_TRANSLATIONS[SECTION]
BenefitTranslation = ITEM_TRANSLATIONS[BENEFIT]
NutritionTipTranslation = ITEM_TRANSLATIONS[NUTRITION_TIP]
PrecautionTranslation = ITEM_TRANSLATIONS[PRECAUTION]


class ConclusionTranslation(_Overlay):
    title: Title | None = None
    body: RequiredMarkdown | None = None


_BY_SLUG = "Translated items, by the slug they have in the article."


class TranslationDocument(_Document):
    """An article's text in one more locale. Holds only what is translated: every field left
    out (and every item not listed) falls back to the article's base locale, reported as such.
    Slugs, order, status and everything else stay the article's own."""

    translation_of: Slug = Field(description="The slug of the article this translates.")
    locale: Locale
    title: Title | None = None
    headline: Headline | None = None
    intro: RequiredMarkdown | None = None
    meta_title: MetaText | None = None
    meta_description: MetaText | None = None
    # One map per item kind of `cms.content_model` (checked below).
    sections: dict[Slug, SectionTranslation] = Field(  # type: ignore[valid-type]
        default_factory=dict, description=_BY_SLUG
    )
    benefits: dict[Slug, BenefitTranslation] = Field(  # type: ignore[valid-type]
        default_factory=dict, description=_BY_SLUG
    )
    nutrition_tips: dict[Slug, NutritionTipTranslation] = Field(  # type: ignore[valid-type]
        default_factory=dict, description=_BY_SLUG
    )
    precautions: dict[Slug, PrecautionTranslation] = Field(  # type: ignore[valid-type]
        default_factory=dict, description=_BY_SLUG
    )
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

    def items(self, kind: ItemKind) -> dict[str, _Overlay]:
        items: dict[str, _Overlay] = getattr(self, kind.list_name)
        return items


SeedDocument = ArticleDocument | TranslationDocument


def _check_every_kind_has_its_lists() -> None:
    """Fail at import, naming the kind, when a document misses a list of an item kind."""
    for kind in ITEM_KINDS:
        for model, expected in (
            (ArticleDocument, list[kind.document]),  # type: ignore[name-defined]
            (TranslationDocument, dict[Slug, ITEM_TRANSLATIONS[kind]]),  # type: ignore[valid-type]
        ):
            field = model.model_fields.get(kind.list_name)
            if field is None or field.annotation != expected:
                raise TypeError(f"{model.__name__}.{kind.list_name} must be {expected}")


_check_every_kind_has_its_lists()


class LocatedProblem(ValueError):
    """Raised inside a document's own validation; carries the exact location of the field at
    fault, so that errors can point at its line."""

    def __init__(self, location: Location, message: str) -> None:
        self.location = location
        super().__init__(message)


class DuplicateSlug(LocatedProblem):
    def __init__(self, list_name: str, index: int, slug: str, first_index: int) -> None:
        message = f"duplicate slug {slug!r}: already used by {list_name}[{first_index}]"
        super().__init__((list_name, index, "slug"), message)


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
    for kind in ITEM_KINDS:
        known = {item.slug for item in article.items(kind)}
        for slug in translation.items(kind):
            if slug not in known:
                yield (
                    (kind.list_name, slug),
                    f"{article.slug!r} has no {kind.list_name} item {slug!r}",
                )
    if translation.conclusion is not None and article.conclusion is None:
        yield ("conclusion",), f"{article.slug!r} has no conclusion to translate"


def fitted_overlay(overlay: Mapping[str, Any], article: ArticleDocument) -> dict[str, Any]:
    """A translation's overlay without the text of the items (or the conclusion) that
    `article` no longer has."""
    fitted = dict(overlay)
    for kind in ITEM_KINDS:
        known = {item.slug for item in article.items(kind)}
        items = {
            slug: text for slug, text in fitted.get(kind.list_name, {}).items() if slug in known
        }
        if items:
            fitted[kind.list_name] = items
        else:
            fitted.pop(kind.list_name, None)
    if article.conclusion is None:
        fitted.pop("conclusion", None)
    return fitted


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
        if isinstance(cause, LocatedProblem):
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
    return validate_model(ArticleDocument, data, source=source)


def validate_model(model: type[M], data: Any, *, source: str = "") -> M:
    """Validate plain data as `model`; raise `InvalidContent` naming every problem's field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidContent(
            [
                ContentProblem(source, field_path(loc), msg)
                for loc, msg in validation_problems(error)
            ]
        ) from None

"""The content model, declared once: the kinds of item an article holds and their fields.

Each item kind is a pydantic document (its fields, types, defaults, validation and descriptions)
and an `ItemKind` naming it. Everything else is derived from these declarations: the tables
(`cms.models`), GraphQL types and inputs (`cms.graphql.items`), translations, search indexing,
lint, export, the admin and the seed JSON Schema. A field's `Role` says how readers see it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)
from pydantic.fields import FieldInfo

from cms.citations import Citations
from cms.text import storable

__all__ = [
    "BENEFIT",
    "BenefitDocument",
    "ITEM_KINDS",
    "ItemDocument",
    "ItemKind",
    "MAX_TAG_LENGTH",
    "Markdown",
    "NUTRITION_TIP",
    "NutritionTipDocument",
    "PRECAUTION",
    "PrecautionDocument",
    "RequiredMarkdown",
    "Role",
    "SECTION",
    "SLUG_PATTERN",
    "SectionDocument",
    "SectionKind",
    "Slug",
    "TAG_PATTERN",
    "Tags",
    "TipKind",
    "Title",
    "item_kind",
]


class Role(enum.Enum):
    """How a text field reaches readers. Fields with a role are translated and searched."""

    TEXT = "text"  # a short plain string, e.g. a title
    PROSE = "prose"  # Markdown, rendered on read as Markdown, sanitised HTML or plain text


class SectionKind(enum.StrEnum):
    """What a section introduces: plain prose, or the lead-in of one of the article's lists."""

    PROSE = "prose"
    BENEFITS = "benefits"
    NUTRITION = "nutrition"
    PRECAUTIONS = "precautions"


class TipKind(enum.StrEnum):
    NUTRITION = "nutrition"
    HYDRATION = "hydration"


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_PATTERN = SLUG_PATTERN
MAX_TAGS = 20
MAX_TAG_LENGTH = 50

Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=100),
    Field(
        description="Lower-case words joined by hyphens, e.g. `stress-relief`. Stable: "
        "it addresses the item in URLs and snippets."
    ),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(storable),
    Role.TEXT,
]
Markdown = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(storable),
    Role.PROSE,
    Field(description="Markdown. Rendered as sanitised HTML or plain text."),
]
RequiredMarkdown = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    AfterValidator(storable),
    Role.PROSE,
    Field(description="Markdown, not empty. Rendered as sanitised HTML or plain text."),
]


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

DRAFT_DESCRIPTION = "Hidden from public reads while true."


class ItemDocument(BaseModel):
    """The base of every item kind's document. Each kind declares all its fields itself, in
    the order editors see them; every kind has a slug, a title, a body and a draft flag."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    if TYPE_CHECKING:
        slug: str
        title: str
        body: str
        draft: bool


COMMON_FIELDS = ("slug", "title", "body", "draft")


# --- the item kinds ---------------------------------------------------------------------------
# A field added to one of these documents (with a migration adding its column) reaches the
# table, the API, inputs, translations, search, export and the admin with nothing else to edit.


class SectionDocument(ItemDocument):
    slug: Slug
    title: Title = Field(description="The section heading.")
    kind: SectionKind = Field(
        default=SectionKind.PROSE,
        description="What the section introduces: `prose` stands alone; `benefits`, `nutrition` "
        "and `precautions` lead in the article's list of that name.",
    )
    body: Markdown = Field(
        default="", description="The section's text; may be empty for a list's heading."
    )
    citations: Citations = Field(default_factory=list)
    draft: StrictBool = Field(default=False, description=DRAFT_DESCRIPTION)


class BenefitDocument(ItemDocument):
    slug: Slug
    title: Title = Field(description="The benefit, in a few words.")
    tags: Tags = Field(default_factory=list)
    body: RequiredMarkdown = Field(description="What the benefit is and why.")
    citations: Citations = Field(default_factory=list)
    draft: StrictBool = Field(default=False, description=DRAFT_DESCRIPTION)


class NutritionTipDocument(ItemDocument):
    slug: Slug
    kind: TipKind = Field(description="Whether the tip is about food or water.")
    title: Title = Field(description="The tip, in a few words.")
    body: RequiredMarkdown = Field(description="The tip.")
    draft: StrictBool = Field(default=False, description=DRAFT_DESCRIPTION)


class PrecautionDocument(ItemDocument):
    slug: Slug
    title: Title = Field(description="Who or what the precaution is about.")
    body: RequiredMarkdown = Field(description="Who should take care, and how.")
    citations: Citations = Field(default_factory=list)
    draft: StrictBool = Field(default=False, description=DRAFT_DESCRIPTION)


# Compared and hashed by identity: there is one of each, and reads group items by kind.
@dataclass(frozen=True, eq=False)
class ItemKind:
    """One kind of item: its document and the names it goes by.

    `name` is the singular (`nutrition_tip`: the table, the search part, `nutritionTipAdd`),
    `list_name` the article's list (`nutrition_tips`: seed files, `Article.nutritionTips`),
    `type_name` the GraphQL type (`NutritionTip`)."""

    name: str
    list_name: str
    type_name: str
    document: type[ItemDocument]
    description: str
    list_description: str

    def __post_init__(self) -> None:
        missing = [name for name in COMMON_FIELDS if name not in self.document.model_fields]
        if missing:
            raise TypeError(f"{self.document.__name__} lacks the item fields {missing}")

    @property
    def label(self) -> str:
        """The kind in prose: `nutrition tip`."""
        return self.name.replace("_", " ")

    @property
    def fields(self) -> dict[str, FieldInfo]:
        return dict(self.document.model_fields)

    # Cached: the documents are fixed at import, and items are built from these on every read.
    @cached_property
    def extra_fields(self) -> dict[str, FieldInfo]:
        """The fields beyond those every item has (`ItemDocument`)."""
        return {n: f for n, f in self.document.model_fields.items() if n not in COMMON_FIELDS}

    @cached_property
    def text_fields(self) -> dict[str, Role]:
        """The fields readers read, in declaration order: translated and searched."""
        return {
            name: role for name, info in self.fields.items() if (role := role_of(info)) is not None
        }


def role_of(info: FieldInfo) -> Role | None:
    return next((item for item in info.metadata if isinstance(item, Role)), None)


def value_type(info: FieldInfo) -> Any:
    """The plain Python type of a field's value (`list[str]`, `TipKind`, ...), without its
    validation metadata."""
    return _strip(info.annotation)


def _strip(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        return _strip(get_args(annotation)[0])
    if get_origin(annotation) is list:
        return list[_strip(get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


SECTION = ItemKind(
    name="section",
    list_name="sections",
    type_name="Section",
    document=SectionDocument,
    description="A prose section of an article, with its heading.",
    list_description="Prose sections in reading order.",
)
BENEFIT = ItemKind(
    name="benefit",
    list_name="benefits",
    type_name="Benefit",
    document=BenefitDocument,
    description="One health benefit claimed by an article.",
    list_description="Health benefits in reading order.",
)
NUTRITION_TIP = ItemKind(
    name="nutrition_tip",
    list_name="nutrition_tips",
    type_name="NutritionTip",
    document=NutritionTipDocument,
    description="A nutrition or hydration tip that supports the practice.",
    list_description="Nutrition and hydration tips in reading order.",
)
PRECAUTION = ItemKind(
    name="precaution",
    list_name="precautions",
    type_name="Precaution",
    document=PrecautionDocument,
    description="A safety precaution. Travels with every claim of its article.",
    list_description="Safety precautions in reading order.",
)

ITEM_KINDS: tuple[ItemKind, ...] = (SECTION, BENEFIT, NUTRITION_TIP, PRECAUTION)


def item_kind(list_name: str) -> ItemKind:
    for kind in ITEM_KINDS:
        if kind.list_name == list_name:
            return kind
    raise KeyError(list_name)

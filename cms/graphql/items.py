"""GraphQL shapes of the item kinds, derived from their documents (`cms.content_model`): the
fields of an item's type, its create and update inputs and its translation input.

Each shape is a class named where it is declared (`class Benefit`) whose fields a decorator
adds from the document, with the document's descriptions: a field declared once reaches them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from pydantic import BaseModel

from cms.content_model import ItemKind, Role, role_of, value_type
from cms.graphql import enums as enums  # registers the enums first
from cms.text import TextFormat, render

__all__ = [
    "FormatArgument",
    "document_description",
    "document_field",
    "item_input",
    "item_translation_input",
    "item_type",
    "prose_field",
]

T = TypeVar("T", bound=type)
UNSET: Any = strawberry.UNSET

FormatArgument = Annotated[
    TextFormat,
    strawberry.argument(description="The format to return the prose in."),
]

# Shown by the interfaces every item implements (`ArticleItem`), or not shown at all.
_NOT_ON_TYPE = ("slug", "draft")


def _annotations(cls: type) -> dict[str, Any]:
    """The class's own annotations (never a base class's), made if it has none."""
    if "__annotations__" not in cls.__dict__:
        cls.__annotations__ = {}
    annotations: dict[str, Any] = cls.__dict__["__annotations__"]
    return annotations


def document_description(document: type[BaseModel], name: str) -> str:
    """How `document` describes its field `name`: the schema says the same. A field without a
    description fails here, at import, rather than reaching the schema undescribed."""
    description = document.model_fields[name].description
    if description is None:
        raise TypeError(f"{document.__name__}.{name} has no description for the schema")
    return description


def document_field(document: type[BaseModel], name: str, **options: Any) -> Any:
    """A GraphQL field described as `document` describes its field `name`."""
    return strawberry.field(description=document_description(document, name), **options)


def prose_field(name: str, description: str | None) -> Any:
    """A Markdown field, returned in the format the client asks for. Reads `root.prose[name]`."""

    def resolve(root: Any, format: FormatArgument = TextFormat.MARKDOWN) -> str:
        return render(root.prose[name], format)

    return strawberry.field(resolver=resolve, description=description)


def item_type(kind: ItemKind) -> Callable[[T], T]:
    """Make the decorated class the GraphQL type of `kind`, with a field per document field:
    prose takes a `format` argument and is read from `prose`; the rest are plain attributes."""

    def decorate(cls: T) -> T:
        cls.item_kind = kind  # type: ignore[attr-defined]
        for name, info in kind.fields.items():
            if name in _NOT_ON_TYPE:
                continue
            if role_of(info) is Role.PROSE:
                setattr(cls, name, prose_field(name, info.description))
            else:
                _annotations(cls)[name] = value_type(info)
                setattr(cls, name, strawberry.field(description=info.description))
        return strawberry.type(cls, name=kind.type_name, description=kind.description)

    return decorate


def item_input(kind: ItemKind, *, partial: bool = False) -> Callable[[T], T]:
    """Make the decorated class an input of `kind`'s document. With `partial`, every field is
    optional and left UNSET when not sent: only the fields given are changed."""

    def decorate(cls: T) -> T:
        for name, info in kind.fields.items():
            python_type = value_type(info)
            if partial:
                field = strawberry.field(default=UNSET, description=info.description)
                _annotations(cls)[name] = python_type | None
            elif info.default_factory is not None:
                factory = info.default_factory
                field = strawberry.field(default_factory=factory, description=info.description)
                _annotations(cls)[name] = python_type
            elif info.is_required():
                field = strawberry.field(description=info.description)
                _annotations(cls)[name] = python_type
            else:
                field = strawberry.field(default=info.default, description=info.description)
                _annotations(cls)[name] = python_type
            setattr(cls, name, field)
        description = (
            f"Changes to a {kind.label}: only the fields given are changed."
            if partial
            else f"A new {kind.label}."
        )
        return strawberry.input(cls, description=description)

    return decorate


def item_translation_input(kind: ItemKind) -> Callable[[T], T]:
    """Make the decorated class the translated text of one item of `kind`: its slug, then each
    text field, optional (a field left out falls back)."""

    def decorate(cls: T) -> T:
        _annotations(cls)["slug"] = str
        cls.slug = strawberry.field(  # type: ignore[attr-defined]
            description=f"The {kind.label}'s slug in the article."
        )
        for name, info in kind.fields.items():
            if name in kind.text_fields:
                _annotations(cls)[name] = value_type(info) | None
                setattr(cls, name, strawberry.field(default=UNSET, description=info.description))
        description = f"The translated text of one {kind.label}; a field left out falls back."
        return strawberry.input(cls, description=description)

    return decorate

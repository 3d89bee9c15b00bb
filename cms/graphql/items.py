"""GraphQL shapes of the item kinds, derived from their documents (`cms.content_model`): the
fields of an item's type, its create and update inputs and its translation input.

Each shape is a class named where it is declared (`class Benefit`) whose fields a decorator
adds from the document, with the document's descriptions: a field declared once reaches them all.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, TypeVar, get_args, get_origin

import strawberry
from pydantic import BaseModel

from cms.content_model import ItemKind, Role, role_of, value_type
from cms.graphql import enums as enums  # registers the enums first
from cms.graphql.context import Info
from cms.graphql.rich_text import RichText, rich_text_of
from cms.rich_text import Sites
from cms.text import TextFormat, render

__all__ = [
    "FormatArgument",
    "document_description",
    "document_field",
    "item_input",
    "item_translation_input",
    "item_type",
    "plain_values",
    "prose_field",
    "prose_tree_field",
    "structured_type",
    "structured_values",
    "tree_name",
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


def prose_tree_field(name: str, description: str | None) -> Any:
    """The same Markdown field as a typed tree (`RichText`). Reads `root.prose[name]`."""

    def resolve(root: Any, info: Info) -> RichText:
        settings = info.context.settings
        return rich_text_of(root.prose[name], Sites(settings.site_url, settings.public_url))

    about = f"{description} " if description else ""
    return strawberry.field(
        resolver=resolve,
        description=f"{about}As a tree of typed nodes, for apps that render without HTML.",
    )


def tree_name(name: str) -> str:
    """The field that returns prose field `name` as a tree: `body` -> `body_tree` (`bodyTree`)."""
    return f"{name}_tree"


def _structured(python_type: Any) -> type[BaseModel] | None:
    """The model of a list of structured values (`list[Citation]`), else None."""
    args = get_args(python_type)
    if get_origin(python_type) is list and isinstance(args[0], type):
        if issubclass(args[0], BaseModel):
            return args[0]
    return None


@cache
def _structured_shape(model: type[BaseModel], *, input: bool) -> Any:
    """The GraphQL type (or input) of a structured value, its fields from the model's."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for name, info in model.model_fields.items():
        python_type = value_type(info)
        optional = not info.is_required()
        annotations[name] = python_type | None if optional else python_type
        default: dict[str, Any] = {"default": None} if optional else {}
        namespace[name] = strawberry.field(description=info.description, **default)
    name = model.__name__ + ("Input" if input else "")
    cls = type(name, (), namespace)
    description = (model.__doc__ or "").strip().split("\n")[0]
    if input:
        return strawberry.input(cls, description=description)
    return strawberry.type(cls, description=description)


def _graphql_type(python_type: Any, *, input: bool = False) -> Any:
    model = _structured(python_type)
    return list[_structured_shape(model, input=input)] if model else python_type  # type: ignore[misc]


def structured_type(model: type[BaseModel]) -> Any:
    """The GraphQL type derived from a structured value's model (`Citation`)."""
    return _structured_shape(model, input=False)


def structured_values(model: type[BaseModel], values: Any) -> list[Any]:
    """Structured values (models or their JSON) as objects of their derived GraphQL type."""
    shape = _structured_shape(model, input=False)
    return [shape(**model.model_validate(item).model_dump()) for item in values]


def plain_values(kind: ItemKind, row: Any) -> dict[str, Any]:
    """The values of an item's fields that are not text (`ItemKind.text_fields`) nor common to
    every item, as its GraphQL type holds them (structured values as objects of their type)."""
    values: dict[str, Any] = {}
    for name, model in _plain_fields(kind):
        value = getattr(row, name)
        if model is not None:
            value = structured_values(model, value) if value else []
        values[name] = value
    return values


@cache
def _plain_fields(kind: ItemKind) -> tuple[tuple[str, type[BaseModel] | None], ...]:
    # Per kind (fixed at import): items are built on every read.
    return tuple(
        (name, _structured(value_type(info)))
        for name, info in kind.extra_fields.items()
        if name not in kind.text_fields
    )


def item_type(kind: ItemKind) -> Callable[[T], T]:
    """Make the decorated class the GraphQL type of `kind`, with a field per document field:
    prose takes a `format` argument, has a `<name>Tree` twin and is read from `prose`; the rest
    are plain attributes."""

    def decorate(cls: T) -> T:
        cls.item_kind = kind  # type: ignore[attr-defined]
        for name, info in kind.fields.items():
            if name in _NOT_ON_TYPE:
                continue
            if role_of(info) is Role.PROSE:
                setattr(cls, name, prose_field(name, info.description))
                setattr(cls, tree_name(name), prose_tree_field(name, info.description))
            else:
                _annotations(cls)[name] = _graphql_type(value_type(info))
                setattr(cls, name, strawberry.field(description=info.description))
        return strawberry.type(cls, name=kind.type_name, description=kind.description)

    return decorate


def item_input(kind: ItemKind, *, partial: bool = False) -> Callable[[T], T]:
    """Make the decorated class an input of `kind`'s document. With `partial`, every field is
    optional and left UNSET when not sent: only the fields given are changed."""

    def decorate(cls: T) -> T:
        for name, info in kind.fields.items():
            python_type = _graphql_type(value_type(info), input=True)
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

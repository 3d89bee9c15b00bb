"""Compiling a query into a plan: the fields it selects, collected as graphql-core collects them
(aliases, fragments, `@include`/`@skip` already decided), each bound to the Strawberry field that
answers it. Only the fields of `COMPILED_FIELDS` compile; anything else leaves no plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    is_leaf_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry import Schema
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

__all__ = ["COMPILED_FIELDS", "Arguments", "Field", "Selection", "Unsupported", "compile_selection"]

# The fields with a resolver of their own that the compiled path runs, by type. Fields without
# one (Strawberry's default: the attribute of the same name) compile on every type named here.
COMPILED_FIELDS: Mapping[str, frozenset[str]] = {
    "Query": frozenset({"article", "articles", "benefitSnippet", "benefitSnippets"}),
    "Article": frozenset(
        {
            "id",
            "intro",
            "availableLocales",
            "tags",
            "related",
            "author",
            "sections",
            "benefits",
            "nutritionTips",
            "precautions",
            "jsonLd",
            "conclusion",
            "metaTitle",
            "metaDescription",
            "review",
            "reviewStatus",
            "reviewedBy",
            "lastReviewed",
            "hasPendingChanges",
            "fieldLocales",
        }
    ),  # fmt: skip
    "Author": frozenset({"id", "bio"}),
    "Section": frozenset({"id", "body", "fieldLocales"}),
    "Benefit": frozenset({"id", "body", "fieldLocales"}),
    "NutritionTip": frozenset({"id", "body", "fieldLocales"}),
    "Precaution": frozenset({"id", "body", "fieldLocales"}),
    "Conclusion": frozenset({"body", "fieldLocales"}),
    "FieldLocale": frozenset(),
    "Review": frozenset(),
    "Reviewer": frozenset(),
    "Citation": frozenset(),
    "ArticleConnection": frozenset({"nodes", "totalCount"}),
    "ArticleEdge": frozenset(),
    "PageInfo": frozenset(),
    "BenefitSnippet": frozenset({"body", "html", "jsonLd", "fieldLocales"}),
    "SnippetArticle": frozenset({"fieldLocales"}),
    "SnippetPrecaution": frozenset({"body", "fieldLocales"}),
}
_DEFINITION = "strawberry-definition"


class Unsupported(Exception):
    """The selection holds something the compiled path does not run."""


@dataclass(frozen=True)
class Field:
    """One response key of a selection: the Strawberry field that answers it and how."""

    key: str
    # `__typename`: the type's name, nothing to resolve.
    typename: str | None
    field: StrawberryField | None
    # The field's arguments as the resolver takes them, when known before the request; else
    # `arguments_of` makes them from the request's variables.
    arguments: dict[str, Any] | None
    arguments_of: Callable[[VariableValues], dict[str, Any]] | None
    is_async: bool
    non_null: bool
    is_list: bool
    item_non_null: bool
    # A leaf's `serialize` (scalars, enums), or the selection of an object.
    serialize: Callable[[Any], Any] | None
    selection: Selection | None


@dataclass(frozen=True)
class Selection:
    typename: str
    fields: tuple[Field, ...]
    # The operation's own selection (the root fields).
    root: bool = False


class Arguments:
    """One request's variables, and each field's arguments converted with them once: reading
    ahead and resolving both ask. Callers copy what they are given before changing it."""

    def __init__(self, variables: VariableValues) -> None:
        self.variables = variables
        # By the field's identity: its plan outlives the request.
        self._converted: dict[int, dict[str, Any]] = {}

    def of(self, field: Field) -> dict[str, Any]:
        if field.arguments is not None:
            return field.arguments
        converted = self._converted.get(id(field))
        if converted is None:
            assert field.arguments_of is not None
            converted = self._converted[id(field)] = field.arguments_of(self.variables)
        return converted


@dataclass(frozen=True)
class _Compiler:
    strawberry_schema: Schema
    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode

    def selection(
        self, type_: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]
    ) -> Selection:
        allowed = COMPILED_FIELDS.get(type_.name)
        if allowed is None:
            raise Unsupported(f"type {type_.name}")
        fields = tuple(self.field(type_, key, details, allowed) for key, details in grouped.items())
        return Selection(type_.name, fields)

    def field(
        self,
        parent: GraphQLObjectType,
        key: str,
        details: list[FieldDetails],
        allowed: frozenset[str],
    ) -> Field:
        node = details[0].node
        name = node.name.value
        if any(d.fragment_variable_values is not None or d.defer_usage for d in details):
            raise Unsupported("fragment variables or @defer")
        if name == "__typename":
            return Field(key, parent.name, None, {}, None, False, True, False, False, None, None)
        definition = parent.fields.get(name)
        if definition is None:
            raise Unsupported(f"{parent.name}.{name}")
        field = definition.extensions.get(_DEFINITION)
        if not isinstance(field, StrawberryField) or field.extensions:
            raise Unsupported(f"{parent.name}.{name}")
        if field.base_resolver is not None and name not in allowed:
            raise Unsupported(f"{parent.name}.{name}")
        arguments, arguments_of = self.arguments(definition, field, node)
        type_, non_null, is_list, item_non_null = _unwrap(definition.type)
        serialize: Callable[[Any], Any] | None = None
        selection = None
        if is_leaf_type(type_):
            serialize = type_.serialize
        elif isinstance(type_, GraphQLObjectType):
            grouped = collect_subfields(
                self.schema, self.fragments, self.variables, self.operation, type_, details
            ).grouped_field_set
            selection = self.selection(type_, grouped)
        else:
            raise Unsupported(f"abstract type {type_}")
        return Field(
            key, None, field, arguments, arguments_of, field.is_async, non_null, is_list,
            item_non_null, serialize, selection,
        )  # fmt: skip

    def arguments(
        self, definition: GraphQLField, field: StrawberryField, node: FieldNode
    ) -> tuple[dict[str, Any] | None, Callable[[VariableValues], dict[str, Any]] | None]:
        schema = self.strawberry_schema

        def convert(variables: VariableValues) -> dict[str, Any]:
            raw = get_argument_values(definition, node, variables)
            return convert_arguments(
                raw, field.arguments, scalar_registry=schema.schema_converter.scalar_registry,
                config=schema.config,
            )  # fmt: skip

        if any(_has_variable(argument.value) for argument in node.arguments or ()):
            return None, convert
        return convert(self.variables), None


def _has_variable(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_has_variable(value) for value in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_has_variable(field.value) for field in node.fields)
    return False


def _unwrap(type_: Any) -> tuple[Any, bool, bool, bool]:
    """The named type and whether it is non-null, a list, and a list of non-null items."""
    non_null = isinstance(type_, GraphQLNonNull)
    if non_null:
        type_ = type_.of_type
    if not isinstance(type_, GraphQLList):
        return type_, non_null, False, False
    item = type_.of_type
    item_non_null = isinstance(item, GraphQLNonNull)
    if item_non_null:
        item = item.of_type
    if isinstance(item, GraphQLList | GraphQLNonNull):
        raise Unsupported("lists of lists")
    return item, non_null, True, item_non_null


def compile_selection(
    strawberry_schema: Schema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDetails],
    variables: VariableValues,
) -> Selection:
    """The plan of a query operation, for the values its `@include`/`@skip` conditions take
    with `variables`; `Unsupported` when it selects anything not in `COMPILED_FIELDS`."""
    schema = strawberry_schema._schema
    query = schema.query_type
    assert query is not None
    grouped = collect_fields(schema, fragments, variables, query, operation).grouped_field_set
    compiler = _Compiler(strawberry_schema, schema, fragments, variables, operation)
    return replace(compiler.selection(query, grouped), root=True)

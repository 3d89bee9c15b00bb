"""Query cost: how many nodes (objects with an id) a query may return at most, estimated
before it runs from the list sizes it asks for, multiplied down the tree (like GitHub's node
limit). A query over the
limit is refused with `QUERY_TOO_COSTLY` before any resolver runs; every answer reports its
estimate in `extensions.cost`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
    get_operation_ast,
    value_from_ast,
)
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension

__all__ = ["PAGE_ARGUMENTS", "QueryCost", "estimate_cost"]

# The arguments that size a list; the only values of a request the estimate reads.
PAGE_ARGUMENTS = ("first", "last")
_LARGEST = 2**53 - 1


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    list_size: int,
) -> int:
    """The most nodes (objects with an id) the operation can return. A list asks for its
    `first`/`last` (or their default); a list without one counts `list_size`. A connection's
    page size applies to its `edges` and `nodes`."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walk = _Walk(schema, document, variables or {}, list_size)
    # Capped where JSON numbers stop being exact: a larger estimate is refused all the same.
    return min(walk.cost(root, operation.selection_set, multiplier=1, page=None), _LARGEST)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        list_size: int,
    ) -> None:
        self._schema = schema
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._variables = variables
        self._list_size = list_size

    def cost(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        *,
        multiplier: int,
        page: int | None,
    ) -> int:
        total = 0
        for field, owner in self._fields(parent, selection_set):
            fields = getattr(owner, "fields", None)  # unions have none: only their fragments
            definition = fields.get(field.name.value) if fields is not None else None
            if definition is None or field.selection_set is None:
                continue  # a scalar, or `__typename`
            field_type, is_list = _unwrap(definition.type)
            size = self._page_size(field, definition)
            count = multiplier * ((size or page or self._list_size) if is_list else 1)
            inner_page = size if not is_list else None
            # Objects with an id (articles, authors, items) are what the limit counts; others
            # (connections, field locales) only pass their multiplier on.
            total += (count if _is_node(field_type) else 0) + self.cost(
                field_type, field.selection_set, multiplier=count, page=inner_page
            )
        return total

    def _fields(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
        """Every field selected, with the type it is selected on (fragments followed once)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                on = self._type(selection.type_condition, parent)
                yield from self._fields(on, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is not None:
                    on = self._type(fragment.type_condition, parent)
                    yield from self._fields(on, fragment.selection_set)

    def _type(self, condition: NamedTypeNode | None, default: GraphQLNamedType) -> GraphQLNamedType:
        if condition is None:
            return default
        return self._schema.get_type(condition.name.value) or default

    def _page_size(self, field: FieldNode, definition: Any) -> int | None:
        for name in PAGE_ARGUMENTS:
            argument = definition.args.get(name)
            if argument is None:
                continue
            node = next((a for a in field.arguments or () if a.name.value == name), None)
            value = (
                value_from_ast(node.value, argument.type, dict(self._variables))
                if node is not None
                else argument.default_value
            )
            if isinstance(value, int) and value >= 0:
                return value
        return None


def _is_node(type_: Any) -> bool:
    return any(interface.name == "Node" for interface in getattr(type_, "interfaces", ()))


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class QueryCost(SchemaExtension):
    """Refuses an operation estimated above `max_cost` nodes before it runs."""

    def __init__(self, *, max_cost: int, list_size: int) -> None:
        self._max_cost = max_cost
        self._list_size = list_size
        self._cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            # A walk of the parsed document: microseconds, so not cached.
            cost = estimate_cost(
                context.schema._schema,
                document,
                operation_name=context.operation_name,
                variables=context.variables,
                list_size=self._list_size,
            )
            self._cost = cost
            if cost > self._max_cost:
                message = (
                    f"This query may return up to {cost} nodes; the limit is "
                    f"{self._max_cost}. Ask for smaller pages (`first`) or fewer nested lists."
                )
                extensions = {"code": "QUERY_TOO_COSTLY", "cost": cost, "maximum": self._max_cost}
                context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(message, extensions=extensions)]
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self._cost is None:
            return {}
        return {"cost": {"requested": self._cost, "maximum": self._max_cost}}

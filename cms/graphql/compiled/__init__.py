"""The compiled read path: a public query made only of fields it knows, answered without
graphql-core's executor. Each document (and operation, and the values its `@include`/`@skip`
conditions take) is validated and compiled once into a plan (`plan`), which runs Strawberry's own
resolvers and builds `data` directly (`run`). Whatever it does not run leaves no answer: the
request then goes the normal way, which answers it as it always did."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    specified_rules,
    visit,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language import ArgumentNode, Visitor
from strawberry import Schema
from strawberry.schema.schema import validate_document

from cms.db import database_unavailable
from cms.errors import CMSError
from cms.graphql.compiled.plan import (
    COMPILED_FIELDS,
    Arguments,
    Selection,
    Unsupported,
    compile_selection,
)
from cms.graphql.compiled.prefetch import prefetch
from cms.graphql.compiled.run import Fallback, run_selection
from cms.graphql.context import Context
from cms.graphql.cost import PAGE_ARGUMENTS, estimate_cost
from cms.graphql.input_text import unstorable_text, unstorable_variables
from cms.graphql.limits import validation_rules
from cms.graphql.parser_cache import ParsedDocument
from cms.settings import Settings

__all__ = ["COMPILED_FIELDS", "CompiledReads", "Prepared"]

logger = logging.getLogger("cms.graphql")

# Plans kept: one per document, operation and directive outcome that requests send.
_MAX_PLANS = 512


@dataclass(frozen=True)
class _Operation:
    """A document's query operation, validated, with what its plans depend on."""

    definition: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    # The variables its `@include`/`@skip` conditions read: a plan is made per their values.
    condition_variables: tuple[str, ...]
    # The variables its page sizes (`first`, `last`) read: its cost depends on them alone.
    page_variables: tuple[str, ...]


@dataclass(frozen=True)
class Prepared:
    plan: Selection
    variables: VariableValues
    # The estimate `QueryCost` reports in `extensions.cost`.
    cost: int


class CompiledReads:
    """The plans of one schema, made on first use and kept (least recently used out)."""

    def __init__(self, schema: Schema, settings: Settings) -> None:
        self._schema = schema
        self._settings = settings
        self._rules = (*specified_rules, *validation_rules(settings))
        self._operations: LRUCache[tuple[str, str | None], _Operation | None] = LRUCache(_MAX_PLANS)
        self._plans: LRUCache[tuple[str, str | None, tuple[Any, ...]], Selection | None] = LRUCache(
            _MAX_PLANS
        )
        self._costs: LRUCache[tuple[str, str | None, tuple[bytes, ...]], int] = LRUCache(_MAX_PLANS)
        self.answered = 0

    def prepare(
        self, parsed: ParsedDocument, operation_name: str | None, variables: object
    ) -> Prepared | None:
        """The plan of a public query with its variables, or None: the normal path answers it
        (anything not compiled, anything refused before execution). Reads nothing."""
        if parsed.document is None or not isinstance(variables, dict | None):
            return None
        operation = self._operation(parsed.query, parsed.document, operation_name)
        if operation is None or unstorable_variables(variables):
            return None
        coerced = get_variable_values(
            self._schema._schema, operation.definition.variable_definitions or (), variables or {}
        )
        if not isinstance(coerced, VariableValues):
            return None
        plan = self._plan(parsed.query, operation_name, operation, coerced)
        if plan is None:
            return None
        cost = self._cost(parsed, operation_name, operation, variables or {})
        if cost > self._settings.max_query_cost:
            return None
        return Prepared(plan, coerced, cost)

    async def answer(self, prepared: Prepared, context: Context) -> dict[str, Any] | None:
        """The response (`data` and `extensions`), or None when it would carry an error: the
        normal path then answers (and reports) it."""
        served = len(context.served_snippets)
        try:
            arguments = Arguments(prepared.variables)
            await prefetch(prepared.plan, context, arguments)
            data = await run_selection(prepared.plan, context, arguments)
        except (Fallback, CMSError):
            del context.served_snippets[served:]
            return None
        except Exception as error:
            del context.served_snippets[served:]
            if not database_unavailable(error):
                logger.warning("compiled read failed; answered the normal way", exc_info=True)
            return None
        self.answered += 1
        maximum = self._settings.max_query_cost
        return {
            "data": data,
            "extensions": {"cost": {"requested": prepared.cost, "maximum": maximum}},
        }

    def _cost(
        self,
        parsed: ParsedDocument,
        name: str | None,
        operation: _Operation,
        variables: dict[str, Any],
    ) -> int:
        """`QueryCost`'s estimate, made once per document and values of its page sizes."""
        pages = tuple(orjson.dumps(variables.get(v)) for v in operation.page_variables)
        key = (parsed.query, name, pages)
        cost = self._costs.get(key)
        if cost is None:
            assert parsed.document is not None
            cost = estimate_cost(
                self._schema._schema, parsed.document, operation_name=name,
                variables=variables, list_size=self._settings.query_cost_list_size,
            )  # fmt: skip
            self._costs[key] = cost
        return cost

    def _operation(self, query: str, document: DocumentNode, name: str | None) -> _Operation | None:
        key = (query, name)
        if key in self._operations:
            return self._operations[key]
        operation = _query_operation(document, name)
        if operation is not None and (
            validate_document(self._schema._schema, document, self._rules)
            or unstorable_text(document, None) is not None
        ):
            operation = None
        self._operations[key] = operation
        return operation

    def _plan(
        self, query: str, name: str | None, operation: _Operation, variables: VariableValues
    ) -> Selection | None:
        conditions = tuple(variables.coerced.get(v) for v in operation.condition_variables)
        key = (query, name, conditions)
        if key in self._plans:
            return self._plans[key]
        try:
            plan: Selection | None = compile_selection(
                self._schema, operation.definition, operation.fragments, variables
            )
        except (Unsupported, GraphQLError, CMSError, TypeError, ValueError) as error:
            logger.debug("not compiled: %s", error)
            plan = None
        self._plans[key] = plan
        return plan


def _query_operation(document: DocumentNode, name: str | None) -> _Operation | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        chosen = operations[0] if len(operations) == 1 else None
    else:
        chosen = next((o for o in operations if o.name and o.name.value == name), None)
    if chosen is None or chosen.operation is not OperationType.QUERY:
        return None
    fragments = {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    conditions, pages = _variables_read(document)
    return _Operation(chosen, fragments, conditions, pages)


def _variables_read(document: DocumentNode) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The variables read by directives, and by page sizes (`first`, `last`)."""
    conditions: dict[str, None] = {}
    pages: dict[str, None] = {}

    class Variables(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    conditions[argument.value.name.value] = None

        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value in PAGE_ARGUMENTS and isinstance(node.value, VariableNode):
                pages[node.value.name.value] = None

    visit(document, Variables())
    return tuple(conditions), tuple(pages)

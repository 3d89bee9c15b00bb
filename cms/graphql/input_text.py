"""Text that no database stores (NUL, other control characters, lone surrogates) is refused in
every argument and variable with `BAD_USER_INPUT`, naming where it was, before anything runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    visit,
)
from graphql.execution import ExecutionResult
from graphql.language import ArgumentNode, Visitor
from strawberry.extensions import SchemaExtension

from cms.text import UNSTORABLE_TEXT

__all__ = ["RefuseUnstorableText", "unstorable_text", "unstorable_variables"]


def unstorable_text(document: DocumentNode, variables: Mapping[str, Any] | None) -> str | None:
    """Where the first unstorable character is (`argument slug`, `variable input.title`)."""
    for path, text in _document_strings(document):
        if UNSTORABLE_TEXT.search(text):
            return f"argument `{path}`"
    return unstorable_variables(variables)


def unstorable_variables(variables: Mapping[str, Any] | None) -> str | None:
    """Where the first unstorable character of the variables is (`variable input.title`)."""
    for path, text in _variable_strings(variables or {}, ""):
        if UNSTORABLE_TEXT.search(text):
            return f"variable `{path}`"
    return None


def _document_strings(document: DocumentNode) -> Iterator[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    class Strings(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            found.extend(_literal_strings(node.value, node.name.value))

    visit(document, Strings())
    return iter(found)


def _literal_strings(node: ValueNode, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, StringValueNode):
        yield path, node.value
    elif isinstance(node, ListValueNode):
        for index, value in enumerate(node.values):
            yield from _literal_strings(value, f"{path}[{index}]")
    elif isinstance(node, ObjectValueNode):
        for field in node.fields:
            yield from _literal_strings(field.value, f"{path}.{field.name.value}")


def _variable_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield path or str(key), str(key)
            yield from _variable_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _variable_strings(item, f"{path}[{index}]")


class RefuseUnstorableText(SchemaExtension):
    """Refuses an operation whose arguments or variables hold unstorable text."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            where = unstorable_text(context.graphql_document, context.variables)
            if where is not None:
                message = (
                    f"The {where} holds a NUL or another control character, which text may "
                    "not contain."
                )
                context.result = ExecutionResult(
                    data=None,
                    errors=[GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})],
                )
        yield

"""A parser cache that leaves bad documents to Strawberry.

Strawberry's own `ParserCache` parses inside the extension hook, so a syntax error escapes the
path that reports it as a GraphQL error (it then arrives without an error code). This one only
serves documents that parse; a bad one is left for Strawberry to parse again and report.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

__all__ = ["ParserCache"]


@lru_cache(maxsize=1024)
def _parse(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class ParserCache(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        options: dict[str, Any] = dict(context.parse_options)
        if context.query is not None and set(options) <= {"max_tokens"}:
            try:
                context.graphql_document = _parse(context.query, options.get("max_tokens"))
            except GraphQLError:
                pass  # Strawberry parses it again and reports the error with its code
        yield

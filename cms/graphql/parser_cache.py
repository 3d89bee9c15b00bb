"""Parsing a document once: `Documents`, a cache bounded in bytes, and `ParserCache`, the extension
that hands Strawberry the document the HTTP endpoint parsed (`DOCUMENT_KEY`) or parses it itself.

A document over `max_tokens` is refused with `TOO_MANY_TOKENS` (the parser's own token count
says so, not its message); any other syntax error as `GRAPHQL_PARSE_FAILED`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, OperationType, Source
from graphql.language import OperationDefinitionNode, TokenKind
from graphql.language.parser import Parser
from strawberry.extensions import MaxTokensLimiter

from cms.graphql.limits import TooManyTokens

__all__ = ["DOCUMENT_KEY", "Documents", "Operation", "ParsedDocument", "ParserCache"]

# Where the HTTP endpoint leaves the request's `ParsedDocument` in the ASGI scope.
DOCUMENT_KEY = "cms.document"
# What a parsed token costs in memory, locations included: 380 to 630 bytes measured with
# tracemalloc (graphql-core 3.3), the most for a document of bare fields.
_BYTES_PER_TOKEN = 640


@dataclass(frozen=True)
class Operation:
    name: str | None
    type: OperationType
    variables: frozenset[str]


@dataclass(frozen=True)
class ParsedDocument:
    """A document as parsed: its AST, or the error that refused it; and, when it parsed, its
    normalised form (its tokens, without whitespace, commas or comments) and its operations."""

    query: str
    document: DocumentNode | None
    error: GraphQLError | None
    normalised: str = ""
    operations: tuple[Operation, ...] = ()
    size: int = 0

    def operation(self, name: str | None) -> Operation | None:
        """The operation a request naming `name` runs; None when there is no such one."""
        if name is None:
            return self.operations[0] if len(self.operations) == 1 else None
        return next((o for o in self.operations if o.name == name), None)


def parse(query: str, *, max_tokens: int) -> ParsedDocument:
    """Parse `query` (once; the caller keeps the result)."""
    parser = Parser(Source(query), max_tokens=max_tokens)
    try:
        document = parser.parse_document()
    except GraphQLError as error:
        if parser.token_count > max_tokens:
            return ParsedDocument(query, None, TooManyTokens(max_tokens))
        # Coded here: raised from this extension, it is reported after `ErrorCodes` has run.
        error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}
        return ParsedDocument(query, None, error)
    operations = tuple(
        Operation(
            d.name.value if d.name else None,
            d.operation,
            frozenset(v.variable.name.value for v in d.variable_definitions or ()),
        )
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    normalised = _normalised(document)
    size = len(query) + len(normalised) + _BYTES_PER_TOKEN * parser.token_count
    return ParsedDocument(query, document, None, normalised, operations, size)


def _normalised(document: DocumentNode) -> str:
    # The tokens the parser linked, joined: ~2 ms for 5000 tokens, where print_ast takes ~35.
    assert document.loc is not None
    parts = []
    token = document.loc.start_token.next
    while token is not None and token.kind is not TokenKind.EOF:
        kind = token.kind
        if kind is TokenKind.STRING or kind is TokenKind.BLOCK_STRING:
            parts.append(orjson.dumps(token.value).decode())
        elif kind is not TokenKind.COMMENT:
            parts.append(token.value if token.value is not None else kind.value)
        token = token.next
    return " ".join(parts)


class Documents:
    """Parsed documents by text, least recently used first out, within `max_bytes` (estimated:
    the text, its normalised form and the parsed tokens). Documents that do not parse are not
    kept."""

    def __init__(self, *, max_tokens: int, max_bytes: int) -> None:
        self.max_tokens = max_tokens
        self._parsed: LRUCache[str, ParsedDocument] = LRUCache(
            max_bytes, getsizeof=lambda parsed: parsed.size
        )

    def parse(self, query: str) -> ParsedDocument:
        parsed = self._parsed.get(query)
        if parsed is None:
            parsed = parse(query, max_tokens=self.max_tokens)
            if parsed.document is not None and parsed.size <= self._parsed.maxsize:
                self._parsed[query] = parsed
        return parsed


# For documents no HTTP request parsed first (subscriptions over a websocket).
_documents: dict[int, Documents] = {}
_SHARED_BYTES = 16 * 1024 * 1024


class ParserCache(MaxTokensLimiter):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query, max_tokens = context.query, self.max_token_count
        if query is not None and set(context.parse_options) <= {"max_tokens"}:
            parsed = _parsed_by_endpoint(context.context, query)
            if parsed is None:
                documents = _documents.get(max_tokens)
                if documents is None:
                    documents = Documents(max_tokens=max_tokens, max_bytes=_SHARED_BYTES)
                    _documents[max_tokens] = documents
                parsed = documents.parse(query)
            if parsed.error is not None:
                raise parsed.error
            context.graphql_document = parsed.document
        yield


def _parsed_by_endpoint(context: object, query: str) -> ParsedDocument | None:
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    parsed = scope.get(DOCUMENT_KEY) if isinstance(scope, dict) else None
    return parsed if isinstance(parsed, ParsedDocument) and parsed.query == query else None

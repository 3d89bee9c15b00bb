"""A parser cache that enforces the token limit and leaves other bad documents to Strawberry.

A document over `max_tokens` is refused here with `TOO_MANY_TOKENS` (the parser's own token
count says so, not its message); any other syntax error is left for Strawberry to parse again
and report (`GRAPHQL_PARSE_FAILED`).
"""

from __future__ import annotations

from collections.abc import Iterator

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, Source
from graphql.language.parser import Parser
from strawberry.extensions import MaxTokensLimiter

from cms.graphql.limits import TooManyTokens

__all__ = ["ParserCache"]

_documents: LRUCache[tuple[str, int], DocumentNode] = LRUCache(maxsize=1024)


class ParserCache(MaxTokensLimiter):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query, max_tokens = context.query, self.max_token_count
        if query is not None and set(context.parse_options) <= {"max_tokens"}:
            document = _documents.get((query, max_tokens))
            if document is None:
                parser = Parser(Source(query), max_tokens=max_tokens)
                try:
                    document = parser.parse_document()
                except GraphQLError:
                    if parser.token_count > max_tokens:
                        raise TooManyTokens(max_tokens) from None
                else:
                    _documents[(query, max_tokens)] = document
            context.graphql_document = document
        yield

"""The schema: types, root query and the extensions that guard and speed up every request."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from cms.graphql.context import CloseRequestDatabase
from cms.graphql.errors import ErrorCodes
from cms.graphql.queries import Query
from cms.settings import Settings

__all__ = ["build_schema", "schema_sdl"]


class _Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Strawberry logs every error with a traceback, a client's typo included; `ErrorCodes`
        logs the unexpected ones instead."""


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[SchemaExtension | type[SchemaExtension]] = [
        ErrorCodes(),
        CloseRequestDatabase,
        ParserCache(maxsize=1024),
        MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        QueryDepthLimiter(max_depth=settings.max_query_depth),
        MaxAliasesLimiter(max_alias_count=settings.max_query_aliases),
        ValidationCache(maxsize=1024),
    ]
    if not settings.introspection:
        extensions.append(AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return _Schema(query=Query, extensions=extensions)


def schema_sdl() -> str:
    """The public contract, as checked in at schema/schema.graphql."""
    return _Schema(query=Query).as_str() + "\n"

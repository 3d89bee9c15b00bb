"""The schema: types, root query and the extensions that guard and speed up every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import AddValidationRules, SchemaExtension, ValidationCache
from strawberry.tools import merge_types

from cms.graphql.authors import AuthorMutations, AuthorQuery
from cms.graphql.changes import Subscription
from cms.graphql.context import (
    CloseRequestDatabase,
    OnlySubscriptionsOverWebsocket,
    ReadContentRevision,
)
from cms.graphql.cost import QueryCost
from cms.graphql.errors import ErrorCodes, MaskUnexpectedErrors
from cms.graphql.input_text import RefuseUnstorableText
from cms.graphql.limits import validation_rules
from cms.graphql.mutations import Mutation as ContentMutation
from cms.graphql.parser_cache import ParserCache
from cms.graphql.queries import Query as ContentQuery
from cms.graphql.reviews import PreviewMutations, ReviewMutations
from cms.graphql.rich_text import RICH_TEXT_TYPES
from cms.graphql.translations import TranslationMutations
from cms.settings import Settings

__all__ = ["build_schema", "schema_sdl"]


Mutation = merge_types(
    "Mutation",
    (ContentMutation, TranslationMutations, ReviewMutations, PreviewMutations, AuthorMutations),
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Edits, each one transaction; every one needs a token with the scope it names."
)
Query = merge_types("Query", (ContentQuery, AuthorQuery))
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    ContentQuery.__strawberry_definition__.description  # type: ignore[attr-defined]
)


class _Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Strawberry logs every error with a traceback, a client's typo included;
        `MaskUnexpectedErrors` logs the unexpected ones instead."""


def build_schema(settings: Settings) -> strawberry.Schema:
    # Factories, not instances: Strawberry builds each extension afresh for every request. The
    # parser and validation caches live at module level, so they still outlast the request.
    rules = validation_rules(settings)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        MaskUnexpectedErrors,
        ErrorCodes,
        OnlySubscriptionsOverWebsocket,
        CloseRequestDatabase,
        lambda: ParserCache(max_token_count=settings.max_query_tokens),
        lambda: AddValidationRules(rules),
        # Validated documents are kept (up to ~3 MiB each at the token limit): few of them.
        lambda: ValidationCache(maxsize=128),
        RefuseUnstorableText,
        lambda: QueryCost(
            max_cost=settings.max_query_cost, list_size=settings.query_cost_list_size
        ),
        ReadContentRevision,
    ]
    return _Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=RICH_TEXT_TYPES,
        extensions=extensions,
    )


def schema_sdl() -> str:
    """The public contract, as checked in at schema/schema.graphql."""
    schema = _Schema(
        query=Query, mutation=Mutation, subscription=Subscription, types=RICH_TEXT_TYPES
    )
    return schema.as_str() + "\n"

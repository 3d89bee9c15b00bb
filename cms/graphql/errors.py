"""Error reporting: every GraphQL error gets an `extensions.code`; unexpected ones are masked.

Expected errors (`cms.errors.CMSError`) keep their message and code. Errors graphql-core raises
for a bad document or bad variables keep their message (it names the client's mistake); the
document limits carry their own codes (`cms.graphql.limits`). Anything else is logged with its
traceback and reaches the client only as "Internal server error.", with the request id to
quote; an unreachable database is `SERVICE_UNAVAILABLE` (HTTP 503).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import MaskErrors, SchemaExtension

from cms.db import database_unavailable
from cms.errors import CMSError, ServiceUnavailable
from cms.logs import request_id_var

__all__ = ["ErrorCodes", "MaskUnexpectedErrors"]

logger = logging.getLogger("cms.graphql")

INTERNAL_MESSAGE = "Internal server error."


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = request_id_var.get()
        original = error.original_error
        if original is not None and database_unavailable(original):
            logger.warning("database unavailable: %s", original)
            unavailable = ServiceUnavailable()
            return GraphQLError(
                unavailable.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": unavailable.code, "requestId": request_id},
            )
        logger.error("unexpected error in %s", error.path or "operation", exc_info=original)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


class ErrorCodes(SchemaExtension):
    """Gives a code to the errors graphql-core makes without one: a document that does not
    parse or validate, and bad variables or arguments."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in (result.errors if result is not None else None) or ():
            if error.extensions is None or "code" not in error.extensions:
                error.extensions = {**(error.extensions or {}), "code": _code_of(error)}


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, CMSError | GraphQLError)


def _code_of(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"

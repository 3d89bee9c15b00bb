"""Error reporting: every GraphQL error gets an `extensions.code`; unexpected ones are masked.

Expected errors (`cms.errors.CMSError`) keep their message and code. Errors graphql-core raises
for a bad document or bad variables keep their message (it names the client's mistake). Anything
else is logged with its traceback and reaches the client only as "Internal server error.",
with the request id to quote; an unreachable database is `SERVICE_UNAVAILABLE` (HTTP 503).
"""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from cms.db import database_unavailable
from cms.errors import CMSError
from cms.logs import request_id_var

__all__ = ["SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE_MESSAGE", "ErrorCodes"]

logger = logging.getLogger("cms.graphql")

INTERNAL_MESSAGE = "Internal server error."
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
SERVICE_UNAVAILABLE_MESSAGE = "The database is unavailable; try again in a few seconds."


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = request_id_var.get()
        original = error.original_error
        if original is not None and database_unavailable(original):
            logger.warning("database unavailable: %s", original)
            masked = GraphQLError(
                SERVICE_UNAVAILABLE_MESSAGE, nodes=error.nodes, path=error.path,
                extensions={"code": SERVICE_UNAVAILABLE, "requestId": request_id},
            )  # fmt: skip
            return masked
        logger.error("unexpected error in %s", error.path or "operation", exc_info=original)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if error.extensions is None or "code" not in error.extensions:
                error.extensions = {**(error.extensions or {}), "code": _code_of(error)}
        return processed


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, CMSError | GraphQLError)


# The document limits are reported by Strawberry's and graphql-core's own rules, which carry no
# code of their own; these are recognised by their (stable) messages.
_LIMIT_CODES = (
    (re.compile(r"exceeds maximum operation depth"), "QUERY_TOO_DEEP"),
    (re.compile(r"aliases found\. Allowed"), "TOO_MANY_ALIASES"),
    (re.compile(r"Document contains more than \d+ tokens"), "TOO_MANY_TOKENS"),
    (re.compile(r"introspection", re.IGNORECASE), "INTROSPECTION_DISABLED"),
)


def _code_of(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, CMSError):
        return original.code
    if error.path is None:
        for pattern, code in _LIMIT_CODES:
            if pattern.search(error.message):
                return code
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"

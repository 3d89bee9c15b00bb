"""The one JSON error envelope, `{"errors": [{"message", "extensions": {"code", ...}}]}`, and the
Starlette exception handlers that answer with it."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping

import orjson
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

from cms.db import database_unavailable
from cms.errors import CMSError, ServiceUnavailable

__all__ = ["as_cms_error", "error_body", "error_response", "exception_handlers"]

logger = logging.getLogger("cms.http")


def error_body(error: CMSError) -> bytes:
    # The same extensions as the error has inside a GraphQL result (`retryAfter`, say).
    return orjson.dumps({"errors": [{"message": error.message, "extensions": error.extensions}]})


def error_response(
    error: CMSError, *, headers: Mapping[str, str] | None = None, media_type: str | None = None
) -> Response:
    """`error` as an HTTP answer: its status, its headers, the envelope."""
    return Response(
        error_body(error),
        error.status,
        {**error.headers, **(headers or {})},
        media_type=media_type or "application/json",
    )


def as_cms_error(error: Exception) -> CMSError | None:
    """The CMS error an exception means: itself, `ServiceUnavailable` for an unreachable
    database (logged here, once), else None (a bug: let it be a 500)."""
    if isinstance(error, CMSError):
        return error
    if database_unavailable(error):
        logger.warning("database unavailable: %s", error)
        return ServiceUnavailable()
    return None


async def _handle(request: Request, error: Exception) -> Response:
    cms_error = as_cms_error(error)
    if cms_error is None:
        raise error
    return error_response(cms_error)


# The exceptions `cms.db.database_unavailable` recognises, so that they reach `_handle`.
_DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa.exc.DBAPIError,
    sa.exc.TimeoutError,
    sqlite3.OperationalError,
    OSError,
)


def exception_handlers() -> dict[type[Exception], ExceptionHandler]:
    kinds: tuple[type[Exception], ...] = (CMSError, *_DATABASE_ERRORS)
    return dict.fromkeys(kinds, _handle)

"""Conditional GET for the routes that serve whole documents: a strong ETag of the body, and 304
when the client already holds it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["conditional_response", "etag_of"]


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def conditional_response(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    headers: Mapping[str, str],
    etag: str | None = None,
) -> Response:
    """`body` with its ETag and `headers`, or an empty 304 with the same headers when
    `If-None-Match` names the ETag (or is `*`)."""
    etag = etag or etag_of(body)
    sent = {**headers, "etag": etag}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=sent)
    return Response(body, media_type=media_type, headers=sent)


def _matches(header: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
    return etag in tags or "*" in tags

"""Conditional GET: a strong ETag of a body, and whether `If-None-Match` already names it
(weak tags compare equal, `*` matches anything), for GraphQL, embeds, oEmbed and the hot path."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["conditional_response", "etag_of", "not_modified"]


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether a client sending `If-None-Match: if_none_match` holds `etag` (weak comparison,
    as RFC 9110 asks for If-None-Match)."""
    if not if_none_match:
        return False
    etag = etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def conditional_response(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    headers: Mapping[str, str],
    etag: str | None = None,
    status_code: int = 200,
) -> Response:
    """`body` with its ETag and `headers`, or an empty 304 with the same headers when
    `If-None-Match` names the ETag (or is `*`)."""
    etag = etag or etag_of(body)
    sent = {**headers, "etag": etag}
    if not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=sent)
    return Response(body, status_code, sent, media_type=media_type)

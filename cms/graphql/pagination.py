"""Relay connections over keyset pagination: opaque cursors, exact page info at both ends."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass

from cms.errors import BadUserInput

__all__ = [
    "PageRequest",
    "decode_cursor",
    "decode_ranked_cursor",
    "encode_cursor",
    "encode_ranked_cursor",
    "page_request",
]

_CURSOR_PREFIX = "v1:slug:"
_RANKED_PREFIX = "v1:ranked:"
DEFAULT_PAGE_SIZE = 20


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, prefix: str, argument: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    if not decoded.startswith(prefix) or decoded == prefix:
        raise BadUserInput(f"`{argument}` is not a valid cursor; pass a cursor this API returned.")
    return decoded.removeprefix(prefix)


def encode_cursor(slug: str) -> str:
    return _encode(_CURSOR_PREFIX + slug)


def decode_cursor(cursor: str, argument: str) -> str:
    return _decode(cursor, _CURSOR_PREFIX, argument)


def encode_ranked_cursor(score: float, slug: str) -> str:
    """A place in a ranked list (best score first, ties by slug); `repr` keeps the float exact."""
    return _encode(f"{_RANKED_PREFIX}{score!r}:{slug}")


def decode_ranked_cursor(cursor: str, argument: str) -> tuple[float, str]:
    score, _, slug = _decode(cursor, _RANKED_PREFIX, argument).partition(":")
    try:
        value = float(score)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not slug:
        raise BadUserInput(f"`{argument}` is not a valid cursor; pass a cursor this API returned.")
    return value, slug


@dataclass(frozen=True)
class PageRequest:
    """A validated page request: which bounds, how many, and from which end."""

    after: str | None
    before: str | None
    size: int
    from_end: bool


def page_request(
    *, first: int | None, after: str | None, last: int | None, before: str | None, max_size: int
) -> PageRequest:
    if first is not None and last is not None:
        raise BadUserInput("Pass either `first` or `last`, not both.")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_size:
            raise BadUserInput(f"`{name}` must be between 0 and {max_size}; got {value}.")
    return PageRequest(
        after=decode_cursor(after, "after") if after is not None else None,
        before=decode_cursor(before, "before") if before is not None else None,
        size=last if last is not None else (first if first is not None else DEFAULT_PAGE_SIZE),
        from_end=last is not None,
    )

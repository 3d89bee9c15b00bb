"""Relay connections over keyset pagination: opaque cursors, exact page info at both ends."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cms.errors import BadUserInput

__all__ = ["PageRequest", "decode_cursor", "encode_cursor", "page_request"]

_CURSOR_PREFIX = "v1:slug:"
DEFAULT_PAGE_SIZE = 20


def encode_cursor(slug: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + slug).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    if not decoded.startswith(_CURSOR_PREFIX) or decoded == _CURSOR_PREFIX:
        raise BadUserInput(f"`{argument}` is not a valid cursor; pass a cursor this API returned.")
    return decoded.removeprefix(_CURSOR_PREFIX)


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

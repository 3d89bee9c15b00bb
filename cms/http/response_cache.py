"""The response cache: finished GraphQL responses, reused until content changes.

An entry is keyed by the normalised document, the variables, the operation name, the caller's
access level (public or preview, so a draft can never be served to the public) and the content
revision: the id of the newest outbox event, which every content write adds in its own
transaction. A publish, edit or delete therefore changes the key of every entry at once, and the
very next request misses; old entries simply age out of the LRU.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import orjson
from graphql import GraphQLError, OperationType, parse, print_ast
from graphql.language import OperationDefinitionNode

__all__ = ["CachedResponse", "ResponseCache", "cache_key", "operation_type"]


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> CachedResponse:
        return cls(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', media_type)


@lru_cache(maxsize=4096)
def _normalised(document: str) -> tuple[str, tuple[tuple[str | None, OperationType], ...]] | None:
    try:
        ast = parse(document, no_location=True)
    except GraphQLError:
        return None
    operations = tuple(
        (d.name.value if d.name else None, d.operation)
        for d in ast.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    return print_ast(ast), operations


def operation_type(document: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation a request would run; None when the document does not parse
    or names no such operation (Strawberry then reports the error)."""
    normalised = _normalised(document)
    if normalised is None:
        return None
    operations = normalised[1]
    if operation_name is None:
        return operations[0][1] if len(operations) == 1 else None
    return next((kind for name, kind in operations if name == operation_name), None)


def cache_key(
    *, document: str, variables: object, operation_name: str | None, access: str, revision: int
) -> bytes | None:
    normalised = _normalised(document)
    if normalised is None:
        return None
    parts = [access, str(revision), operation_name or "", normalised[0]]
    encoded_variables = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256("\0".join(parts).encode() + b"\0" + encoded_variables).digest()


class ResponseCache:
    """A bounded LRU of response bodies."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[bytes, CachedResponse] = OrderedDict()
        self._max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: CachedResponse) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

"""The response cache: finished GraphQL responses, reused until content changes.

An entry is keyed by the normalised document, the variables, the operation name and the caller's
access level (public or preview, so a draft can never be served to the public), and holds the
content revision it was made at: a counter every content write bumps in its own transaction. It
is served only while the revision is unchanged, so a publish, edit or delete is visible on the
very next request. The revision a response was made at is read after validation and before
execution (`cms.graphql.context.ReadContentRevision`), so a write racing the execution can only
make the entry look older than it is, never newer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import orjson
from cachetools import LRUCache
from graphql import GraphQLError, OperationType, parse, print_ast
from graphql.language import OperationDefinitionNode

from cms.http.conditional import etag_of

__all__ = ["CachedResponse", "ResponseCache", "cache_key", "operation_type"]


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: str
    # The snippets the response serves, counted again each time it is reused.
    served_snippets: tuple[tuple[str, str], ...] = ()
    # Whether it selects a snippet field: reusing it is a snippet read, for the rate limit.
    reads_snippets: bool = False

    @classmethod
    def of(cls, body: bytes) -> CachedResponse:
        return cls(body, etag_of(body))


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
    *, document: str, variables: object, operation_name: str | None, access: str
) -> bytes | None:
    """The request's key, without the revision: an entry keeps the revision it was made at."""
    normalised = _normalised(document)
    if normalised is None:
        return None
    parts = [access, operation_name or "", normalised[0]]
    encoded_variables = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256("\0".join(parts).encode() + b"\0" + encoded_variables).digest()


class ResponseCache:
    """A bounded LRU of responses, each kept with the content revision it was made at.

    Only documents that validated and executed are ever stored, so a request whose key is not
    here needs no revision read before it runs: a document refused by validation costs no
    database work at all."""

    def __init__(self, max_entries: int) -> None:
        self._entries: LRUCache[bytes, tuple[int, CachedResponse]] = LRUCache(max_entries)
        self.hits = 0
        self.misses = 0

    def __contains__(self, key: bytes) -> bool:
        return key in self._entries

    def get(self, key: bytes, revision: int) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != revision:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: bytes, revision: int, response: CachedResponse) -> None:
        self._entries[key] = (revision, response)

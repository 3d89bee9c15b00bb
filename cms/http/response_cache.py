"""The response cache: finished GraphQL responses, reused until content changes.

An entry is keyed by the normalised document, the variables its operation declares, the
operation name and the caller's access level (public or preview, so a draft can never be served
to the public), and holds the content revision it was made at: a counter every content write
bumps in its own transaction. It is served only while the revision is unchanged, so a publish,
edit or delete is visible on the very next request. The revision a response was made at is read
after validation and before execution (`cms.graphql.context.ReadContentRevision`), so a write
racing the execution can only make the entry look older than it is, never newer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
from cachetools import LRUCache

from cms.graphql.parser_cache import ParsedDocument
from cms.http.conditional import etag_of

__all__ = ["CachedResponse", "ResponseCache", "cache_key"]

# What an entry costs beside its body: the key, the tuple, the dataclass.
_ENTRY_OVERHEAD = 200


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


def cache_key(
    *, parsed: ParsedDocument, variables: object, operation_name: str | None, access: str
) -> bytes | None:
    """The request's key, without the revision: an entry keeps the revision it was made at.
    Only the variables the operation declares count (GraphQL ignores any other), so an extra
    one makes no new entry. None: not to be cached."""
    operation = parsed.operation(operation_name)
    if operation is None or not isinstance(variables, dict | None):
        return None
    declared = {k: v for k, v in (variables or {}).items() if k in operation.variables}
    parts = [access, operation_name or "", parsed.normalised]
    encoded_variables = orjson.dumps(declared, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256("\0".join(parts).encode() + b"\0" + encoded_variables).digest()


class ResponseCache:
    """An LRU of responses within `max_entries` and `max_bytes` (bodies and keys), each kept
    with the content revision it was made at.

    Only documents that validated and executed are ever stored, so a request whose key is not
    here needs no revision read before it runs: a document refused by validation costs no
    database work at all."""

    def __init__(self, max_entries: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._max_entries = max_entries
        self._entries: LRUCache[bytes, tuple[int, CachedResponse]] = LRUCache(
            max_bytes, getsizeof=lambda entry: _ENTRY_OVERHEAD + len(entry[1].body)
        )
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
        entry = (revision, response)
        if self._entries.getsizeof(entry) > self._entries.maxsize:
            return  # larger than the whole cache: not kept
        self._entries[key] = entry
        while len(self._entries) > self._max_entries:
            self._entries.popitem()

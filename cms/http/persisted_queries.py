"""Automatic persisted queries, the protocol Apollo clients speak.

A client first sends only `extensions.persistedQuery.sha256Hash`; if the server does not know
the hash it answers `PERSISTED_QUERY_NOT_FOUND`, and the client sends the query with its hash
once, which the server checks and remembers. After that a query fits in a short GET URL that
browsers and CDNs cache. The store is per process: a worker that has not seen a hash asks for
the query once, as the protocol intends.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cachetools import LRUCache

from cms.errors import PersistedQueryMismatch, PersistedQueryNotFound, PersistedQueryNotSupported

__all__ = ["PersistedQueries"]


class PersistedQueries:
    """Queries by their hash, least recently used first out, within `max_bytes` of text."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        # The 64-character hash beside each query.
        self._queries: LRUCache[str, str] = LRUCache(
            max_bytes, getsizeof=lambda query: 64 + len(query)
        )

    def resolve(self, query: str | None, extensions: Any) -> str | None:
        """The query to run: as sent, or looked up by its hash. Raises `PersistedQueryError`
        (`PersistedQueryNotFound`, ...) for an unknown hash or a hash that does not match."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if not isinstance(persisted, dict):
            return query
        digest = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(digest, str):
            raise PersistedQueryNotSupported("Only persistedQuery version 1 with a sha256Hash.")
        if query is None:
            known = self._queries.get(digest)
            if known is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            return known
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryMismatch("provided sha does not match query")
        if self._queries.getsizeof(query) <= self._queries.maxsize:
            self._queries[digest] = query
        return query

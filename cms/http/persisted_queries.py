"""Documents sent by their hash: trusted documents (`documentId`, see
`cms.http.trusted_documents`) and automatic persisted queries, the protocol Apollo clients speak.

For automatic persisted queries a client first sends only `extensions.persistedQuery.sha256Hash`;
if the server does not know the hash it answers `PERSISTED_QUERY_NOT_FOUND`, and the client sends
the query with its hash once, which the server checks and remembers. After that a query fits in a
short GET URL that browsers and CDNs cache. The store is per process: a worker that has not seen a
hash asks for the query once, as the protocol intends. A hash of a trusted document is known
without that first round. With `CMS_TRUSTED_DOCUMENTS=only` every document, however it is
sent, must be in the manifest.
"""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache

from cms.errors import (
    BadRequest,
    PersistedQueryMismatch,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
)
from cms.http.trusted_documents import TrustedDocuments, document_hash

__all__ = ["PersistedQueries"]


class PersistedQueries:
    """Queries by their hash, least recently used first out, within `max_bytes` of text; the
    trusted documents first."""

    def __init__(
        self, max_bytes: int = 16 * 1024 * 1024, trusted: TrustedDocuments | None = None
    ) -> None:
        # The 64-character hash beside each query.
        self._queries: LRUCache[str, str] = LRUCache(
            max_bytes, getsizeof=lambda query: 64 + len(query)
        )
        self.trusted = trusted or TrustedDocuments()

    def resolve(self, query: str | None, extensions: Any, document_id: Any = None) -> str | None:
        """The query to run: as sent, or looked up by its id or hash. Raises
        `PersistedQueryError` (`PersistedQueryNotFound`, ...) for an unknown hash or a hash
        that does not match, `TrustedDocumentNotFound` for an unknown `documentId`,
        `UntrustedDocument` for a document not in the manifest when only those run."""
        if document_id is not None:
            if query is not None:
                raise BadRequest("Send either `query` or `documentId`, not both.")
            return self.trusted.by_id(document_id)
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if not isinstance(persisted, dict):
            if query is not None:
                self.trusted.require(document_hash(query))
            return query
        digest = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(digest, str):
            raise PersistedQueryNotSupported("Only persistedQuery version 1 with a sha256Hash.")
        if query is None:
            known = self.trusted.by_hash(digest)
            if known is None:
                self.trusted.require(digest)
                known = self._queries.get(digest)
            if known is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            return known
        if document_hash(query) != digest:
            raise PersistedQueryMismatch("provided sha does not match query")
        self.trusted.require(digest)
        if self._queries.getsizeof(query) <= self._queries.maxsize:
            self._queries[digest] = query
        return query

"""Trusted documents (persisted operations): the operations a client was built with, known to
the server by their sha256 hash before any request.

The manifest is a JSON object of `"sha256:<hex>"` (or bare hex) -> document, as graphql-codegen's
client preset writes it (`persistedDocuments: true` -> `persisted-documents.json`). A client sends
`{"documentId": "sha256:<hex>", "variables": ...}` instead of the text. With
`CMS_TRUSTED_DOCUMENTS=only`, the manifest is also the list of everything the server runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import orjson

from cms.errors import BadRequest, TrustedDocumentNotFound, UntrustedDocument
from cms.settings import Settings

__all__ = ["TrustedDocuments", "document_hash", "load_manifest"]

Mode = Literal["off", "allow", "only"]
_PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    """The bare hex sha256 of a document's text, as the manifest and APQ hash it."""
    return hashlib.sha256(document.encode()).hexdigest()


def _digest(document_id: str) -> str | None:
    """The bare hex hash a `documentId` names; None when it is not a sha256 id."""
    digest = document_id.removeprefix(_PREFIX).lower()
    return digest if _HEX.fullmatch(digest) else None


def load_manifest(path: Path) -> dict[str, str]:
    """The manifest at `path`, by bare hex hash. Raises `ValueError`, naming the setting, for a
    file that is not such a manifest or an entry whose document does not hash to its key."""
    where = f"CMS_TRUSTED_DOCUMENTS_FILE={path}"
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise ValueError(f"{where}: not a readable JSON manifest ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object of hash -> document")
    documents: dict[str, str] = {}
    for key, document in data.items():
        digest = _digest(key)
        if digest is None or not isinstance(document, str):
            raise ValueError(f"{where}: {key!r} is not a sha256 hash with a document")
        if document_hash(document) != digest:
            raise ValueError(f"{where}: the document of {key!r} does not hash to it")
        documents[digest] = document
    return documents


class TrustedDocuments:
    """The manifest's documents and what the mode makes of the others."""

    def __init__(self, mode: Mode = "off", documents: Mapping[str, str] | None = None) -> None:
        self.mode = mode
        self._documents = dict(documents or {})

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustedDocuments:
        path = settings.trusted_documents_file
        documents = load_manifest(path) if path is not None else {}
        return cls(settings.trusted_documents, documents)

    @property
    def only(self) -> bool:
        return self.mode == "only"

    def __len__(self) -> int:
        return len(self._documents)

    def by_id(self, document_id: object) -> str:
        """The document a `documentId` names. Raises `TrustedDocumentNotFound` for an id not
        in the manifest (or with trusted documents off), `BadRequest` for one of no known form."""
        if not isinstance(document_id, str):
            raise BadRequest("`documentId` must be a string.")
        digest = _digest(document_id)
        if digest is None:
            raise BadRequest("`documentId` must be `sha256:` and 64 hex digits.")
        if self.mode == "off":
            raise TrustedDocumentNotFound(
                "This server takes no `documentId`: trusted documents are off; send `query`."
            )
        document = self._documents.get(digest)
        if document is None:
            raise TrustedDocumentNotFound(f"No trusted document {_PREFIX}{digest}.")
        return document

    def by_hash(self, digest: str) -> str | None:
        """The manifest's document with this bare hex hash (an APQ `sha256Hash`), if any."""
        return self._documents.get(digest.lower()) if self.mode != "off" else None

    def require(self, digest: str) -> None:
        """With `only`: raise `UntrustedDocument` unless the document hashing to `digest` is
        in the manifest."""
        if self.only and digest.lower() not in self._documents:
            raise UntrustedDocument(
                "Only trusted documents run here: send the `documentId` of a document in the "
                "manifest your client was built with."
            )

"""Cache hits without the framework: an anonymous query whose exact request was answered before,
at the content revision still current, is answered here, in front of routing and GraphQL.

The GraphQL endpoint marks the anonymous query responses worth keeping (`HotResponses.remember`)
and this middleware, the outermost, keeps them as they leave, with every layer's headers.
An entry is keyed by the request exactly as it arrived — method, content type, whether the
client accepts `application/graphql-response+json`, whether it sent an `Origin` (CORS answers
only those), and the body or query string — and keeps the
content revision its response was made at, so it is served only while no write has happened
since: the same rule, and the same revision, as the response cache behind it.

What the full path does for such a request happens here too: the request id, the body limit,
the time limit on reading the body (408 for a slow client), metrics, the access log line,
ETag/304 and byte-identical headers, and for a keyless snippet read the snippet limit and the
usage count: an entry remembers whether its request counts against the limit and the snippets
it serves, and each hit is checked and counted (`cms.http.policy.KeylessSnippetReads`). A hit
over the limit goes the full way, which answers the refusal as it always does, from the bucket
decided here (so counted once). Anything else — a token, a partner key, a body too large or
streamed, a request never seen, an older revision — goes on to the app unchanged, its body
replayed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.errors import CMSError
from cms.http.conditional import not_modified
from cms.http.errors import error_response
from cms.http.graphql_request import read_body_within, replay_body
from cms.http.middleware import (
    RequestObserver,
    body_timeout,
    request_id_of,
)
from cms.http.policy import KeylessSnippetReads

__all__ = ["HOT_KEY", "HotPath", "HotResponse", "HotResponses", "StarletteWithHotPath"]

HOT_KEY = "cms.hot_key"
# Bodies above this go the full way: hot queries are small, and a big body is not worth keeping.
_MAX_HOT_BODY = 16 * 1024
_PASS_THROUGH_HEADERS = frozenset({b"authorization", b"x-partner-key", b"cookie"})
# What an entry costs beside its bytes: the tuples, the dataclass.
_ENTRY_OVERHEAD = 300


@dataclass(frozen=True)
class HotResponse:
    revision: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    operation: str | None
    # (article slug, benefit slug) of each snippet it serves, counted for usage at every hit.
    served: tuple[tuple[str, str], ...] = ()
    # Whether its request counts against the keyless snippet limit.
    limited: bool = False
    # Bytes it holds, its key's included: what the table's byte budget counts.
    size: int = 0


class _Pending:
    """What the app said about keeping the response to one request let through: the entry,
    but for its headers and body."""

    keep: HotResponse | None = None


class HotResponses:
    """The table: filled by the GraphQL endpoint, read by `HotPath`; oldest entries go first."""

    def __init__(
        self, max_entries: int, max_bytes: int = 64 * 1024 * 1024, *, body_timeout: float = 10.0
    ) -> None:
        # FIFO, not LRU: a hit then costs no reordering, and it is a plain dict (in the order
        # entries came) lookup: cachetools' FIFOCache.get is four Python calls. Bounded in bytes
        # (each entry's size counted once, as it is stored) and in entries.
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: dict[tuple[bytes, ...], HotResponse] = {}
        self._bytes = 0
        self.hits = 0
        # Seconds `HotPath` waits for a body, as the request timeout behind it would.
        self.body_timeout = body_timeout

    def get(self, key: tuple[bytes, ...]) -> HotResponse | None:
        return self._entries.get(key)

    def remember(
        self,
        scope: Scope,
        *,
        revision: int,
        etag: str,
        operation: str | None,
        served: tuple[tuple[str, str], ...] = (),
        limited: bool = False,
    ) -> None:
        """Mark the response being sent for this request as one to keep: `HotPath` keeps it as
        it leaves the app, every header of every layer included, when it is a 200. `served` and
        `limited`: the snippets it serves and whether it counts against the snippet limit."""
        pending = scope.get(HOT_KEY)
        if isinstance(pending, _Pending):
            pending.keep = HotResponse(revision, [], b"", etag, operation, served, limited)

    def _keep(self, key: tuple[bytes, ...], entry: HotResponse) -> None:
        size = _ENTRY_OVERHEAD + sum(map(len, key)) + len(entry.body)
        size += sum(len(name) + len(value) for name, value in entry.headers)
        size += sum(len(article) + len(benefit) for article, benefit in entry.served)
        if size > self._max_bytes:
            return
        self._drop(key)  # kept again: it goes last
        self._entries[key] = replace(entry, size=size)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[bytes, ...]) -> None:
        dropped = self._entries.pop(key, None)
        if dropped is not None:
            self._bytes -= dropped.size


class HotPath:
    """ASGI middleware; `current_revision` is the revision source of the response cache."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        responses: HotResponses,
        current_revision: Callable[[], Awaitable[int]],
        observer: RequestObserver,
        snippet_reads: KeylessSnippetReads,
    ) -> None:
        self.app = app
        self._responses = responses
        self._current_revision = current_revision
        self._observer = observer
        self._snippet_reads = snippet_reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers = dict(scope["headers"])
        if method not in ("GET", "POST") or not _PASS_THROUGH_HEADERS.isdisjoint(headers):
            await self.app(scope, receive, send)
            return
        if method == "POST":
            length = headers.get(b"content-length")
            if length is None or not length.isdigit() or int(length) > _MAX_HOT_BODY:
                await self.app(scope, receive, send)
                return
            started = time.perf_counter()
            try:
                body = await read_body_within(receive, self._responses.body_timeout)
            except TimeoutError:  # a slow client: cut off, as the full path would
                error = body_timeout(self._responses.body_timeout)
                await self._refuse(scope, send, headers, error, time.perf_counter() - started)
                return
            if body is None:
                return
            request = body
        else:
            request = scope["query_string"]
        accept = headers.get(b"accept", b"")
        key = (
            method.encode(),
            headers.get(b"content-type", b""),
            b"graphql-response" if b"application/graphql-response+json" in accept else b"",
            b"origin" if b"origin" in headers else b"",
            request,
        )
        entry = self._responses.get(key)
        if entry is None or entry.revision != await self._revision_or_none():
            if method == "POST":
                receive = replay_body(request, receive)
            await self._pass_on_and_keep(scope, receive, send, key)
            return
        if entry.limited and not await self._snippet_reads.admit(scope):
            # Over the snippet limit: refused by the full path, as every other refusal is.
            if method == "POST":
                receive = replay_body(request, receive)
            await self.app(scope, receive, send)
            return
        self._responses.hits += 1
        await self._answer(scope, send, headers, entry)
        if entry.served:
            self._snippet_reads.count(entry.served)

    async def _pass_on_and_keep(
        self, scope: Scope, receive: Receive, send: Send, key: tuple[bytes, ...]
    ) -> None:
        # Shared by every copy of the scope the layers below may make.
        scope[HOT_KEY] = pending = _Pending()
        start: Message | None = None
        chunks: list[bytes] = []

        async def watch(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, watch)
        if pending.keep is None or start is None or start["status"] != 200:
            return
        headers = [h for h in start.get("headers", ()) if h[0].lower() != b"x-request-id"]
        self._responses._keep(key, replace(pending.keep, headers=headers, body=b"".join(chunks)))

    async def _revision_or_none(self) -> int | None:
        # An unreachable database is the app's to report (503), not a crash here.
        try:
            return await self._current_revision()
        except Exception:  # noqa: BLE001
            return None

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        headers: dict[bytes, bytes],
        error: CMSError,
        elapsed: float,
    ) -> None:
        request_id = request_id_of(headers)
        response = error_response(error, headers={"x-request-id": request_id})
        await response(scope, _no_receive, send)
        self._observer.observe(
            method=scope["method"], path="/graphql", status=error.status, elapsed=elapsed,
            operation=None, request_id=request_id,
        )  # fmt: skip

    async def _answer(
        self, scope: Scope, send: Send, headers: dict[bytes, bytes], entry: HotResponse
    ) -> None:
        # Nothing else is logged while a hit is answered: its access line is given its request
        # id, and no context variable is set for it.
        started = time.perf_counter()
        request_id = request_id_of(headers)
        request_id_header = (b"x-request-id", request_id.encode())
        if_none_match = headers.get(b"if-none-match")
        if if_none_match is not None and not_modified(if_none_match.decode("latin-1"), entry.etag):
            status = 304
            response_headers = [
                *(h for h in entry.headers if h[0] not in (b"content-length", b"content-type")),
                request_id_header,
            ]
            await send({"type": "http.response.start", "status": 304, "headers": response_headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            status = 200
            await send({"type": "http.response.start", "status": 200,
                        "headers": [*entry.headers, request_id_header]})  # fmt: skip
            await send({"type": "http.response.body", "body": entry.body})
        self._observer.observe(
            method=scope["method"], path="/graphql", status=status,
            elapsed=time.perf_counter() - started, operation=entry.operation,
            request_id=request_id,
        )  # fmt: skip


class StarletteWithHotPath(Starlette):
    """Starlette with a hot path in front of all of it, its own error layer included, so that a
    hit costs no framework at all. Everything else goes through Starlette as usual."""

    hot_path: HotPath | None = None

    def put_hot_path_in_front(
        self,
        *,
        responses: HotResponses,
        current_revision: Callable[[], Awaitable[int]],
        observer: RequestObserver,
        snippet_reads: KeylessSnippetReads,
    ) -> None:
        self.hot_path = HotPath(
            super().__call__,
            responses=responses,
            current_revision=current_revision,
            observer=observer,
            snippet_reads=snippet_reads,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot_path is None:
            await super().__call__(scope, receive, send)
        else:
            await self.hot_path(scope, receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}

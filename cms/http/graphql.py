"""The GraphQL endpoint: Strawberry's ASGI view, behind token authentication, automatic persisted
queries and the response cache, with ETags and Cache-Control on every query response.

Keyless snippet reads are limited per client IP here too, where they are certain: the snippet
resolvers (and a cached response that serves snippets) count a request `PartnerMiddleware` did
not already count, and over the limit answer 429 `RATE_LIMITED` with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from cms.access import ANONYMOUS, Principal
from cms.access import Scope as AccessScope
from cms.changes import ChangeChannel
from cms.db import Database, database_unavailable
from cms.errors import RateLimited, Unauthenticated
from cms.graphql.context import REVISION_KEY, SERVED_SNIPPETS_KEY, Context, RequestDatabase
from cms.graphql.errors import SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE
from cms.graphql.schema import build_schema
from cms.http.graphql_request import BadRequest, parse_graphql_request, replay_body
from cms.http.hot_path import HotResponses
from cms.http.middleware import OPERATION_KEY
from cms.http.partners import LIMITED_KEY, keyless_client
from cms.http.persisted_queries import PersistedQueries, PersistedQueryError
from cms.http.rate_limit import Decision, FixedWindowLimiter, Limiter
from cms.http.response_cache import CachedResponse, ResponseCache, cache_key, operation_type
from cms.outbox import ContentRevision
from cms.settings import Settings
from cms.tokens import authenticate

__all__ = ["GraphQLEndpoint"]

logger = logging.getLogger("cms.http")

PRINCIPAL_KEY = "cms.principal"
DATABASE_KEY = "cms.database"
SNIPPET_LIMIT_KEY = "cms.snippet_limit"
RATE_LIMITED = "RATE_LIMITED"
QUERY = OperationType.QUERY
MUTATION = OperationType.MUTATION
SUBSCRIPTION = OperationType.SUBSCRIPTION
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Errors raised before execution: the request itself is at fault (GraphQL-over-HTTP 400).
_REQUEST_ERRORS = frozenset(
    {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_DEEP", "TOO_MANY_ALIASES",
     "TOO_MANY_TOKENS", "INTROSPECTION_DISABLED"}
)  # fmt: skip


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(
        self,
        settings: Settings,
        database: Database,
        changes: ChangeChannel | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=10,
        )
        self.settings = settings
        self.database = database
        self.changes = changes
        # The same limiter (and so the same windows) as `PartnerMiddleware`'s.
        self.limiter: Limiter = limiter if limiter is not None else FixedWindowLimiter()
        self.persisted_queries = PersistedQueries()
        self.content_revision = ContentRevision(
            database, changes.live_revision if changes is not None else None
        )
        self.response_cache = (
            ResponseCache(settings.response_cache_entries) if settings.response_cache else None
        )
        # Anonymous hits answered in front of the framework (see cms.http.hot_path).
        self.hot_responses = (
            HotResponses(settings.response_cache_entries) if settings.response_cache else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            principal = await self._principal_of(request)
        except Unauthenticated as error:
            await _error_response(error.code, error.message, 401)(scope, receive, send)
            return
        db = RequestDatabase(self.database)
        scope[PRINCIPAL_KEY], scope[DATABASE_KEY] = principal, db
        try:
            await self._serve(scope, receive, send, request, principal, db)
        except Exception as error:
            if not database_unavailable(error):
                raise
            logger.warning("database unavailable: %s", error)
            response = _error_response(SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE, 503)
            await response(scope, receive, send)
        finally:
            await db.close()

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request,
        principal: Principal,
        db: RequestDatabase,
    ) -> None:
        body = await request.body() if request.method == "POST" else b""
        try:
            graphql_request = parse_graphql_request(request, body)
        except BadRequest as error:
            await _error_response(error.code, error.message, error.status)(scope, receive, send)
            return
        if graphql_request is None:
            await super().__call__(scope, replay_body(body, receive), send)
            return
        try:
            query = self.persisted_queries.resolve(
                graphql_request.query, graphql_request.extensions
            )
        except PersistedQueryError as error:
            await _error_response(error.code, error.message, 200)(scope, receive, send)
            return
        if query is not None and query != graphql_request.query:
            graphql_request = graphql_request.with_query(query)
        scope[OPERATION_KEY] = graphql_request.operation_name
        scope, receive = graphql_request.rewrite(scope, receive)
        limit = _KeylessSnippetLimit(scope, self.limiter, self.settings.anonymous_rate_limit)
        scope[SNIPPET_LIMIT_KEY] = limit

        media_type = _negotiate(request.headers.get("accept", ""))
        kind = operation_type(query, graphql_request.operation_name) if query else None
        if kind is MUTATION and request.method == "GET":
            # GraphQL over HTTP: GET is for queries only; say which method would do.
            refusal = _error_response(
                "METHOD_NOT_ALLOWED", "Mutations are sent with POST, not GET.", 405
            )
            refusal.headers["allow"] = "POST"
            await refusal(scope, receive, send)
            return
        if kind is SUBSCRIPTION:
            await _error_response(
                "SUBSCRIPTION_NOT_OVER_HTTP",
                "Subscriptions are served over a websocket at /graphql (graphql-transport-ws).",
                400,
            )(scope, receive, send)
            return
        if query is None or kind is not QUERY:
            captured = await _Captured.run(super().__call__, scope, receive)
            await captured.relay(send, media_type)
            return
        # A query: answered from the cache when the content has not changed since, and sent
        # with an ETag and Cache-Control either way.
        key = None
        if self.response_cache is not None:
            key = cache_key(
                document=query,
                variables=graphql_request.variables,
                operation_name=graphql_request.operation_name,
                access="preview" if principal.can(AccessScope.READ_DRAFTS) else "public",
            )
            if key is not None and key in self.response_cache:
                revision = await self.content_revision.current()
                cached = self.response_cache.get(key, revision)
                if cached is not None:
                    if cached.reads_snippets:
                        try:
                            await limit()
                        except RateLimited as error:
                            await _rate_limited(error)(scope, receive, send)
                            return
                    scope.setdefault(SERVED_SNIPPETS_KEY, []).extend(cached.served_snippets)
                    await self._send_query_response(
                        scope, send, request, principal, cached, media_type, revision
                    )
                    return
        captured = await _Captured.run(super().__call__, scope, receive)
        finished = captured.success()
        if finished is None:  # errors, or not a 200: never cached
            await captured.relay(send, media_type)
            return
        revision_read = scope.get(REVISION_KEY)
        if self.response_cache is not None and key is not None and revision_read is not None:
            served = tuple(scope.get(SERVED_SNIPPETS_KEY, ()))
            stored = replace(finished, served_snippets=served, reads_snippets=limit.asked)
            self.response_cache.put(key, revision_read, stored)
        await self._send_query_response(
            scope, send, request, principal, finished, media_type, revision_read
        )

    async def _send_query_response(
        self,
        scope: Scope,
        send: Send,
        request: Request,
        principal: Principal,
        response: CachedResponse,
        media_type: str,
        revision: int | None,
    ) -> None:
        if not principal.authenticated and request.method == "GET":
            cache_control = f"public, max-age={self.settings.http_max_age}"
        elif principal.authenticated:
            cache_control = "private, no-store"
        else:
            cache_control = "no-cache"
        headers = {
            "etag": response.etag,
            "cache-control": cache_control,
            "vary": "Authorization, Accept",
        }
        if response.etag in _etags(request.headers.get("if-none-match", "")):
            await Response(status_code=304, headers=headers)(scope, _no_receive, send)
            return
        if (
            self.hot_responses is not None
            and revision is not None
            and not principal.authenticated
            # Snippet reads are rate-limited and counted per request (cms.http.partners).
            and not scope.get(LIMITED_KEY)
            and not scope.get(SERVED_SNIPPETS_KEY)
        ):
            self.hot_responses.remember(
                scope, revision=revision, etag=response.etag, operation=scope.get(OPERATION_KEY)
            )
        await Response(response.body, media_type=media_type, headers=headers)(
            scope, _no_receive, send
        )

    async def _principal_of(self, request: Request) -> Principal:
        """Anonymous without an Authorization header; refused (401) with a bad one, so a client
        with a mistyped or expired token learns it at once instead of silently reading less."""
        return await self._principal_for(request.headers.get("authorization"))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A websocket authenticates in its `connection_init` payload, as
        `{"Authorization": "Bearer <token>"}`; a bad token closes it with 4403."""
        header = (context.connection_params or {}).get("Authorization")
        if header is not None and not isinstance(header, str):
            raise ConnectionRejectionError({"code": Unauthenticated.code})
        try:
            context.principal = await self._principal_for(header)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"code": error.code}) from None
        context.reset_loaders()
        return await super().on_ws_connect(context)

    async def _principal_for(self, header: str | None) -> Principal:
        if header is None:
            return ANONYMOUS
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("Send the token as: Authorization: Bearer <token>.")
        async with self.database.read_session() as session:
            principal = await authenticate(session, secret.strip())
        if principal is None:
            raise Unauthenticated("The API token is unknown, revoked or expired.")
        return principal

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            db=request.scope.get(DATABASE_KEY) or RequestDatabase(self.database),
            settings=self.settings,
            content_revision=self.content_revision if self.response_cache is not None else None,
            changes=self.changes,
            principal=request.scope.get(PRINCIPAL_KEY, ANONYMOUS),
            request=request,
            served_snippets=request.scope.setdefault(SERVED_SNIPPETS_KEY, []),
            snippet_limit=request.scope.get(SNIPPET_LIMIT_KEY),
        )

    def encode_json(self, data: Any) -> str:
        # Text, not bytes: Strawberry sends bytes over a websocket as binary frames, which
        # graphql-ws clients (the JavaScript reference one included) refuse.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # orjson's errors (bad JSON and bad UTF-8 alike) subclass json.JSONDecodeError, which
        # Strawberry answers with 400; the stdlib raises UnicodeDecodeError on some garbage.
        return orjson.loads(data)


@dataclass
class _Captured:
    """Strawberry's response, held back so it can be cached and sent with caching headers."""

    messages: list[Message]

    @classmethod
    async def run(cls, app: ASGIApp, scope: Scope, receive: Receive) -> _Captured:
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await app(scope, receive, keep)
        return cls(messages)

    def success(self) -> CachedResponse | None:
        start = self.messages[0] if self.messages else {}
        if start.get("type") != "http.response.start" or start.get("status") != 200:
            return None
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or "data" not in data or data.get("errors"):
            return None
        return CachedResponse.of(body)

    async def relay(self, send: Send, media_type: str) -> None:
        """Send on what Strawberry made, with the negotiated media type, and the status the
        GraphQL-over-HTTP spec asks for: 503 when the database was unreachable (retry, not a
        broken query); with `application/graphql-response+json`, 400 and no `data` entry for
        a request that failed before execution (it did not parse or validate); 429 with
        `Retry-After` when a snippet field was over the keyless rate limit."""
        start, *rest = self.messages
        if start.get("type") != "http.response.start" or start.get("status") != 200:
            for message in self.messages:
                await send(message)
            return
        body = b"".join(m.get("body", b"") for m in rest)
        status = 200
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        codes = _error_codes(data)
        headers: dict[str, str] = {}
        if SERVICE_UNAVAILABLE in codes:
            status = 503
        elif RATE_LIMITED in codes:
            status, headers["retry-after"] = 429, str(_retry_after(data))
        elif media_type == GRAPHQL_RESPONSE and codes and codes <= _REQUEST_ERRORS:
            assert isinstance(data, dict)
            if data.get("data") is None:
                data.pop("data", None)
                status, body = 400, orjson.dumps(data)
        await Response(body, status_code=status, media_type=media_type, headers=headers)(
            {"type": "http"}, _no_receive, send
        )


class _KeylessSnippetLimit:
    """The keyless per-IP snippet limit for one request, awaited by every snippet field.

    `PartnerMiddleware` counts a request before it runs when it is keyed, or when its raw body or
    query string plainly names a snippet field (and sets `LIMITED_KEY`). Anything it missed (an
    escaped field name, a URL-encoded GET, a hash-only persisted query) is counted here, against
    the same window, once however many snippet fields the request selects."""

    def __init__(self, scope: Scope, limiter: Limiter, limit: int) -> None:
        self._scope = scope
        self._limiter = limiter
        self._limit = limit
        self._decision: asyncio.Future[Decision] | None = None
        self.asked = False
        """Whether a snippet field ran: a cached copy of the response is a snippet read too."""

    async def __call__(self) -> None:
        self.asked = True
        if self._decision is None:
            if self._scope.get(LIMITED_KEY):
                return  # counted already, against a partner's limit or this one
            # Also keeps the answer off the hot path, which skips every limit.
            self._scope[LIMITED_KEY] = True
            hit = self._limiter.hit(keyless_client(self._scope), self._limit)
            self._decision = asyncio.ensure_future(hit)
        decision = await self._decision
        if not decision.allowed:
            raise RateLimited(
                f"Over {self._limit} snippet reads a minute; retry in {decision.retry_after} s.",
                decision.retry_after,
            )


def _error_codes(data: object) -> set[str]:
    errors = data.get("errors") if isinstance(data, dict) else None
    return {
        str((e.get("extensions") or {}).get("code")) for e in errors or () if isinstance(e, dict)
    }


def _retry_after(data: object) -> int:
    errors = data.get("errors") if isinstance(data, dict) else None
    seconds = [
        (e.get("extensions") or {}).get("retryAfter") for e in errors or () if isinstance(e, dict)
    ]
    return max((s for s in seconds if isinstance(s, int)), default=1)


def _rate_limited(error: RateLimited) -> Response:
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    headers = {"retry-after": str(error.retry_after)}
    return Response(orjson.dumps(body), 429, headers=headers, media_type="application/json")


def _negotiate(accept: str) -> str:
    """`application/graphql-response+json` when the client accepts it, else the legacy
    `application/json` (the spec's rule for clients that send no Accept header)."""
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _error_response(code: str, message: str, status_code: int) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    headers = {"WWW-Authenticate": 'Bearer realm="cms"'} if status_code == 401 else {}
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers
    )

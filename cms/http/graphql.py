"""The GraphQL endpoint: Strawberry's ASGI view, behind token authentication, automatic persisted
queries and the response cache, with ETags and Cache-Control on every query response."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from cms.access import ANONYMOUS, Principal
from cms.access import Scope as AccessScope
from cms.db import AsyncSession, database_unavailable
from cms.errors import Unauthenticated
from cms.graphql.context import Context, RequestDatabase
from cms.graphql.errors import SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE
from cms.graphql.schema import build_schema
from cms.http.graphql_request import parse_graphql_request, replay_body
from cms.http.middleware import OPERATION_KEY
from cms.http.persisted_queries import PersistedQueries, PersistedQueryError
from cms.http.response_cache import CachedResponse, ResponseCache, cache_key, operation_type
from cms.outbox import ContentRevision
from cms.settings import Settings
from cms.tokens import authenticate

__all__ = ["GraphQLEndpoint"]

logger = logging.getLogger("cms.http")

PRINCIPAL_KEY = "cms.principal"
DATABASE_KEY = "cms.database"
QUERY = OperationType.QUERY


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.engine = engine
        self.persisted_queries = PersistedQueries()
        self.content_revision = ContentRevision(engine)
        self.response_cache = (
            ResponseCache(settings.response_cache_entries) if settings.response_cache else None
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
        db = RequestDatabase(self.engine)
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
        graphql_request = parse_graphql_request(request, body)
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

        if query is None or operation_type(query, graphql_request.operation_name) is not QUERY:
            captured = await _Captured.run(super().__call__, scope, receive)
            await captured.relay(send)
            return
        # A query: answered from the cache when the content has not changed since, and sent
        # with an ETag and Cache-Control either way.
        key = None
        if self.response_cache is not None:
            revision = await self.content_revision.current()
            key = cache_key(
                document=query,
                variables=graphql_request.variables,
                operation_name=graphql_request.operation_name,
                access="preview" if principal.can(AccessScope.READ_DRAFTS) else "public",
                revision=revision,
            )
            cached = self.response_cache.get(key) if key is not None else None
            if cached is not None:
                await self._send_query_response(scope, send, request, principal, cached)
                return
        captured = await _Captured.run(super().__call__, scope, receive)
        response = captured.success()
        if response is None:  # errors, or not a 200: sent on exactly as Strawberry made it
            await captured.relay(send)
            return
        if self.response_cache is not None and key is not None:
            self.response_cache.put(key, response)
        await self._send_query_response(scope, send, request, principal, response)

    async def _send_query_response(
        self,
        scope: Scope,
        send: Send,
        request: Request,
        principal: Principal,
        response: CachedResponse,
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
        await Response(response.body, media_type=response.media_type, headers=headers)(
            scope, _no_receive, send
        )

    async def _principal_of(self, request: Request) -> Principal:
        """Anonymous without an Authorization header; refused (401) with a bad one, so a client
        with a mistyped or expired token learns it at once instead of silently reading less."""
        header = request.headers.get("authorization")
        if header is None:
            return ANONYMOUS
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("Send the token as: Authorization: Bearer <token>.")
        async with AsyncSession(self.engine) as session:
            principal = await authenticate(session, secret.strip())
        if principal is None:
            raise Unauthenticated("The API token is unknown, revoked or expired.")
        return principal

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            db=request.scope.get(DATABASE_KEY) or RequestDatabase(self.engine),
            settings=self.settings,
            principal=request.scope.get(PRINCIPAL_KEY, ANONYMOUS),
            request=request,
        )

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)


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
        headers = dict(start.get("headers", []))
        media_type = headers.get(b"content-type", b"application/json").decode()
        return CachedResponse.of(body, media_type)

    async def relay(self, send: Send) -> None:
        """Send on as made, but as 503 when the database was unreachable: a client and a load
        balancer should retry, not read it as a broken query."""
        for message in self.messages:
            if message.get("type") == "http.response.start" and self._database_unavailable():
                message = {**message, "status": 503}
            await send(message)

    def _database_unavailable(self) -> bool:
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        return SERVICE_UNAVAILABLE.encode() in body and _has_code(body, SERVICE_UNAVAILABLE)


def _has_code(body: bytes, code: str) -> bool:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    errors = data.get("errors") if isinstance(data, dict) else None
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == code
        for e in errors or ()
    )


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

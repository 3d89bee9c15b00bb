"""The GraphQL endpoint: Strawberry's ASGI view behind automatic persisted queries and the
response cache, with ETags and Cache-Control on every query response.

Statuses and headers go through the view's own seams: `get_context` hands the resolvers the
sub-response Strawberry merges into its answer, and `process_result` sets its status from the
errors of the result (503 for an unreachable database, 429 with `Retry-After` for a snippet read
over the limit, 400 for a refused document under `application/graphql-response+json`). Who is
asking, and the limits and counts that apply, come from the request's policy
(`cms.http.policy`). Errors that stop a request before GraphQL runs are raised as
`cms.errors.CMSError` and answered by the policy layer. Websockets have their limits in
`cms.http.websockets`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationType
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from cms.access import ANONYMOUS, Principal
from cms.access import Scope as AccessScope
from cms.changes import ChangeChannel
from cms.db import Database, RequestDatabase
from cms.errors import (
    REQUEST_ERROR_CODES,
    DocumentTooLarge,
    MethodNotAllowed,
    RateLimited,
    ServiceUnavailable,
    SubscriptionNotOverHTTP,
    TooManyWebsockets,
    Unauthenticated,
    WebsocketClosed,
)
from cms.graphql.compiled import CompiledReads
from cms.graphql.context import REVISION_KEY, Context
from cms.graphql.parser_cache import DOCUMENT_KEY, Documents, ParsedDocument
from cms.graphql.schema import build_schema
from cms.http.conditional import not_modified
from cms.http.graphql_request import GraphQLRequest, parse_graphql_request, replay_body
from cms.http.hot_path import HotResponses
from cms.http.ide import ide_response
from cms.http.middleware import OPERATION_KEY
from cms.http.persisted_queries import PersistedQueries
from cms.http.policy import RequestPolicy, policy_of, principal_for
from cms.http.rate_limit import Limiter
from cms.http.response_cache import CachedResponse, ResponseCache, cache_key
from cms.http.trusted_documents import TrustedDocuments
from cms.http.websockets import (
    ClientSockets,
    TransportHandler,
    check_message_size,
    client_of,
    close_with,
)
from cms.outbox import ContentRevision
from cms.settings import Settings

__all__ = ["GraphQLEndpoint"]

logger = logging.getLogger("cms.http")

QUERY = OperationType.QUERY
MUTATION = OperationType.MUTATION
SUBSCRIPTION = OperationType.SUBSCRIPTION
GRAPHQL_RESPONSE = "application/graphql-response+json"
_CONTEXT_KEY = "graphql_context"


class GraphQLEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportHandler

    def __init__(
        self,
        settings: Settings,
        database: Database,
        changes: ChangeChannel | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        schema = build_schema(settings)
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=10,
        )
        self.settings = settings
        self.database = database
        # No statement outlives the request it serves (`RequestMiddleware` cuts that off).
        database.limit_statements(settings.request_timeout)
        self.changes = changes
        self.sockets = ClientSockets(settings.max_websockets_per_client)
        self.persisted_queries = PersistedQueries(
            settings.document_cache_bytes, TrustedDocuments.from_settings(settings)
        )
        # Each request's document is parsed once, here, and handed on to Strawberry.
        self.documents = Documents(
            max_tokens=settings.max_query_tokens, max_bytes=settings.document_cache_bytes
        )
        self.content_revision = ContentRevision(
            database, changes.live_revision if changes is not None else None
        )
        self.response_cache = (
            ResponseCache(settings.response_cache_entries, settings.response_cache_bytes)
            if settings.response_cache
            else None
        )
        # Public queries answered without graphql-core's executor (see cms.graphql.compiled).
        self.compiled_reads = CompiledReads(schema, settings) if settings.compiled_reads else None
        # Anonymous hits answered in front of the framework (see cms.http.hot_path).
        self.hot_responses = (
            HotResponses(
                settings.response_cache_entries,
                settings.response_cache_bytes,
                body_timeout=settings.request_timeout,
            )
            if settings.response_cache
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(WebSocket(scope, receive, send))
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        policy = policy_of(scope)
        if policy is None:
            raise RuntimeError("GraphQLEndpoint runs behind PolicyMiddleware (cms.http.app)")
        request = Request(scope, receive)
        body = await request.body() if request.method == "POST" else b""
        graphql_request = parse_graphql_request(request, body)
        if graphql_request is None:  # GraphiQL's page
            await super().__call__(scope, replay_body(body, receive), send)
            return
        graphql_request, parsed = self._prepare(graphql_request)
        scope[OPERATION_KEY] = graphql_request.operation_name
        scope, receive = graphql_request.rewrite(scope, receive)
        scope[DOCUMENT_KEY] = parsed
        operation = parsed.operation(graphql_request.operation_name) if parsed else None
        if parsed is not None and operation is not None and operation.type is QUERY:
            await self._query(scope, receive, send, policy, graphql_request, parsed)
        else:
            response, _ = await self._execute(scope, receive)
            await response(scope, receive, send)

    def _prepare(self, request: GraphQLRequest) -> tuple[GraphQLRequest, ParsedDocument | None]:
        """The request with its persisted query filled in, and its document parsed; raises
        for what GraphQL over HTTP does not take, a document over the size limit before any
        hashing or parsing."""
        limit = self.settings.max_document_bytes
        if request.query is not None and (
            len(request.query) > limit or len(request.query.encode()) > limit
        ):
            raise DocumentTooLarge(f"The GraphQL document is over {limit} bytes.")
        query = self.persisted_queries.resolve(
            request.query, request.extensions, request.document_id
        )
        if query is not None and query != request.query:
            request = request.with_query(query)
        parsed = self.documents.parse(query) if query else None
        operation = parsed.operation(request.operation_name) if parsed else None
        kind = operation.type if operation is not None else None
        if kind is MUTATION and request.method == "GET":
            # GraphQL over HTTP: GET is for queries only; say which method would do.
            raise MethodNotAllowed("Mutations are sent with POST, not GET.", allow="POST")
        if kind is SUBSCRIPTION:
            raise SubscriptionNotOverHTTP(
                "Subscriptions are served over a websocket at /graphql (graphql-transport-ws)."
            )
        return request, parsed

    async def _query(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        policy: RequestPolicy,
        request: GraphQLRequest,
        parsed: ParsedDocument,
    ) -> None:
        """A query: answered from the cache when the content has not changed since, and sent
        with an ETag and Cache-Control either way."""
        key = None
        if self.response_cache is not None:
            key = cache_key(
                parsed=parsed,
                variables=request.variables,
                operation_name=request.operation_name,
                access=_cache_access(policy.principal),
            )
            cached = await self._cached(key, policy) if key is not None else None
            if cached is not None:
                await self._send_query_response(scope, send, policy, *cached)
                return
        body = await self._compiled(scope, policy, request, parsed)
        if body is None:
            response, complete = await self._execute(scope, receive)
            if not complete:  # errors, or not a 200: never cached
                await response(scope, receive, send)
                return
            body = bytes(response.body)
        finished = CachedResponse.of(body)
        revision = scope.get(REVISION_KEY)
        if self.response_cache is not None and key is not None and revision is not None:
            stored = replace(
                finished,
                served_snippets=tuple(policy.served),
                reads_snippets=policy.bucket.snippets_read,
            )
            self.response_cache.put(key, revision, stored)
        await self._send_query_response(scope, send, policy, finished, revision)

    async def _compiled(
        self, scope: Scope, policy: RequestPolicy, request: GraphQLRequest, parsed: ParsedDocument
    ) -> bytes | None:
        """The body of a public query answered by the compiled read path (`cms.graphql.compiled`);
        None when it is answered the normal way."""
        compiled = self.compiled_reads
        if compiled is None or policy.principal.can(AccessScope.READ_DRAFTS):
            return None
        prepared = compiled.prepare(parsed, request.operation_name, request.variables)
        if prepared is None:
            return None
        db = RequestDatabase(self.database)
        context = Context(
            db=db,
            settings=self.settings,
            principal=policy.principal,
            policy=policy,
            served_snippets=policy.served,
            snippet_limit=policy.bucket.check_snippet_read,
        )
        try:
            if self.response_cache is not None:  # as `ReadContentRevision` does
                scope[REVISION_KEY] = await self.content_revision.current()
            answer = await compiled.answer(prepared, context)
        except Exception:  # noqa: BLE001 - the normal path reports it
            answer = None
        finally:
            await db.close()
        return orjson.dumps(answer) if answer is not None else None

    async def _websocket(self, socket: WebSocket) -> None:
        """Strawberry's websocket handling, within the limits: a client over its socket count
        is closed with 4429, one that sends a message over `max_body_bytes` with 1009."""
        limit = self.settings.max_websockets_per_client
        with self.sockets.admit(client_of(socket.scope)) as admitted:
            try:
                if not admitted:
                    raise TooManyWebsockets(f"At most {limit} open websockets a client.")
                await self.run(socket)
            except WebsocketClosed as error:
                await close_with(socket, error, await self.pick_websocket_subprotocol(socket))

    async def _execute(self, scope: Scope, receive: Receive) -> tuple[Response, bool]:
        """Strawberry's answer, and whether it is complete (data and no errors)."""
        request = Request(scope, receive)
        db = RequestDatabase(self.database)
        request.state.graphql_db = db
        try:
            response = await self.run(request)
        except HTTPException as error:  # as Strawberry's own `__call__` answers it
            return PlainTextResponse(error.reason, status_code=error.status_code), False
        finally:
            await db.close()
        context: Context | None = getattr(request.state, _CONTEXT_KEY, None)
        return response, context is not None and context.complete

    async def _cached(self, key: bytes, policy: RequestPolicy) -> tuple[CachedResponse, int] | None:
        """A response made at the current content revision; reusing it is a snippet read (and
        counted) when making it was."""
        if self.response_cache is None or key not in self.response_cache:
            return None
        revision = await self.content_revision.current()
        cached = self.response_cache.get(key, revision)
        if cached is None:
            return None
        if cached.reads_snippets:
            await policy.bucket.check_snippet_read()
        policy.served.extend(cached.served_snippets)
        return cached, revision

    async def _send_query_response(
        self,
        scope: Scope,
        send: Send,
        policy: RequestPolicy,
        response: CachedResponse,
        revision: int | None,
    ) -> None:
        request = Request(scope)
        if policy.principal.authenticated:
            cache_control = "private, no-store"
        elif request.method == "GET":
            cache_control = f"public, max-age={self.settings.http_max_age}"
        else:
            cache_control = "no-cache"
        headers = {
            "etag": response.etag,
            "cache-control": cache_control,
            "vary": "Authorization, Accept",
        }
        if not_modified(request.headers.get("if-none-match"), response.etag):
            await Response(status_code=304, headers=headers)(scope, _no_receive, send)
            return
        if self.hot_responses is not None and revision is not None and policy.shareable:
            self.hot_responses.remember(
                scope,
                revision=revision,
                etag=response.etag,
                operation=scope.get(OPERATION_KEY),
                served=tuple(policy.served),
                limited=policy.bucket.counted,
            )
        media_type = _negotiate(request.headers.get("accept", ""))
        await Response(response.body, media_type=media_type, headers=headers)(
            scope, _no_receive, send
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page loads GraphiQL from a CDN; ours from the CMS itself.
        return ide_response(request)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        policy = policy_of(request.scope) if isinstance(request, Request) else None
        if isinstance(response, Response):
            response.media_type = _negotiate(request.headers.get("accept", ""))
        context = Context(
            db=getattr(request.state, "graphql_db", None) or RequestDatabase(self.database),
            settings=self.settings,
            content_revision=self.content_revision if self.response_cache is not None else None,
            changes=self.changes,
            principal=policy.principal if policy is not None else ANONYMOUS,
            request=request,
            response=response,
            policy=policy,
            served_snippets=policy.served if policy is not None else [],
            snippet_limit=policy.bucket.check_snippet_read if policy is not None else None,
        )
        setattr(request.state, _CONTEXT_KEY, context)
        return context

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The answer's status from its errors (the sub-response carries it); whether it is
        complete, and so may be cached."""
        data = await super().process_result(request, result)
        context: Context = getattr(request.state, _CONTEXT_KEY)
        errors = result.errors or []
        context.complete = not errors and result.data is not None
        response = context.response
        status, headers = _status_of(errors, response.media_type, data=result.data is not None)
        if status is not None:
            response.status_code = status
            response.headers.update(headers)
        if status == 400:
            data.pop("data", None)
        return data

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        return Response(
            self.encode_json(response_data),
            sub_response.status_code or 200,
            dict(sub_response.headers),
            media_type=sub_response.media_type or "application/json",
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A websocket authenticates in its `connection_init` payload, as
        `{"Authorization": "Bearer <token>"}`; a bad token closes it with 4403."""
        header = (context.connection_params or {}).get("Authorization")
        if header is not None and not isinstance(header, str):
            raise ConnectionRejectionError({"code": Unauthenticated.code})
        try:
            context.principal = await principal_for(self.database, header)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"code": error.code}) from None
        context.reset_loaders()
        return await super().on_ws_connect(context)

    def encode_json(self, data: Any) -> str:
        # Text, not bytes: Strawberry sends bytes over a websocket as binary frames, which
        # graphql-ws clients (the JavaScript reference one included) refuse.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # Every websocket message comes through here, before anything parses it.
        check_message_size(data, self.settings.max_body_bytes)
        # orjson's errors (bad JSON and bad UTF-8 alike) subclass json.JSONDecodeError, which
        # Strawberry answers with 400; the stdlib raises UnicodeDecodeError on some garbage.
        return orjson.loads(data)


def _status_of(
    errors: list[GraphQLError], media_type: str | None, *, data: bool
) -> tuple[int | None, dict[str, str]]:
    """The status (and its headers) the GraphQL-over-HTTP spec asks for: 503 when the database
    was unreachable (retry, not a broken query); 429 with `Retry-After` when a snippet field was
    over the limit; with `application/graphql-response+json`, 400 (and no `data` entry) for a
    document refused before execution. None: the usual 200."""
    codes = {(error.extensions or {}).get("code") for error in errors}
    if ServiceUnavailable.code in codes:
        return ServiceUnavailable.status, ServiceUnavailable().headers
    refusals = [e.original_error for e in errors if isinstance(e.original_error, RateLimited)]
    if refusals:
        return RateLimited.status, {"retry-after": str(max(r.retry_after for r in refusals))}
    if media_type == GRAPHQL_RESPONSE and codes and codes <= REQUEST_ERROR_CODES and not data:
        return 400, {}
    return None, {}


def _negotiate(accept: str) -> str:
    """`application/graphql-response+json` when the client accepts it, else the legacy
    `application/json` (the spec's rule for clients that send no Accept header)."""
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _cache_access(principal: Principal) -> str:
    """Who shares cached answers: the public, editors, or the holders of one preview link."""
    if principal.article is not None:
        return f"preview:{principal.article}"
    return "preview" if principal.can(AccessScope.READ_DRAFTS) else "public"

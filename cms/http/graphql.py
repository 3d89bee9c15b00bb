"""The GraphQL endpoint: Strawberry's ASGI view with our context and a faster JSON encoder."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from cms.access import ANONYMOUS, Principal
from cms.db import AsyncSession
from cms.errors import Unauthenticated
from cms.graphql.context import Context, RequestDatabase
from cms.graphql.schema import build_schema
from cms.settings import Settings
from cms.tokens import authenticate

__all__ = ["GraphQLEndpoint"]

PRINCIPAL_KEY = "cms.principal"


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                scope[PRINCIPAL_KEY] = await self._principal_of(Request(scope))
            except Unauthenticated as error:
                body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
                response = Response(
                    orjson.dumps(body), status_code=401, media_type="application/json",
                    headers={"WWW-Authenticate": 'Bearer realm="cms"'},
                )  # fmt: skip
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

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
            db=RequestDatabase(self.engine),
            settings=self.settings,
            principal=request.scope.get(PRINCIPAL_KEY, ANONYMOUS),
            request=request,
        )

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)

"""The GraphQL endpoint: Strawberry's ASGI view with our context and a faster JSON encoder."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from cms.graphql.context import Context, RequestDatabase
from cms.graphql.schema import build_schema
from cms.settings import Settings

__all__ = ["GraphQLEndpoint"]


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.engine = engine

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(db=RequestDatabase(self.engine), settings=self.settings, request=request)

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)

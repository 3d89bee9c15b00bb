"""Limits on the GraphQL websocket: connections per client, a message's size, and a token that
stops being valid closing the sockets it opened. Each ends with its `WebsocketClosed` close code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any, Protocol, cast

from graphql import GraphQLError
from starlette.types import Scope
from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
    SubscribeMessagePayload,
)

from cms.db import Database
from cms.errors import (
    CMSError,
    MessageTooLarge,
    TokenWithdrawn,
    Unauthenticated,
    WebsocketClosed,
)
from cms.graphql.context import Context
from cms.http.persisted_queries import PersistedQueries
from cms.http.policy import principal_for
from cms.settings import Settings

__all__ = [
    "ClientSockets",
    "TransportHandler",
    "check_message_size",
    "client_of",
    "close_with",
    "message_size",
]

logger = logging.getLogger("cms.http")


class ClientSockets:
    """The websockets each client IP holds open on this process, up to `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    @contextlib.contextmanager
    def admit(self, client: str) -> Iterator[bool]:
        """Whether one more socket of `client` is admitted; counted until the block ends."""
        if self._open[client] >= self.limit:
            yield False
            return
        self._open[client] += 1
        try:
            yield True
        finally:
            self._open[client] -= 1
            if not self._open[client]:
                del self._open[client]


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def message_size(data: str | bytes) -> int:
    """A message's size in bytes, as it came over the wire (text frames are UTF-8)."""
    return len(data) if isinstance(data, bytes) else len(data.encode())


def check_message_size(data: str | bytes, limit: int) -> None:
    # Characters never outnumber bytes: a text longer than the limit is over it unencoded.
    if len(data) > limit or message_size(data) > limit:
        raise MessageTooLarge(f"A message is limited to {limit} bytes.")


async def close_with(socket: WebSocket, error: WebsocketClosed, subprotocol: str | None) -> None:
    """Close `socket` with the error's code (accepting it first: a close code is only sent on an
    open socket); nothing when it is closed already."""
    if socket.application_state is WebSocketState.CONNECTING:
        await socket.accept(subprotocol=subprotocol)
    if socket.application_state is WebSocketState.CONNECTED:
        await socket.close(error.close_code, error.message)


class _Endpoint(Protocol):
    database: Database
    settings: Settings
    persisted_queries: PersistedQueries


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, with the token a socket authenticated with
    checked again every `websocket_auth_recheck` seconds (4403 once it is revoked or expired),
    and nothing sent once the socket is closed (by a limit, or a subscriber dropped)."""

    _recheck: asyncio.Task[None] | None = None

    @property
    def _socket(self) -> WebSocket:
        return cast(ASGIWebSocketAdapter, self.websocket).ws

    async def send_message(self, message: Message) -> None:
        if self._socket.application_state is WebSocketState.CONNECTED:
            await super().send_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        params: dict[str, Any] = self.context.connection_params or {}
        header = params.get("Authorization")
        if self.connection_acknowledged and isinstance(header, str) and self._recheck is None:
            self._recheck = asyncio.create_task(self._check_token(header), name="ws-auth")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """A subscription's document as over HTTP: sent, or named by its `documentId` or hash;
        refused with one error (and the operation not started) when the document is unknown,
        or not trusted where only trusted documents run."""
        sent = message.get("payload")
        if self.connection_acknowledged and isinstance(sent, dict):
            payload: dict[str, Any] = dict(sent)
            endpoint = cast(_Endpoint, self.view)
            try:
                query = endpoint.persisted_queries.resolve(
                    payload.pop("query", None), payload.get("extensions"), payload.get("documentId")
                )
            except CMSError as error:
                refusal = GraphQLError(error.message, extensions=error.extensions)
                await self.send_message(
                    ErrorMessage(id=message["id"], type="error", payload=[refusal.formatted])
                )
                return
            if query is not None:  # none: Strawberry answers a subscribe without a query
                payload["query"] = query
            message = SubscribeMessage(
                id=message["id"], type="subscribe", payload=cast(SubscribeMessagePayload, payload)
            )
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._recheck is not None:
            self._recheck.cancel()
            await asyncio.gather(self._recheck, return_exceptions=True)
        await super().shutdown()

    async def _check_token(self, header: str) -> None:
        endpoint = cast(_Endpoint, self.view)
        while self._socket.application_state is WebSocketState.CONNECTED:
            await asyncio.sleep(endpoint.settings.websocket_auth_recheck)
            try:
                await principal_for(endpoint.database, header)
            except Unauthenticated:
                error = TokenWithdrawn("The token was revoked or has expired.")
                await close_with(self._socket, error, None)
                return
            except Exception:  # noqa: BLE001 - the database away: keep the socket, check later
                logger.warning("could not recheck a websocket's token", exc_info=True)

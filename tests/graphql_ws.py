"""A small graphql-transport-ws client over a real websocket, for subscription tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"
# How long to wait for what normally takes milliseconds: long enough that a busy machine (other
# test processes, other users) cannot fail a test, and bounded so that a broken server does.
PATIENCE = 20.0


class Subscriber:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base_url: str, token: str | None = None, *, acknowledged: bool = True
    ) -> AsyncIterator[Subscriber]:
        url = base_url.replace("http://", "ws://") + "/graphql"
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        # No keepalive pings: a test that blocks its loop for a while must not lose the socket.
        async with connect(
            url,
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            open_timeout=PATIENCE,
            ping_interval=None,
        ) as socket:
            subscriber = cls(socket)
            await subscriber.send({"type": "connection_init", "payload": payload})
            if acknowledged:
                assert (await subscriber.receive())["type"] == "connection_ack"
            yield subscriber

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(orjson.dumps(message).decode())

    async def receive(self, timeout: float = PATIENCE) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.socket.recv(), timeout)
        # Like graphql-ws clients (the JavaScript reference one included): text frames only.
        assert isinstance(frame, str), f"a binary frame: {frame!r}"
        message: dict[str, Any] = orjson.loads(frame)
        return message

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, id: str = "1"
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def next(self, timeout: float = PATIENCE) -> dict[str, Any]:
        """The data of the next result; fails on anything else."""
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def assert_quiet(self, seconds: float = 0.5) -> None:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")


async def wait_for_subscribers(base_url: str, count: int, timeout: float = PATIENCE) -> None:
    """Until the server reports `count` live subscribers: a subscription is registered a moment
    after its `subscribe` message, and a change made before that is not delivered to it."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        while True:
            metrics = (await client.get(f"{base_url}/metrics")).text
            if f"cms_live_subscribers {float(count)}" in metrics:
                return
            assert time.monotonic() < deadline, "the subscription did not start"
            await asyncio.sleep(0.02)

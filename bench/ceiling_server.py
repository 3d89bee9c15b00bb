"""The ceiling: a raw ASGI app that answers each benchmark request with the CMS's exact bytes.

No framework, no GraphQL, no database: one dict lookup on the request body. What it serves is the
most any server could do on this machine, so the CMS is measured as a fraction of it.

Serve it with `uvicorn --factory bench.ceiling_server:create_app_from_env`; BENCH_CEILING_RESPONSES
names a JSON file mapping each request body to its response body.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson

__all__ = ["create_ceiling_app", "create_app_from_env"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def create_ceiling_app(responses: Mapping[bytes, bytes]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        payload = responses.get(body)
        status = 200 if payload is not None else 404
        payload = payload if payload is not None else b'{"errors":[{"message":"unknown request"}]}'
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def create_app_from_env() -> ASGIApp:
    table: dict[str, str] = orjson.loads(Path(os.environ["BENCH_CEILING_RESPONSES"]).read_bytes())
    return create_ceiling_app({key.encode(): value.encode() for key, value in table.items()})

"""A webhook receiver for tests: records every request and answers as told."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`answers` are the status codes of the next requests, then 200. While `released` is
    clear, requests are recorded at once but answered only when it is set."""

    answers: deque[int] = field(default_factory=deque)
    released: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.released.set()

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.received.append(
                Received(request.url.path, dict(request.headers), await request.body())
            )
            while not self.released.is_set():
                await asyncio.sleep(0.01)
            return Response(status_code=self.answers.popleft() if self.answers else 200)

        return Starlette(routes=[Route("/{name}", receive, methods=["POST"])])

"""The outermost layer of every request: its id, its limits, its log line and its metrics.

- Every response carries `X-Request-ID` (the client's, when it sent a sane one); log lines and
  masked errors carry the same id, so a report from a client finds its log lines.
- A body over `max_body_bytes` is refused with 413 before anything reads it (a declared one
  before any of it is read), by the route that reads it, so its CORS applies.
- A request still running after `request_timeout` seconds is cut off: its task is cancelled
  and the answer is 504, or 408 (and the connection closed) when its body was still arriving.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.errors import CMSError, RequestBodyTimeout, RequestTimeout, RequestTooLarge
from cms.http.errors import error_response
from cms.http.metrics import Metrics, RequestTally
from cms.logs import log_access, request_id_var

__all__ = [
    "OPERATION_KEY",
    "REQUEST_ID_KEY",
    "RequestMiddleware",
    "RequestObserver",
    "body_timeout",
    "request_id_of",
]

REQUEST_ID_KEY = "cms.request_id"
OPERATION_KEY = "cms.operation"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PROCESS_ID = uuid.uuid4().hex[:16]
_request_numbers = itertools.count(1)
_ROUTES = ("/graphql", "/admin", "/healthz", "/readyz", "/metrics", "/oembed", "/embed.js",
           "/embed.css", "/embed")  # fmt: skip


def request_id_of(headers: dict[bytes, bytes]) -> str:
    """The client's `X-Request-ID` when it is sane, else a new one: this process's random prefix
    and a counter, unique across processes and hosts and cheaper to make than a UUID."""
    given = headers.get(b"x-request-id")
    if given is not None:
        text = given.decode("latin-1")
        if _SANE_REQUEST_ID.match(text):
            return text
    return f"{_PROCESS_ID}{next(_request_numbers):016x}"


class RequestObserver:
    """Counts, times and logs each answered request (one access log line, JSON when configured)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._tallies: dict[tuple[str, str, int, str | None], RequestTally] = {}

    def observe(
        self,
        *,
        method: str,
        path: str,
        status: int,
        elapsed: float,
        operation: object,
        request_id: str | None,
    ) -> None:
        named = operation if operation is None or isinstance(operation, str) else repr(operation)
        key = (path, method, status, named)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self.metrics.tally(_route_of(path), method, status, operation)
            if len(self._tallies) < 1000:
                self._tallies[key] = tally
        tally.add(elapsed)
        log_access(
            method=method, path=path, status=status, elapsed=elapsed, operation=operation,
            request_id=request_id,
        )  # fmt: skip


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        observer: RequestObserver,
        max_body_bytes: int,
        request_timeout: float,
    ) -> None:
        self.app = app
        self.observer = observer
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = request_id_of(headers)
        scope[REQUEST_ID_KEY] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            error = await self._run(scope, receive, send_with_id, headers)
            if error is not None and not response_started:
                await error_response(error)(scope, receive, send_with_id)
        finally:
            self.observer.observe(
                method=scope["method"], path=scope["path"], status=status,
                elapsed=time.perf_counter() - started, operation=scope.get(OPERATION_KEY),
                request_id=request_id,
            )  # fmt: skip
            request_id_var.reset(token)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes]
    ) -> CMSError | None:
        """Run the app within the limits; the limit it went over, if any."""
        body = _BodyProgress()
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
            async with asyncio.timeout(self.request_timeout):
                await self.app(scope, self._limited(receive, declared, body), send)
        except RequestTooLarge as error:
            return error
        except TimeoutError:
            if body.waiting:
                return body_timeout(self.request_timeout)
            return RequestTimeout(f"The request took over {self.request_timeout:g} s.")
        return None

    def _limited(self, receive: Receive, declared: int, body: _BodyProgress) -> Receive:
        """`receive`, refusing a body over the limit: a declared one before reading any of it.
        Raised in the route that reads the body, so its answer gets the route's CORS."""
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared > self.max_body_bytes:
                raise self._too_large()
            body.waiting = not body.complete
            message = await receive()
            body.waiting = False
            body.complete = body.complete or not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise self._too_large()
            return message

        return limited

    def _too_large(self) -> RequestTooLarge:
        return RequestTooLarge(f"The request body is over {self.max_body_bytes} bytes.")


class _BodyProgress:
    """Whether the request's body has all arrived, and whether the app is waiting for more."""

    complete = False
    waiting = False


def body_timeout(seconds: float) -> RequestBodyTimeout:
    return RequestBodyTimeout(f"The request body did not arrive within {seconds:g} s.")


def _route_of(path: str) -> str:
    # Bounded label values: the few routes we serve, everything else as one.
    for route in _ROUTES:
        if path == route or path.startswith(route + "/"):
            return route
    return "other"

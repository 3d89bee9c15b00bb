"""The web admin's guards, whatever renders its pages: a CSRF token on every form and unsafe
request, `Secure` cookies under HTTPS, and a limit on failed logins per client."""

from __future__ import annotations

import hmac
import math
import re
import secrets
import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.http.graphql_request import read_body, replay_body

__all__ = ["CSRF_FIELD", "CSRFProtection", "LoginThrottle", "SecureCookies", "csrf_token"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SESSION_KEY = "csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_POST_FORM = re.compile(rb"<form\b[^>]*\bmethod=[\"']?post\b[^>]*>", re.IGNORECASE)


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = session[_SESSION_KEY] = secrets.token_urlsafe(32)
    return token


class CSRFProtection:
    """Runs inside the session middleware. An unsafe request whose `csrf_token` form field (or
    `X-CSRF-Token` header) is not its session's token is 403; HTML pages get the token written
    into each of their POST forms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = csrf_token(scope["session"])
        if scope["method"] not in _SAFE_METHODS:
            body = await read_body(receive)
            if body is None:  # the client went away
                return
            sent = Headers(scope=scope).get(CSRF_HEADER) or await _form_token(scope, body)
            if not sent or not hmac.compare_digest(sent.encode(), token.encode()):
                refusal = PlainTextResponse(
                    "The form is out of date or came from another site; reload it and try again.",
                    403,
                )
                await refusal(scope, receive, send)
                return
            receive = replay_body(body, receive)
        await self.app(scope, receive, _TokenInForms(send, token))


async def _form_token(scope: Scope, body: bytes) -> str | None:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, receive).form()
    except Exception:  # noqa: BLE001 - an unparsable body carries no token
        return None
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


class _TokenInForms:
    """The send of an admin request: an HTML answer gets a hidden token field in each POST
    form (the page is held until complete, to rewrite it once)."""

    def __init__(self, send: Send, token: str) -> None:
        self._send = send
        self._field = f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'.encode()
        self._start: Message | None = None
        self._chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
            if content_type.startswith("text/html"):
                self._start = message
                return
        elif message["type"] == "http.response.body" and self._start is not None:
            self._chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = _POST_FORM.sub(lambda form: form.group(0) + self._field, b"".join(self._chunks))
            headers = MutableHeaders(raw=list(self._start.get("headers", [])))
            headers["content-length"] = str(len(page))
            await self._send({**self._start, "headers": headers.raw})
            await self._send({"type": "http.response.body", "body": page})
            return
        await self._send(message)


class SecureCookies:
    """Runs outside the session middleware: its cookie is `Secure` when the admin is reached
    over HTTPS (the request's scheme, after a trusted proxy's `X-Forwarded-Proto`) or `always`
    (an https public URL)."""

    def __init__(self, app: ASGIApp, *, always: bool) -> None:
        self.app = app
        self.always = always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.always or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, _secure(value) if name.lower() == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, secure)


def _secure(cookie: bytes) -> bytes:
    flags = [part.strip().lower() for part in cookie.split(b";")[1:]]
    return cookie if b"secure" in flags else cookie + b"; secure"


class LoginThrottle:
    """At most `failures` failed logins per client a minute, counted in this process."""

    def __init__(self, failures: int = 5) -> None:
        self._strategy = FixedWindowRateLimiter(MemoryStorage())
        self._item = RateLimitItemPerMinute(failures)

    async def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again; None when it may now."""
        if await self._strategy.test(self._item, client):
            return None
        stats = await self._strategy.get_window_stats(self._item, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def failed(self, client: str) -> None:
        await self._strategy.hit(self._item, client)

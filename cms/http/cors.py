"""CORS for keyless cross-origin reads of the public API: `/graphql`, `/oembed` and `/embed.js`.

- A request without credentials (no `Authorization`, no `Cookie`, no `X-Partner-Key`) gets
  `Access-Control-Allow-Origin: *`, so any page may read public content. Credentials are never
  allowed with it: an authenticated request gets no CORS headers at all, and a browser will not
  send a cross-origin `Authorization` header since no preflight allows it.
- A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here: GET and POST,
  with the headers `content-type` and `x-partner-key`, cached by the browser for `max_age`.
- On `/graphql`, a request carrying `X-Partner-Key`, or a preflight asking for it, is left
  untouched to the partner-key layer, which answers only its partners' origins, never `*`.
- A response that already names its own `Access-Control-Allow-Origin` is left as it is: that is
  how partner-key checks restrict the origins of keyed requests.
- Every response on these paths says `Vary: Authorization, Cookie`, so a shared cache never hands
  a response made for a credentialed request (without CORS) to a keyless one, or back.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ALLOWED_HEADERS", "ALLOWED_METHODS", "CORS_PATHS", "KeylessCORS"]

CORS_PATHS = frozenset({"/graphql", "/oembed", "/embed.js"})
ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "content-type, x-partner-key"
# Chromium caps preflight caching at two hours; asking for more gains nothing.
PREFLIGHT_MAX_AGE = 7200
# A partner key is a credential too: its requests get its partner's origins, never the wildcard.
_KEY_HEADER = "x-partner-key"
_PARTNER_PATHS = frozenset({"/graphql"})
_CREDENTIALS = ("authorization", "cookie", _KEY_HEADER)
_VARY = ("Authorization", "Cookie")


class KeylessCORS:
    def __init__(
        self,
        app: ASGIApp,
        *,
        paths: Collection[str] = CORS_PATHS,
        max_age: int = PREFLIGHT_MAX_AGE,
    ) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        keyed = _KEY_HEADER in headers or (
            scope["method"] == "OPTIONS"
            and _KEY_HEADER in headers.get("access-control-request-headers", "").lower()
        )
        if keyed and scope["path"] in _PARTNER_PATHS:
            # The partner-key layer answers for its partners' origins (cms.http.partners).
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send)
            return
        credentialed = any(name in headers for name in _CREDENTIALS)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = MutableHeaders(scope=message)
                if not credentialed and "access-control-allow-origin" not in sent:
                    sent["access-control-allow-origin"] = "*"
                varies = [v.strip() for v in sent.get("vary", "").split(",") if v.strip()]
                known = {v.lower() for v in varies}
                sent["vary"] = ", ".join(varies + [v for v in _VARY if v.lower() not in known])
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, send: Send) -> None:
        await send({
            "type": "http.response.start", "status": 204,
            "headers": [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                (b"access-control-max-age", str(self.max_age).encode()),
            ],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": b""})

"""CORS for keyless cross-origin reads of the public API (`/graphql`, `/oembed`, `/embed.js`):
Starlette's `CORSMiddleware`, allowing any origin, on the routes that carry it.

- A request without credentials (no `Authorization`, no `Cookie`, no `X-Partner-Key`) from a
  page gets `Access-Control-Allow-Origin: *`. A credentialed request gets no CORS headers at
  all; a partner's keyed request is answered for its own origins by `cms.http.policy`.
- A preflight is answered with 204: GET and POST, with `content-type` and `x-partner-key`,
  cached by the browser for two hours. Where a partner layer sits inside (`/graphql`), a keyed
  request, or a preflight asking for `x-partner-key`, is left to it.
- Every response says `Vary: Authorization, Cookie`, so a shared cache never hands a response
  made for a credentialed request (without CORS) to a keyless one, or back.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PublicCORS"]

# Chromium caps preflight caching at two hours; asking for more gains nothing.
PREFLIGHT_MAX_AGE = 7200
_KEY_HEADER = "x-partner-key"
# A partner key is a credential too: its requests get its partner's origins, never the wildcard.
_CREDENTIALS = ("authorization", "cookie", _KEY_HEADER)
_VARY = ("Authorization", "Cookie")


class PublicCORS(CORSMiddleware):
    def __init__(self, app: ASGIApp, *, partners_inside: bool = False) -> None:
        super().__init__(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST"],
            # Starlette adds the safelisted ones (Content-Type among them).
            allow_headers=[_KEY_HEADER],
            max_age=PREFLIGHT_MAX_AGE,
        )
        self.partners_inside = partners_inside

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.partners_inside and (
            _KEY_HEADER in headers
            or (
                scope["method"] == "OPTIONS"
                and _KEY_HEADER in headers.get("access-control-request-headers", "").lower()
            )
        ):
            # The partner layer answers for its partners' origins (cms.http.policy).
            await self.app(scope, receive, send)
            return
        send = _varying(send)
        if any(name in headers for name in _CREDENTIALS):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 200:
            return response
        cors = {k: v for k, v in response.headers.items() if k.startswith("access-control-")}
        return Response(status_code=204, headers=cors)


def _varying(send: Send) -> Send:
    async def varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            sent = MutableHeaders(scope=message)
            varies = [v.strip() for v in sent.get("vary", "").split(",") if v.strip()]
            known = {v.lower() for v in varies}
            sent["vary"] = ", ".join(varies + [v for v in _VARY if v.lower() not in known])
        await send(message)

    return varying

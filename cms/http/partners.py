"""Partner access to snippets: who is asking, from which origin, how often, and what was served.

For requests to `/graphql` and `/embed/*`:

- `X-Partner-Key` (or, on `/embed/*`, `?partner_key=`) identifies a partner; an unknown or
  revoked key is refused with 401 `INVALID_PARTNER_KEY`.
- A keyed request from a browser is answered with `Access-Control-Allow-Origin: <its Origin>`
  and `Vary: Origin` only when that Origin is one of the partner's; from any other Origin it is
  refused with 403 `ORIGIN_NOT_ALLOWED` and no CORS header, so the browser refuses it too. A
  keyed response never carries the wildcard, whatever an inner layer set.
- Keyed responses vary on `Origin` and `X-Partner-Key`, so shared caches keep them apart.
- Keyed requests count against the partner's own per-minute limit; keyless snippet reads
  against `anonymous_rate_limit` per client IP. Over it: 429 `RATE_LIMITED` with `Retry-After`.
  Keyless snippet reads this cheap look does not recognise are counted by the snippet
  resolvers against the same window (see `cms.http.graphql`).
- The snippets a request served (listed by the resolvers under `SERVED_SNIPPETS_KEY`) are
  counted for the partner, or for no partner, in the usage buffer.

Wildcard CORS for keyless requests is not this module's job (see `cms.http.cors`).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.db import Database, database_unavailable
from cms.graphql.context import SERVED_SNIPPETS_KEY
from cms.graphql.errors import SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE
from cms.http.graphql_request import read_body, replay_body
from cms.http.rate_limit import Limiter
from cms.partners import PartnerIdentity, identify_partner, normalise_origin
from cms.usage import UsageBuffer

__all__ = ["LIMITED_KEY", "PARTNER_KEY", "PartnerMiddleware", "count_served", "keyless_client"]

PARTNER_KEY = "cms.partner"
# Set on requests that count against a rate limit: their answers must not skip this middleware.
LIMITED_KEY = "cms.rate_limited"
_KEY_HEADER = b"x-partner-key"
_SNIPPET_FIELD = b"benefitSnippet"
_ALLOWED_HEADERS = "content-type, x-partner-key"
logger = logging.getLogger("cms.http")

Headers = list[tuple[bytes, bytes]]


class PartnerMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        database: Database,
        usage: UsageBuffer,
        anonymous_rate_limit: int,
        limiter: Limiter,
    ) -> None:
        self.app = app
        self.database = database
        self.usage = usage
        self.anonymous_rate_limit = anonymous_rate_limit
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        embed = path == "/embed" or path.startswith("/embed/")
        if not (embed or path == "/graphql"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        key = headers.get(_KEY_HEADER, b"").decode("latin-1").strip() or None
        if key is None and embed:
            key = _query_param(scope, "partner_key")
        if key is None and _is_keyed_preflight(scope, headers):
            # Browsers send no custom header in a preflight; the real request is checked.
            await _respond(send, 204, b"", _cors_headers(origin, preflight=True))
            return

        partner: PartnerIdentity | None = None
        if key is not None:
            try:
                async with self.database.read_session() as session:
                    partner = await identify_partner(session, key)
            except Exception as error:
                if not database_unavailable(error):
                    raise
                logger.warning("database unavailable: %s", error)
                await _error(send, 503, SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE)
                return
            if partner is None:
                await _error(send, 401, "INVALID_PARTNER_KEY",
                             "The partner key is unknown or revoked.")  # fmt: skip
                return
            if origin is not None and not _allowed(origin, partner):
                await _error(send, 403, "ORIGIN_NOT_ALLOWED",
                             f"This partner key is not allowed from {origin}.",
                             [(b"vary", b"Origin")])  # fmt: skip
                return
            if scope["method"] == "OPTIONS":
                await _respond(send, 204, b"", _cors_headers(origin, preflight=True))
                return
            client, limit = f"partner:{partner.id}", partner.rate_limit
        else:
            if not embed:
                body = await read_body(receive)
                if body is None:  # the client went away
                    return
                receive = replay_body(body, receive)
                if not _reads_snippets(scope, body):
                    served: list[tuple[str, str]] = []
                    scope[SERVED_SNIPPETS_KEY] = served
                    await self.app(scope, receive, send)
                    self.usage.add(None, served)
                    return
            client, limit = keyless_client(scope), self.anonymous_rate_limit

        scope[LIMITED_KEY] = True
        decision = await self.limiter.hit(client, limit)
        if not decision.allowed:
            extra = [(b"retry-after", str(decision.retry_after).encode())]
            if partner is not None:
                extra += _cors_headers(origin)
            await _error(send, 429, "RATE_LIMITED",
                         f"Over {limit} requests a minute; retry in {decision.retry_after} s.",
                         extra)  # fmt: skip
            return
        scope[PARTNER_KEY] = partner
        served = []
        scope[SERVED_SNIPPETS_KEY] = served
        await self.app(scope, receive, self._keyed_send(send, origin) if partner else send)
        self.usage.add(partner.id if partner else None, served)

    @staticmethod
    def _keyed_send(send: Send, origin: str | None) -> Send:
        async def keyed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_keyed_cors(list(message.get("headers", [])), origin)
            await send(message)

        return keyed


def count_served(scope: Scope, article_slug: str, benefit_slug: str) -> None:
    """Count one snippet served by a route behind this middleware (an embed page, say) for the
    request's partner, or for no partner."""
    served = scope.get(SERVED_SNIPPETS_KEY)
    if served is not None:
        served.append((article_slug, benefit_slug))


def _allowed(origin: str, partner: PartnerIdentity) -> bool:
    try:
        return normalise_origin(origin) in partner.origins
    except Exception:  # noqa: BLE001 - "null" or garbage: not an allowed origin
        return False


def _cors_headers(origin: str | None, *, preflight: bool = False) -> Headers:
    headers: Headers = [(b"vary", b"Origin")]
    if origin is None:
        return headers
    headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
    if preflight:
        headers += [
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", _ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", b"600"),
        ]
    else:
        headers.append((b"access-control-expose-headers", b"Retry-After, ETag"))
    return headers


def _with_keyed_cors(headers: Headers, origin: str | None) -> Headers:
    """Drop whatever CORS answer an inner layer gave (a wildcard, say); add this partner's."""
    vary = [v for k, v in headers if k.lower() == b"vary"]
    kept = [
        (k, v)
        for k, v in headers
        if k.lower() != b"vary" and not k.lower().startswith(b"access-control-")
    ]
    # A shared cache must not answer one partner (or a keyless caller) with another's response:
    # it would skip that caller's origin check, limit and usage count.
    merged = b", ".join([*vary, b"Origin, X-Partner-Key"])
    return [*kept, (b"vary", merged), *_cors_headers(origin)[1:]]


def _is_keyed_preflight(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    requested = headers.get(b"access-control-request-headers", b"").lower()
    return scope["method"] == "OPTIONS" and _KEY_HEADER in requested


def _reads_snippets(scope: Scope, body: bytes) -> bool:
    # A cheap look, not a parse, for a clean 429 before execution in the plain case. It misses
    # escaped field names and hash-only persisted queries: the snippet resolvers count those
    # (see cms.http.graphql), so it only has to be right when it says yes.
    return _SNIPPET_FIELD in scope.get("query_string", b"") or _SNIPPET_FIELD in body


def _query_param(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0].strip() or None if values else None


def keyless_client(scope: Scope) -> str:
    """Who a keyless request counts as: its client IP."""
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


async def _respond(send: Send, status: int, body: bytes, headers: Headers) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


async def _error(
    send: Send, status: int, code: str, message: str, headers: Headers | None = None
) -> None:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    await _respond(send, status, body, [(b"content-type", b"application/json"), *(headers or [])])

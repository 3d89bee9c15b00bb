"""One request's policy, decided once: who is asking (token), for which partner (key and
origin), which rate-limit bucket it counts against, whether its answer may be shared, and the
snippets it served. `PolicyMiddleware` decides it on the routes that serve snippets and keeps it
in `scope["state"]`; the GraphQL endpoint, the resolvers (through the context) and the embed
pages read it from there.

- `X-Partner-Key` (or, where the route allows it, `?partner_key=`) names a partner; an unknown or
  revoked key is 401 `INVALID_PARTNER_KEY`. A keyed request from a browser gets
  `Access-Control-Allow-Origin: <its Origin>` on content only when that origin is the
  partner's, else 403 `ORIGIN_NOT_ALLOWED`. Refusals of a keyed request (401, 403, 429) carry
  `Access-Control-Allow-Origin: <its Origin>` too (never `Allow-Credentials`): they hold no
  content, and a page's script can then tell a bad key from a refused origin. A keyed answer
  never carries the wildcard, and varies on `Origin` and `X-Partner-Key`.
- Keyed requests count against the partner's per-minute limit, keyless snippet reads against
  `anonymous_rate_limit` per client IP (from `X-Forwarded-For` only when the peer is one of
  `trusted_proxies`): 429 `RATE_LIMITED` with `Retry-After` when over. A
  request is counted at most once, up front when it plainly reads snippets, else by the first
  snippet resolver that runs.
- The snippets a request served are counted for its partner, or for no partner.
- A repeated keyless read is answered by the hot path (`cms.http.hot_path`), which limits and
  counts it through `KeylessSnippetReads` as this layer would; one it finds over the limit comes
  here with its bucket decided, and is refused here without being counted twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.access import ANONYMOUS, Principal
from cms.db import Database
from cms.errors import InvalidPartnerKey, OriginNotAllowed, RateLimited, Unauthenticated
from cms.http.errors import as_cms_error, error_response
from cms.http.graphql_request import read_body, replay_body
from cms.http.rate_limit import Decision, Limiter
from cms.models import utc_now
from cms.partners import PartnerIdentity, identify_partner, normalise_origin
from cms.preview_links import preview_principal, verify_preview
from cms.tokens import authenticate
from cms.usage import UsageBuffer

__all__ = [
    "KeylessSnippetReads",
    "PolicyMiddleware",
    "RateLimitBucket",
    "RequestPolicy",
    "count_served",
    "keyless_client",
    "policy_of",
    "principal_for",
    "trusted_networks",
]

_STATE_KEY = "policy"
# A keyless request's bucket, decided (a refusal) by the hot path before it went the full way.
_DECIDED_KEY = "cms.decided_bucket"
_KEY_HEADER = "x-partner-key"
_SNIPPET_FIELD = b"benefitSnippet"
_PARTNER_ALLOWED_HEADERS = b"content-type, x-partner-key"
# Refusals of a keyed request a page may read: bad key, origin not allowed, over the limit.
_READABLE_REFUSALS = frozenset({401, 403, 429})

RawHeaders = list[tuple[bytes, bytes]]


class RateLimitBucket:
    """The window a request counts against; counted once however often it is checked."""

    def __init__(self, key: str, limit: int, limiter: Limiter, *, counts: str) -> None:
        self.key = key
        self.limit = limit
        self.counts = counts
        """What the limit counts, as its refusal says (`requests`, `snippet reads`)."""
        self._limiter = limiter
        self._decision: asyncio.Future[RateLimited | None] | None = None
        self.snippets_read = False
        """Whether a snippet field ran: a cached copy of the answer is a snippet read too."""

    @property
    def counted(self) -> bool:
        return self._decision is not None

    async def check(self) -> None:
        """Count the request (the first time); raise `RateLimited` when over the limit."""
        if self._decision is None:
            # Snippet fields resolve concurrently: the first counts, the others wait for it.
            self._decision = asyncio.get_running_loop().create_future()
            try:
                decision = await self._limiter.hit(self.key, self.limit)
                self._decision.set_result(self.refusal(decision))
            except BaseException as error:
                self._decision.set_exception(error)
                raise
        refusal = await self._decision
        if refusal is not None:
            raise refusal

    async def check_snippet_read(self) -> None:
        """Awaited by every snippet field before it reads."""
        self.snippets_read = True
        await self.check()

    def settle(self, refusal: RateLimited | None) -> None:
        """Decide the bucket by a hit counted already: `check` then raises `refusal`, if any,
        without counting again."""
        self._decision = asyncio.get_running_loop().create_future()
        self._decision.set_result(refusal)

    def refusal(self, decision: Decision) -> RateLimited | None:
        if decision.allowed or decision.retry_after is None:
            return None
        return RateLimited(
            f"Over {self.limit} {self.counts} a minute; retry in {decision.retry_after} s.",
            decision.retry_after,
        )


@dataclass(frozen=True)
class RequestPolicy:
    principal: Principal
    partner: PartnerIdentity | None
    origin: str | None
    bucket: RateLimitBucket
    served: list[tuple[str, str]] = field(default_factory=list)
    """(article slug, benefit slug) of every snippet served, for the usage counts."""

    @property
    def shareable(self) -> bool:
        """Whether the answer is the same for every keyless anonymous caller, so the hot path
        may keep it: no token, no partner. The hot path limits and counts each snippet read it
        answers (`KeylessSnippetReads`), from what the entry remembers of `served` and
        `bucket.counted`."""
        return not self.principal.authenticated and self.partner is None

    @property
    def partner_cors(self) -> bool:
        """The CORS decision: a partner's request is answered for its own origin, exactly
        (this module); any other by the route's public CORS (`cms.http.cors`) or not at all."""
        return self.partner is not None

    def count_served(self, article_slug: str, benefit_slug: str) -> None:
        self.served.append((article_slug, benefit_slug))


def policy_of(scope: Scope) -> RequestPolicy | None:
    policy = scope.get("state", {}).get(_STATE_KEY)
    return policy if isinstance(policy, RequestPolicy) else None


def count_served(scope: Scope, article_slug: str, benefit_slug: str) -> None:
    """Count one snippet served by a route with a policy (an embed page, say)."""
    policy = policy_of(scope)
    if policy is not None:
        policy.count_served(article_slug, benefit_slug)


class KeylessSnippetReads:
    """Keyless snippet reads: limited per client (`keyless_client`) at `limit` a minute, and
    counted under no partner. One place for `PolicyMiddleware` and the hot path alike."""

    def __init__(
        self,
        *,
        usage: UsageBuffer,
        limiter: Limiter,
        limit: int,
        trusted: Sequence[Network] = (),
    ) -> None:
        self.usage = usage
        self.limiter = limiter
        self.limit = limit
        self.trusted = tuple(trusted)

    def bucket(self, scope: Scope) -> RateLimitBucket:
        """The request's bucket: the one the hot path decided, when it passed the request on."""
        decided = scope.get(_DECIDED_KEY)
        if isinstance(decided, RateLimitBucket):
            return decided
        return self._bucket(keyless_client(scope, self.trusted))

    async def admit(self, scope: Scope) -> bool:
        """Count one read of a kept answer against the limit. False when over it: the request
        is then to go the full way, which answers the refusal from the bucket decided here."""
        client = keyless_client(scope, self.trusted)
        decision = await self.limiter.hit(client, self.limit)
        if decision.allowed:  # answered from the kept copy: no bucket is needed
            return True
        bucket = self._bucket(client)
        bucket.settle(bucket.refusal(decision))
        scope[_DECIDED_KEY] = bucket
        return False

    def _bucket(self, client: str) -> RateLimitBucket:
        return RateLimitBucket(client, self.limit, self.limiter, counts="snippet reads")

    def count(self, served: Iterable[tuple[str, str]]) -> None:
        """Count the snippets one keyless request served."""
        self.usage.add(None, served)


async def principal_for(
    database: Database, header: str | None, preview_secret: str = ""
) -> Principal:
    """The caller an `Authorization` header names: anonymous without one; `Unauthenticated` for
    a bad one, so a client with a mistyped or expired token learns it at once. `Preview <token>`
    (a preview link's token) reads one article's current version (`cms.preview_links`)."""
    if header is None:
        return ANONYMOUS
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "preview" and secret.strip():
        return preview_principal(verify_preview(secret.strip(), preview_secret, utc_now()))
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Send the token as: Authorization: Bearer <token>.")
    async with database.read_session() as session:
        principal = await authenticate(session, secret.strip())
    if principal is None:
        raise Unauthenticated("The API token is unknown, revoked or expired.")
    return principal


class PolicyMiddleware:
    """Route middleware that decides the policy, answers with it, and counts what was served.

    `authenticate`: the route takes API tokens. `key_in_query`: `?partner_key=` names a
    partner too (pages loaded by an iframe cannot send headers). `limit_every_request`: every
    request is a snippet read (else only those whose body or query plainly names a snippet
    field are counted up front; the snippet resolvers count the rest)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        database: Database,
        usage: UsageBuffer,
        limiter: Limiter,
        anonymous_rate_limit: int,
        trusted_proxies: Sequence[str] = (),
        authenticate: bool = False,
        key_in_query: bool = False,
        limit_every_request: bool = False,
        preview_secret: str = "",
    ) -> None:
        self.app = app
        self.preview_secret = preview_secret
        self.database = database
        self.usage = usage
        self.limiter = limiter
        self.keyless = KeylessSnippetReads(
            usage=usage,
            limiter=limiter,
            limit=anonymous_rate_limit,
            trusted=trusted_networks(trusted_proxies),
        )
        self.authenticate = authenticate
        self.key_in_query = key_in_query
        self.limit_every_request = limit_every_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        key = headers.get(_KEY_HEADER, "").strip() or self._query_key(scope)
        if key is None and _is_keyed_preflight(scope["method"], headers):
            # Browsers send no custom header in a preflight; the real request is checked.
            await _respond(send, 204, _partner_cors(origin, preflight=True))
            return
        answer = _Answer(send)
        try:
            partner = await self._partner(key, origin) if key is not None else None
            policy = await self._decide(scope, headers, partner, origin)
            if policy.partner_cors:
                answer.for_origin(origin)
                if scope["method"] == "OPTIONS":
                    await _respond(send, 204, _partner_cors(origin, preflight=True))
                    return
            replayed = await self._count_up_front(scope, receive, policy)
            if replayed is None:  # the client went away
                return
            await self.app(scope, replayed, answer)
        except Exception as exc:
            error = as_cms_error(exc)
            if error is None or answer.started:
                raise
            if key is not None and error.status in _READABLE_REFUSALS:
                # The page's script may read why its key was refused, and so name the fix; the
                # answer holds no content and grants no credentials.
                answer.for_origin(origin)
            await error_response(error)(scope, receive, answer)
            return
        self.usage.add(partner.id if partner else None, policy.served)

    async def _decide(
        self,
        scope: Scope,
        headers: Headers,
        partner: PartnerIdentity | None,
        origin: str | None,
    ) -> RequestPolicy:
        principal = ANONYMOUS
        if self.authenticate:
            principal = await principal_for(
                self.database, headers.get("authorization"), self.preview_secret
            )
        if partner is not None:
            bucket = RateLimitBucket(
                f"partner:{partner.id}", partner.rate_limit, self.limiter, counts="requests"
            )
        else:
            bucket = self.keyless.bucket(scope)
        policy = RequestPolicy(principal, partner, origin, bucket)
        scope.setdefault("state", {})[_STATE_KEY] = policy
        return policy

    async def _count_up_front(
        self, scope: Scope, receive: Receive, policy: RequestPolicy
    ) -> Receive | None:
        """Count the request now when it is certain to be limited: keyed, on a route where
        every request is, or plainly naming a snippet field. The receive to go on with; None
        when the client went away before sending its body."""
        if policy.partner is not None or self.limit_every_request:
            await policy.bucket.check()
            return receive
        if scope["method"] != "POST":
            body = b""
        else:
            read = await read_body(receive)
            if read is None:
                return None
            body, receive = read, replay_body(read, receive)
        if _reads_snippets(scope, body):
            await policy.bucket.check()
        return receive

    def _query_key(self, scope: Scope) -> str | None:
        if not self.key_in_query:
            return None
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("partner_key")
        return values[0].strip() or None if values else None

    async def _partner(self, key: str, origin: str | None) -> PartnerIdentity:
        async with self.database.read_session() as session:
            partner = await identify_partner(session, key)
        if partner is None:
            raise InvalidPartnerKey("The partner key is unknown or revoked.")
        if origin is not None and not _allowed(origin, partner):
            raise OriginNotAllowed(f"This partner key is not allowed from {origin}.")
        return partner


Network = IPv4Network | IPv6Network


def trusted_networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    """`CMS_TRUSTED_PROXIES` as networks (a bare address is a network of one)."""
    return tuple(ip_network(proxy, strict=False) for proxy in proxies)


def keyless_client(scope: Scope, trusted: Sequence[Network] = ()) -> str:
    """Who a keyless request counts as: its client IP. When the direct peer is a trusted proxy,
    the client is the last address in `X-Forwarded-For` that is not a trusted proxy itself
    (proxies append what they saw, so the addresses left of it are the client's own claims)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return f"ip:{peer}"
    forwarded = [
        address.strip()
        for value in Headers(scope=scope).getlist("x-forwarded-for")
        for address in value.split(",")
        if address.strip()
    ]
    for address in reversed(forwarded):
        if not _is_trusted(address, trusted):
            return f"ip:{address}"
    return f"ip:{forwarded[0] if forwarded else peer}"


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:  # a name or garbage is no trusted proxy
        return False
    return any(ip in network for network in trusted)


def _allowed(origin: str, partner: PartnerIdentity) -> bool:
    try:
        return normalise_origin(origin) in partner.origins
    except Exception:  # noqa: BLE001 - "null" or garbage: not an allowed origin
        return False


def _is_keyed_preflight(method: str, headers: Headers) -> bool:
    requested = headers.get("access-control-request-headers", "").lower()
    return method == "OPTIONS" and _KEY_HEADER in requested


def _reads_snippets(scope: Scope, body: bytes) -> bool:
    # A cheap look, not a parse, for a clean 429 before execution in the plain case. It misses
    # escaped field names and hash-only persisted queries: the snippet resolvers count those
    # (through the same bucket), so it only has to be right when it says yes.
    return _SNIPPET_FIELD in scope.get("query_string", b"") or _SNIPPET_FIELD in body


def _partner_cors(origin: str | None, *, preflight: bool = False) -> RawHeaders:
    headers: RawHeaders = [(b"vary", b"Origin")]
    if origin is None:
        return headers
    headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
    if preflight:
        headers += [
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", _PARTNER_ALLOWED_HEADERS),
            (b"access-control-max-age", b"600"),
        ]
    else:
        headers.append((b"access-control-expose-headers", b"Retry-After, ETag"))
    return headers


class _Answer:
    """The send of a request with a policy: knows whether the answer has started, and for a
    partner (or a keyed refusal) drops whatever CORS answer an inner layer gave (a wildcard,
    say) for one naming the request's origin."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._partner = False
        self._origin: str | None = None
        self.started = False

    def for_origin(self, origin: str | None) -> None:
        self._partner, self._origin = True, origin

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            if self._partner:
                headers = list(message.get("headers", []))
                message["headers"] = _with_partner_cors(headers, self._origin)
        await self._send(message)


def _with_partner_cors(headers: RawHeaders, origin: str | None) -> RawHeaders:
    vary = [v for k, v in headers if k.lower() == b"vary"]
    kept = [
        (k, v)
        for k, v in headers
        if k.lower() != b"vary" and not k.lower().startswith(b"access-control-")
    ]
    # A shared cache must not answer one partner (or a keyless caller) with another's response:
    # it would skip that caller's origin check, limit and usage count.
    names = [n.strip() for value in [*vary, b"Origin, X-Partner-Key"] for n in value.split(b",")]
    unique: dict[bytes, bytes] = {}
    for name in names:
        unique.setdefault(name.lower(), name)  # once each, where it first appears
    merged = b", ".join(name for name in unique.values() if name)
    return [*kept, (b"vary", merged), *_partner_cors(origin)[1:]]


async def _respond(send: Send, status: int, headers: RawHeaders) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})

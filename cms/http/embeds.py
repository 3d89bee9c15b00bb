"""Embeds for partner sites: the standalone snippet page that iframes show
(`/embed/{article}/{benefit}`), the script that sizes those iframes on a partner's page
(`/embed-resize.js`), the web component script (`/embed.js`) and the snippet stylesheet it and
partners link (`/embed.css`).

Only published content is ever served. The page runs one constant script (it posts its height to
the page framing it) and nothing else, may be framed by anyone, and is cached like GraphQL
responses: rendered once per content revision, sent with an ETag, 304 when the client has it.
Whatever stops a page from being shown (unknown benefit, refused key, rate limit, database down)
is a short HTML page with the right status, never the JSON error envelope.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib.resources import files
from urllib.parse import quote, urlencode

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms import aliases
from cms.db import Database, RequestDatabase
from cms.errors import NotFound
from cms.http.conditional import conditional_response, etag_of
from cms.http.errors import as_cms_error
from cms.http.hosts import public_base_url
from cms.http.policy import count_served
from cms.http.response_cache import CachedResponse, ResponseCache
from cms.jsonld import snippet_json_ld
from cms.outbox import ContentRevision
from cms.settings import Settings
from cms.snippet_html import EMBED_CSS, FRAME_SCRIPT, SNIPPET_CSS, embed_document, error_document
from cms.snippets import Snippet, read_syndicated_article

__all__ = [
    "ASSET_MAX_AGE",
    "PAGE_POLICY",
    "ErrorPages",
    "base_url",
    "canonical_address",
    "embed_routes",
    "embed_url",
    "error_page",
    "read_snippet",
]

logger = logging.getLogger("cms.http")

# The script and stylesheet change only with a release; an hour, then revalidation by ETag.
ASSET_MAX_AGE = 3600


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


PAGE_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(EMBED_CSS)}; "
    f"script-src {_csp_hash(FRAME_SCRIPT)}; base-uri 'none'; form-action 'none'; "
    "frame-ancestors *"
)
# What the web component and a page inserting the `html` field add to the snippet's own styles.
STYLESHEET = (
    SNIPPET_CSS
    + ":host{display:block}\n"
    + ".bwk-snippet__status,.bwk-snippet__error{font:16px/1.5 system-ui,sans-serif;margin:0}\n"
    + ".bwk-snippet__error{color:#8a1c1c}\n"
)
# What a reader sees in the iframe instead of the snippet, by status.
_ERROR_MESSAGES = {
    401: "This health information cannot be shown here: the partner key is not valid.",
    403: "This health information cannot be shown on this site.",
    404: "This health information is not available.",
    429: "This health information is in high demand. Please try again in a minute.",
    503: "This health information cannot be shown right now.",
}
_OTHER_ERROR = "This health information cannot be shown."


def base_url(request: Request, public_url: str | None = None) -> str:
    """Where this server is reached: `CMS_PUBLIC_URL`, else as the client addressed it (its
    host checked against `CMS_ALLOWED_HOSTS`), with no trailing slash."""
    return public_base_url(request, public_url)


def embed_url(base: str, article: str, benefit: str) -> str:
    return f"{base}/embed/{quote(article, safe='')}/{quote(benefit, safe='')}"


async def read_snippet(
    database: Database, *, article: str, benefit: str, site_url: str
) -> Snippet | None:
    """A published benefit as a snippet; None when there is none (or no precautions with it)."""
    db = RequestDatabase(database)
    try:
        syndicated = await db.run(read_syndicated_article, slug=article, site_url=site_url)
    finally:
        await db.close()
    return syndicated.snippet(benefit) if syndicated else None


async def canonical_address(
    database: Database, *, article: str, benefit: str
) -> tuple[str, str] | None:
    """The (article, benefit) slugs now of a published benefit whose address used a slug it
    had before a rename; None otherwise. Asked only after a miss (`cms.aliases`)."""
    db = RequestDatabase(database)
    try:
        return await db.run(
            aliases.canonical_benefit, article=article, benefit=benefit, include_drafts=False
        )
    finally:
        await db.close()


class Embeds:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.revision = ContentRevision(database)
        self.pages = (
            ResponseCache(settings.response_cache_entries) if settings.response_cache else None
        )

    async def page(self, request: Request) -> Response:
        article, benefit = request.path_params["article"], request.path_params["benefit"]
        base = base_url(request, self.settings.public_url)
        page = await self._page(base, article, benefit)
        cache_control = f"public, max-age={self.settings.http_max_age}"
        if page is None:
            canonical = await canonical_address(self.database, article=article, benefit=benefit)
            if canonical is None:
                raise NotFound("No published benefit has that address.")
            # An old slug: send the reader (and caches) to the address it has now.
            location = embed_url(base, *canonical)
            if request.url.query:
                location += "?" + request.url.query
            return RedirectResponse(
                location, status_code=301, headers={"cache-control": cache_control}
            )
        count_served(request.scope, article, benefit)
        headers = {**_PAGE_HEADERS, "cache-control": cache_control}
        return conditional_response(
            request, page.body, media_type="text/html", headers=headers, etag=page.etag
        )

    async def _page(self, base: str, article: str, benefit: str) -> CachedResponse | None:
        # The revision is read before the content, so an entry never looks newer than it is.
        key = hashlib.sha256("\0".join(("embed", base, article, benefit)).encode()).digest()
        revision = await self.revision.current() if self.pages is not None else 0
        if self.pages is not None and key in self.pages:
            cached = self.pages.get(key, revision)
            if cached is not None:
                return cached
        snippet = await read_snippet(
            self.database, article=article, benefit=benefit, site_url=self.settings.site_url
        )
        if snippet is None:
            return None
        oembed = f"{base}/oembed?" + urlencode(
            {"url": embed_url(base, article, benefit), "format": "json"}
        )
        document = embed_document(snippet, oembed_url=oembed, json_ld=snippet_json_ld(snippet))
        page = CachedResponse.of(document.encode())
        if self.pages is not None:
            self.pages.put(key, revision, page)
        return page


_PAGE_HEADERS = {"content-security-policy": PAGE_POLICY, "x-content-type-options": "nosniff"}


class ErrorPages:
    """Route middleware, outermost on the page: a refusal raised by the route or answered by a
    layer inside it (the partner policy answers with the JSON envelope) reaches the reader as
    an HTML page, with the same status and headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = replaced = False

        async def send_page(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                if message["status"] >= 400:
                    replaced = True
                    headers = {
                        key.decode("latin-1").lower(): value.decode("latin-1")
                        for key, value in message.get("headers", [])
                    }
                    await error_page(message["status"], headers)(scope, receive, send)
                    return
            if not replaced:  # the envelope's body is dropped with its start
                await send(message)

        try:
            await self.app(scope, receive, send_page)
        except Exception as exc:
            error = as_cms_error(exc)
            if error is None or started:
                raise
            await error_page(error.status, error.headers)(scope, receive, send)


# The page's own: the envelope's type, length and caching mean nothing for it.
_REPLACED_HEADERS = frozenset(
    ("content-type", "content-length", "cache-control", "etag", *_PAGE_HEADERS)
)


def error_page(status: int, headers: Mapping[str, str]) -> Response:
    """The page shown for `status`, with `headers` (`Retry-After`, CORS, ...) but its own type,
    length, policy and caching."""
    message = _ERROR_MESSAGES.get(status, _OTHER_ERROR)
    retry_after = headers.get("retry-after", "")
    if status == 429 and retry_after.isdigit():
        message = message.replace("in a minute", f"in {retry_after} seconds")
    kept = {key: value for key, value in headers.items() if key not in _REPLACED_HEADERS}
    # A missing benefit may be published any minute; anything else must not be kept at all.
    cache = "no-cache" if status == 404 else "no-store"
    return Response(
        error_document(message),
        status,
        {**kept, **_PAGE_HEADERS, "cache-control": cache},
        media_type="text/html",
    )


def _asset(body: bytes, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    etag = etag_of(body)
    headers = {
        "cache-control": f"public, max-age={ASSET_MAX_AGE}",
        "x-content-type-options": "nosniff",
    }

    async def serve(request: Request) -> Response:
        return conditional_response(
            request, body, media_type=media_type, headers=headers, etag=etag
        )

    return serve


def embed_routes(
    settings: Settings,
    database: Database,
    *,
    script_middleware: Sequence[Middleware] = (),
    page_middleware: Sequence[Middleware] = (),
) -> list[Route]:
    """The routes; `page_middleware` decides and counts partner access to the pages
    (`cms.http.policy`), `script_middleware` is the script's CORS."""
    embeds = Embeds(settings, database)
    static = files("cms.http").joinpath("static")
    script = static.joinpath("embed.js").read_bytes()
    resize = static.joinpath("embed-resize.js").read_bytes()
    return [
        Route(
            "/embed.js",
            _asset(script, "text/javascript"),
            methods=["GET", "OPTIONS"],
            middleware=script_middleware,
        ),
        Route(
            "/embed-resize.js",
            _asset(resize, "text/javascript"),
            methods=["GET", "OPTIONS"],
            middleware=script_middleware,
        ),
        Route("/embed.css", _asset(STYLESHEET.encode(), "text/css")),
        Route(
            "/embed/{article}/{benefit}",
            embeds.page,
            middleware=[Middleware(ErrorPages), *page_middleware],
        ),
    ]

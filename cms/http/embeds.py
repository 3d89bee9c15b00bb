"""Embeds for partner sites: the standalone snippet page that iframes show
(`/embed/{article}/{benefit}`), the web component script (`/embed.js`) and the snippet
stylesheet it and partners link (`/embed.css`).

Only published content is ever served. The page runs no script at all (its policy forbids any),
may be framed by anyone, and is cached like GraphQL responses: rendered once per content
revision, sent with an ETag, 304 when the client has it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib.resources import files
from urllib.parse import quote, urlencode

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms.db import Database, RequestDatabase
from cms.errors import ServiceUnavailable
from cms.http.conditional import conditional_response, etag_of
from cms.http.errors import as_cms_error
from cms.http.hosts import public_base_url
from cms.http.policy import count_served
from cms.http.response_cache import CachedResponse, ResponseCache
from cms.jsonld import snippet_json_ld
from cms.outbox import ContentRevision
from cms.settings import Settings
from cms.snippet_html import EMBED_CSS, SNIPPET_CSS, embed_document
from cms.snippets import Snippet, read_syndicated_article

__all__ = [
    "ASSET_MAX_AGE",
    "PAGE_POLICY",
    "base_url",
    "embed_routes",
    "embed_url",
    "read_snippet",
]

logger = logging.getLogger("cms.http")

# The script and stylesheet change only with a release; an hour, then revalidation by ETag.
ASSET_MAX_AGE = 3600
_STYLE_HASH = base64.b64encode(hashlib.sha256(EMBED_CSS.encode()).digest()).decode()
PAGE_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
# What the web component and a page inserting the `html` field add to the snippet's own styles.
STYLESHEET = (
    SNIPPET_CSS
    + ":host{display:block}\n"
    + ".bwk-snippet__status,.bwk-snippet__error{font:16px/1.5 system-ui,sans-serif;margin:0}\n"
    + ".bwk-snippet__error{color:#8a1c1c}\n"
)
_MISSING = (
    "<!doctype html>\n"
    '<html lang="en"><head><meta charset="utf-8"><title>Not available</title></head>'
    '<body><p role="alert">{message}</p></body></html>\n'
)
NOT_FOUND_PAGE = _MISSING.format(message="This health information is not available.")
UNAVAILABLE_PAGE = _MISSING.format(message="This health information cannot be shown right now.")


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
        try:
            page = await self._page(base_url(request, self.settings.public_url), article, benefit)
        except Exception as error:
            unavailable = as_cms_error(error)
            if not isinstance(unavailable, ServiceUnavailable):
                raise
            # A page in an iframe: the reader sees a sentence, not the JSON envelope.
            headers = {"cache-control": "no-store", **unavailable.headers}
            return _html(UNAVAILABLE_PAGE, unavailable.status, headers)
        if page is None:
            return _html(NOT_FOUND_PAGE, 404, {"cache-control": "no-cache"})
        count_served(request.scope, article, benefit)
        headers = {
            **_PAGE_HEADERS,
            "cache-control": f"public, max-age={self.settings.http_max_age}",
        }
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


def _html(body: str, status: int, headers: dict[str, str]) -> Response:
    return Response(body, status, {**_PAGE_HEADERS, **headers}, media_type="text/html")


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
    script = files("cms.http").joinpath("static", "embed.js").read_bytes()
    return [
        Route(
            "/embed.js",
            _asset(script, "text/javascript"),
            methods=["GET", "OPTIONS"],
            middleware=script_middleware,
        ),
        Route("/embed.css", _asset(STYLESHEET.encode(), "text/css")),
        Route("/embed/{article}/{benefit}", embeds.page, middleware=page_middleware),
    ]

"""The oEmbed 1.0 provider (https://oembed.com) at `/oembed`: for the URL of an embed page or of
a benefit on the public site, the iframe that shows it, tall enough for the whole snippet at its
width, and the script that keeps it as tall as its content.

`url` missing or not an http(s) URL is 400, `format` other than json is 501 (the spec's answer),
and so is a `maxwidth` under `MIN_WIDTH` or a `maxheight` that cannot hold the snippet at that
width (clipping would hide its precautions, disclaimer or attribution); a URL that names no
published benefit is 404, and an unreachable database 503.
"""

from __future__ import annotations

from html import escape
from urllib.parse import SplitResult, unquote, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

from cms.db import Database
from cms.errors import BadRequest, FormatNotImplemented, NotFound
from cms.http.conditional import conditional_response
from cms.http.embeds import base_url, canonical_address, embed_url, read_snippet
from cms.http.errors import as_cms_error, error_response
from cms.settings import Settings
from cms.snippet_html import estimated_height

__all__ = ["CACHE_AGE", "DEFAULT_WIDTH", "MIN_WIDTH", "OEmbed"]

DEFAULT_WIDTH = 560
# Narrower than this, a snippet is a column of a few words a line: no embed is offered.
MIN_WIDTH = 200
# The HTML is only an iframe, and what the iframe shows stays current by itself.
CACHE_AGE = 86_400
_MAX_URL_LENGTH = 2048


class OEmbed:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    async def endpoint(self, request: Request) -> Response:
        # Answered here rather than by the app's handlers, so that the route's CORS applies.
        try:
            return await self._answer(request)
        except Exception as exc:
            error = as_cms_error(exc)
            if error is None:
                raise
            return error_response(error)

    async def _answer(self, request: Request) -> Response:
        params = request.query_params
        url = _parse_url(params.get("url", ""))
        if url is None:
            raise BadRequest("Give `url`: the http(s) address of a benefit.")
        if params.get("format", "json") != "json":
            raise FormatNotImplemented("Only format=json is provided.")
        try:
            width = _bound(params.get("maxwidth"), DEFAULT_WIDTH)
            maxheight = _positive(params.get("maxheight"))
        except ValueError:
            raise BadRequest("maxwidth and maxheight are positive integers.") from None
        if width < MIN_WIDTH:
            raise FormatNotImplemented(f"A benefit is embedded at least {MIN_WIDTH} px wide.")
        base = base_url(request, self.settings.public_url)
        target = _target(url, base=urlsplit(base), site=urlsplit(self.settings.site_url))
        snippet = None
        if target is not None:
            article, benefit = target
            snippet = await read_snippet(
                self.database, article=article, benefit=benefit, site_url=self.settings.site_url
            )
            if snippet is None:
                # An old slug answers for the benefit now, with its canonical URLs.
                canonical = await canonical_address(self.database, article=article, benefit=benefit)
                if canonical is not None:
                    snippet = await read_snippet(
                        self.database, article=canonical[0], benefit=canonical[1],
                        site_url=self.settings.site_url,
                    )  # fmt: skip
        if snippet is None:
            raise NotFound("No published benefit has that address.")
        # Text reflows when narrower: the height it then needs, never less.
        height = estimated_height(snippet, width)
        if maxheight is not None and maxheight < height:
            raise FormatNotImplemented(
                f"At {width} px wide this benefit needs {height} px; within a maxheight of "
                f"{maxheight} its precautions, disclaimer or attribution would be cut off. "
                "Allow a larger maxheight or a wider maxwidth."
            )
        title = f"{snippet.benefit.title} – {snippet.article.title}"
        src = embed_url(base, snippet.article.slug, snippet.benefit.slug)
        body = {
            "type": "rich",
            "version": "1.0",
            "title": title,
            "author_name": snippet.article.author_name,
            # Authors have no pages of their own: the article is where they are credited.
            "author_url": snippet.article.url,
            "provider_name": self.settings.site_name,
            "provider_url": self.settings.site_url,
            "cache_age": CACHE_AGE,
            "width": width,
            "height": height,
            "html": (
                f'<iframe src="{escape(src)}" width="{width}" height="{height}" '
                f'title="{escape(title)}" loading="lazy" style="border:0;max-width:100%">'
                f'</iframe><script src="{escape(base)}/embed-resize.js" async></script>'
            ),
        }
        headers = {
            "cache-control": f"public, max-age={self.settings.http_max_age}",
            "x-content-type-options": "nosniff",
        }
        return conditional_response(
            request, orjson.dumps(body), media_type="application/json", headers=headers
        )


def _parse_url(value: str) -> SplitResult | None:
    if not value or len(value) > _MAX_URL_LENGTH:
        return None
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return url if url.scheme in ("http", "https") and url.hostname else None


def _bound(value: str | None, default: int) -> int:
    bound = _positive(value)
    return default if bound is None else min(bound, default)


def _positive(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(value)
    return int(value)


def _target(url: SplitResult, *, base: SplitResult, site: SplitResult) -> tuple[str, str] | None:
    """(article, benefit) named by an embed URL of this server (or of the site) or by a
    canonical benefit URL (`{site}/articles/{article}#{benefit}`); the scheme is not compared,
    since a proxy in front may terminate TLS."""
    host = url.netloc.lower()
    for origin in (base, site):
        prefix = f"{origin.path.rstrip('/')}/embed/"
        if host == origin.netloc.lower() and url.path.startswith(prefix):
            parts = url.path.removeprefix(prefix).split("/")
            if len(parts) == 2 and all(parts):
                return unquote(parts[0]), unquote(parts[1])
    prefix = f"{site.path.rstrip('/')}/articles/"
    if host == site.netloc.lower() and url.path.startswith(prefix) and url.fragment:
        article = url.path.removeprefix(prefix)
        if article and "/" not in article:
            return unquote(article), unquote(url.fragment)
    return None

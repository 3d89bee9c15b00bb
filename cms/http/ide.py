"""The GraphQL IDE (GraphiQL) served whole by the CMS: its page, and its scripts and styles from
the package (`static/graphiql/`, whose README names the versions), so that it works offline and
behind networks that block third-party hosts."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from cms.settings import Settings

__all__ = ["ASSETS_PATH", "POLICY", "ide_page", "ide_response", "ide_routes"]

ASSETS_PATH = "/graphiql"
ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
# The file names carry no version: a day, so that an upgrade reaches browsers soon enough.
ASSETS_MAX_AGE = 86_400

# The browser holds the page to its own origin too. Fonts and icons are data: URLs inside
# GraphiQL's stylesheet; inline styles stay allowed (never scripts) for the parts of GraphiQL
# the browser test does not open.
POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# No inline script: everything the page runs is a file above, as the policy requires.
_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{assets}/graphiql.min.css">
    <link rel="stylesheet" href="{assets}/ide.css">
    <script src="{assets}/react.production.min.js" defer></script>
    <script src="{assets}/react-dom.production.min.js" defer></script>
    <script src="{assets}/graphiql.min.js" defer></script>
    <script src="{assets}/ide.js" defer></script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
  </body>
</html>
"""


def ide_page(root_path: str = "") -> str:
    """The IDE's HTML; every URL in it is on this server (under `root_path`, when mounted)."""
    return _PAGE.format(assets=escape(root_path.rstrip("/") + ASSETS_PATH))


def ide_response(request: Request) -> HTMLResponse:
    return HTMLResponse(
        ide_page(request.scope.get("root_path", "")),
        headers={"content-security-policy": POLICY, "x-content-type-options": "nosniff"},
    )


class _Assets(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("cache-control", f"public, max-age={ASSETS_MAX_AGE}")
        return response


def ide_routes(settings: Settings) -> list[Mount]:
    """The assets' route, when the IDE is on (`CMS_GRAPHIQL`)."""
    if not settings.graphiql:
        return []
    return [Mount(ASSETS_PATH, app=_Assets(directory=ASSETS_DIR), name="graphiql")]

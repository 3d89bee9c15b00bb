"""`/sitemap.xml`, `/feed.xml` and `/feed/{tag}.xml` (see `cms.discovery`), with ETags and
`Cache-Control: public`; a tag on no public article is 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms.db import Database
from cms.discovery import atom_feed, sitemap
from cms.errors import NotFound
from cms.http.conditional import conditional_response
from cms.http.hosts import public_base_url
from cms.settings import Settings

__all__ = ["discovery_routes"]


class Discovery:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.headers = {"cache-control": f"public, max-age={settings.http_max_age}"}

    async def sitemap(self, request: Request) -> Response:
        async with self.database.read_session() as session:
            body = await sitemap(session, site_url=self.settings.site_url)
        return conditional_response(
            request, body, media_type="application/xml", headers=self.headers
        )

    async def feed(self, request: Request) -> Response:
        tag = request.path_params.get("tag")
        async with self.database.read_session() as session:
            body = await atom_feed(
                session,
                site_url=self.settings.site_url,
                site_name=self.settings.site_name,
                self_url=public_base_url(request, self.settings.public_url) + request.url.path,
                tag=tag,
            )
        if body is None:
            raise NotFound(f"No published article is tagged {tag!r}.")
        return conditional_response(
            request, body, media_type="application/atom+xml", headers=self.headers
        )


def discovery_routes(settings: Settings, database: Database) -> list[Route]:
    discovery = Discovery(settings, database)
    return [
        Route("/sitemap.xml", discovery.sitemap),
        Route("/feed.xml", discovery.feed),
        Route("/feed/{tag}.xml", discovery.feed),
    ]

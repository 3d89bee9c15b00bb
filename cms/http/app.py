"""The ASGI application: routes, and the database's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from cms.changes import ChangeChannel
from cms.db import Database, as_database
from cms.dispatcher import run_dispatcher
from cms.http.admin import mount_admin
from cms.http.cors import PublicCORS
from cms.http.discovery import discovery_routes
from cms.http.embeds import embed_routes
from cms.http.errors import exception_handlers
from cms.http.graphql import GraphQLEndpoint
from cms.http.hosts import allowed_hosts
from cms.http.hot_path import StarletteWithHotPath
from cms.http.ide import ide_routes
from cms.http.metrics import Metrics
from cms.http.middleware import RequestMiddleware, RequestObserver
from cms.http.oembed import OEmbed
from cms.http.policy import KeylessSnippetReads, PolicyMiddleware, trusted_networks
from cms.http.preview import preview_routes
from cms.http.rate_limit import create_limiter
from cms.logs import flush_access_log
from cms.settings import Settings, get_settings
from cms.usage import UsageBuffer

__all__ = ["create_app"]


def create_app(
    settings: Settings | None = None, database: Database | AsyncEngine | None = None
) -> StarletteWithHotPath:
    """Build the app. The database is made here (or passed in by tests) and disposed at shutdown;
    the schema is expected to exist already (`cms serve` and `cms seed` create it)."""
    settings = settings or get_settings()
    database = as_database(
        database or Database.from_settings(settings), slow_query_ms=settings.slow_query_ms
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def home(_: Request) -> Response:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Webhooks go out from a task beside the requests: an edit only writes the outbox.
        # Content changes from every process: cache invalidation and live subscriptions.
        await changes.start()
        stop = asyncio.Event()
        dispatcher = (
            asyncio.create_task(run_dispatcher(database, settings, stop), name="webhooks")
            if settings.webhooks_dispatch
            else None
        )
        usage_writer = asyncio.create_task(
            usage.run(settings.usage_flush_interval, stop), name="snippet-usage"
        )
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(usage_writer, return_exceptions=True)
            await limiter.close()
            if dispatcher is not None:
                stop.set()
                # A send cut short is retried after its lease: delivery is at least once.
                _done, pending = await asyncio.wait({dispatcher}, timeout=5)
                for task in pending:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await changes.stop()
            await database.dispose()
            # uvicorn re-raises SIGTERM once shut down, so the process ends without `atexit`.
            flush_access_log()

    changes = ChangeChannel(database, settings)
    limiter = create_limiter(settings)
    graphql = GraphQLEndpoint(settings, database, changes, limiter)
    usage = UsageBuffer(database)
    metrics = Metrics()
    metrics.watch(lambda: _gauges(graphql, database, changes))
    observer = RequestObserver(metrics)

    def policy(**route: bool) -> Middleware:
        return Middleware(
            PolicyMiddleware,
            database=database,
            usage=usage,
            limiter=limiter,
            anonymous_rate_limit=settings.anonymous_rate_limit,
            trusted_proxies=settings.trusted_proxies,
            preview_secret=settings.preview_secret,
            **route,
        )

    public_cors = Middleware(PublicCORS)
    app = StarletteWithHotPath(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            Route(
                "/graphql",
                graphql,
                methods=["GET", "POST", "OPTIONS"],
                middleware=[
                    Middleware(PublicCORS, partners_inside=True),
                    policy(authenticate=True),
                ],
            ),
            WebSocketRoute("/graphql", graphql),
            *ide_routes(settings),
            *discovery_routes(settings, database),
            *preview_routes(settings, database),
            # OPTIONS too: route middleware runs once the method matched, and answers preflights.
            Route(
                "/oembed",
                OEmbed(settings, database).endpoint,
                methods=["GET", "OPTIONS"],
                middleware=[public_cors],
            ),
            *embed_routes(
                settings,
                database,
                script_middleware=[public_cors],
                page_middleware=[policy(key_in_query=True, limit_every_request=True)],
            ),
        ],
        middleware=[
            # A forged Host never reaches a URL the API writes (embeds, oEmbed, admin redirects).
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings)),
            Middleware(
                RequestMiddleware,
                observer=observer,
                max_body_bytes=settings.max_body_bytes,
                request_timeout=settings.request_timeout,
            ),
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    if graphql.hot_responses is not None:
        # Repeated anonymous queries are answered before any other layer runs; the hot path
        # keeps each response as every layer made it, CORS headers included.
        app.put_hot_path_in_front(
            responses=graphql.hot_responses,
            current_revision=graphql.content_revision.current,
            observer=observer,
            snippet_reads=KeylessSnippetReads(
                usage=usage,
                limiter=limiter,
                limit=settings.anonymous_rate_limit,
                trusted=trusted_networks(settings.trusted_proxies),
            ),
        )
    mount_admin(app, database, settings)
    app.state.settings = settings
    app.state.database = database
    app.state.engine = database.engine
    app.state.changes = changes
    app.state.usage = usage
    app.state.limiter = limiter
    return app


def _gauges(
    graphql: GraphQLEndpoint, database: Database, changes: ChangeChannel
) -> dict[str, float]:
    gauges: dict[str, float] = {
        "cms_changes_listener_connected": float(changes.live),
        "cms_live_subscribers": changes.subscribers,
    }
    cache = graphql.response_cache
    if cache is not None:
        hits = cache.hits + (graphql.hot_responses.hits if graphql.hot_responses else 0)
        looked_up = hits + cache.misses
        gauges["cms_response_cache_hits"] = hits
        gauges["cms_response_cache_misses"] = cache.misses
        gauges["cms_response_cache_hit_ratio"] = hits / looked_up if looked_up else 0.0
        if graphql.hot_responses is not None:
            gauges["cms_response_cache_hot_hits"] = graphql.hot_responses.hits
    if graphql.compiled_reads is not None:
        gauges["cms_compiled_reads"] = graphql.compiled_reads.answered
    pool = database.engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        gauges["cms_db_pool_size"] = pool.size()
        gauges["cms_db_pool_checked_out"] = pool.checkedout()
        gauges["cms_db_pool_overflow"] = max(pool.overflow(), 0)
    direct = database.direct
    if direct is not None:
        open_now, in_use = direct.connections()
        gauges["cms_db_direct_pool_connections"] = open_now
        gauges["cms_db_direct_pool_checked_out"] = in_use
    return gauges

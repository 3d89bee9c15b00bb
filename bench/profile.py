"""Where one request's time goes, in-process: `python -m bench.profile [--no-cache] [--query hot]`.

Calls the ASGI app directly (no socket, no uvicorn) with the benchmark's exact request bytes on a
fresh SQLite file (or, with `--database-url postgresql://...`, a scratch PostgreSQL database
dropped afterwards) seeded from `seed/`, reports the CPU time per request (process time, so a busy
machine skews it less than wall time) and, with `--top N`, the functions that took most of it
under cProfile. It explains the ratios `bench.run` measures; it does not replace them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.databases import scratch_database
from bench.queries import BENCH_QUERIES, BenchQuery
from cms.db import create_engine, create_schema, dispose_engine
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def _scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip


async def _measure(
    query: BenchQuery,
    *,
    cache: bool,
    requests: int,
    top: int,
    sort: str,
    server_url: str | None,
) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="cms-profile-") as work,
        scratch_database(server_url, Path(work), "cms_profile") as database_url,
    ):
        settings = Settings(  # type: ignore[call-arg]
            database_url=database_url, response_cache=cache,
            anonymous_rate_limit=1_000_000_000, webhooks_dispatch=False, _env_file=None,
        )  # fmt: skip
        engine = create_engine(settings)
        await create_schema(engine)
        await seed_database(engine, [REPO / "seed"])
        app = create_app(settings, engine)
        statuses: list[int] = []

        async def one() -> None:
            delivered = False

            async def receive() -> dict[str, Any]:
                nonlocal delivered
                if delivered:
                    return {"type": "http.disconnect"}
                delivered = True
                return {"type": "http.request", "body": query.body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
                elif message["type"] == "http.response.body" and b'"errors"' in message["body"]:
                    # A 200 carrying errors would measure a failure, not the query.
                    raise AssertionError(message["body"][:500])

            await app(_scope(query.body), receive, send)

        for _ in range(min(200, requests)):  # warm up: caches, pools, imports
            await one()
        started = time.process_time()
        for _ in range(requests):
            await one()
        cpu_us = (time.process_time() - started) / requests * 1e6
        assert set(statuses) == {200}, set(statuses)
        print(f"{query.name}, cache {'on' if cache else 'off'}: {cpu_us:,.1f} us CPU a request")  # noqa: T201
        if top:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                await one()
            profiler.disable()
            pstats.Stats(profiler).sort_stats(sort).print_stats(top)
        await dispose_engine(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--query", choices=[q.name for q in BENCH_QUERIES], default="hot")
    parser.add_argument("--no-cache", action="store_true", help="response cache off")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions")
    parser.add_argument(
        "--sort", choices=["tottime", "cumulative"], default="tottime",
        help="order of --top: own time, or time with callees",
    )  # fmt: skip
    parser.add_argument("--database-url", help="a PostgreSQL server to profile on instead")
    arguments = parser.parse_args()
    query = next(q for q in BENCH_QUERIES if q.name == arguments.query)
    asyncio.run(
        _measure(query, cache=not arguments.no_cache, requests=arguments.requests,
                 top=arguments.top, sort=arguments.sort, server_url=arguments.database_url)
    )  # fmt: skip


if __name__ == "__main__":
    main()

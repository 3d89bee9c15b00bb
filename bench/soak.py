"""Soak: minutes of mixed reads and writes at 16+ connections against one server on 127.0.0.1.

    python -m bench.soak --seconds 120 --connections 16 [--database-url postgresql://...]

Nine requests in ten read (the hot query, a list page, preview reads), one in ten edits a
benefit with the version it just read, so edits race each other: a CONFLICT is a correct
answer, not an error. Errors are transport failures, 5xx answers and unexpected GraphQL errors;
there must be none. Prints the server's memory at the start and the end of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from rich.console import Console

from bench.databases import scratch_database, seed_bench_database
from bench.queries import HOT, LIST
from bench.servers import ServerSpec, run_server

REPO = Path(__file__).resolve().parent.parent
READ_VERSION = '{ article(slug: "back-walk") { version } }'
EDIT = """mutation Edit($v: Int!, $body: String!) {
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {body: $body}) { errors { code } } }"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _worker(url: str, token: str, stop: float, outcomes: Counter[str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < stop:
            roll = random.random()
            try:
                if roll < 0.1:
                    version = await client.post(url, json={"query": READ_VERSION})
                    v = version.json()["data"]["article"]["version"]
                    body = f"Back walking therapy is deeply relaxing ({random.random():.6f})."
                    response = await client.post(
                        url, json={"query": EDIT, "variables": {"v": v, "body": body}},
                        headers=headers,
                    )  # fmt: skip
                    errors = response.json()["data"]["benefitUpdate"]["errors"]
                    kind = "edit" if not errors else errors[0]["code"].lower()
                else:
                    query = HOT if roll < 0.7 else LIST
                    response = await client.post(
                        url, content=query.body,
                        headers={"content-type": "application/json",
                                 **(headers if roll > 0.95 else {})},
                    )  # fmt: skip
                    kind = "read"
                    if "errors" in response.json():
                        kind = "error"
                if response.status_code >= 500:
                    kind = "error"
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                kind = "error"
            outcomes[kind] += 1


async def _soak(url: str, token: str, seconds: float, connections: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    stop = time.monotonic() + seconds
    await asyncio.gather(*(_worker(url, token, stop, outcomes) for _ in range(connections)))
    return outcomes


async def make_token(database_url: str) -> str:
    from cms.access import Scope
    from cms.db import create_engine, dispose_engine, session_scope
    from cms.settings import Settings
    from cms.tokens import create_token

    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    async with session_scope(engine) as session:
        _, secret = await create_token(session, name="soak", scopes=[Scope.WRITE])
    await dispose_engine(engine)
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", help="a PostgreSQL server; default: a SQLite file")
    arguments = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="cms-soak-") as work:
        workdir = Path(work)
        with scratch_database(arguments.database_url, workdir, "soak") as database_url:
            asyncio.run(seed_bench_database(database_url, REPO / "seed"))
            token = asyncio.run(make_token(database_url))
            spec = ServerSpec("ours", "cms.http.app:create_app", {"CMS_DATABASE_URL": database_url})
            with run_server(spec, cpu=0, probe_body=HOT.body, log=workdir / "server.log") as server:
                before = rss_kib(server.pid)
                outcomes = asyncio.run(
                    _soak(server.url, token, arguments.seconds, arguments.connections)
                )
                after = rss_kib(server.pid)
    total = sum(outcomes.values())
    console.print(f"{total:,} requests in {arguments.seconds:g} s at {arguments.connections} "
                  f"connections: {dict(outcomes)}")  # fmt: skip
    console.print(f"server RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB "
                  f"({(after - before) / 1024:+.1f} MiB)")  # fmt: skip
    console.print(f"errors: {outcomes['error']} (must be 0)")
    raise SystemExit(1 if outcomes["error"] else 0)


if __name__ == "__main__":
    main()

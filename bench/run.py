"""One command for the whole benchmark: `python -m bench.run [--quick]`.

Servers start and take load in alternation, round after round (the order rotates each round, so
no server always runs first on a noisy machine): each is one uvicorn worker pinned to one core
while wrk runs pinned to the other. Before any load, every server's answer is checked against the
CMS's: the ceiling's bytes must be the CMS's bytes, the floor's `data` must be the CMS's `data`,
and a peer (`--peer postgraphile`, on PostgreSQL) must serve the same content in its own shape.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console

from bench import postgraphile
from bench.catalogue import article_slug, generate_catalogue
from bench.databases import scratch_database, seed_bench_database
from bench.probe import Probe, probe_floor, probe_ours
from bench.queries import BENCH_QUERIES, HOT, SEARCH, BenchQuery, page_query
from bench.report import (
    add_ratios,
    print_report,
    print_writes_and_seed,
    summarise_rounds,
    write_report,
)
from bench.seed_files import time_cms_seed
from bench.servers import REPO, RunningServer, ServerSpec, run_server, tree_peak_rss_kib
from bench.soak import make_token
from bench.writes import measure_edits
from bench.wrk import WrkResult, run_wrk, write_script
from cms.graphql.pagination import encode_cursor
from cms.settings import Settings

PAGE_SIZE = 20
# Ours also answers search; the floor and the ceiling do not.
OURS_QUERIES = (*BENCH_QUERIES, SEARCH)
PAGINATION_TARGET = 1.5


@dataclass(frozen=True)
class Options:
    rounds: int
    duration_s: int
    warmup_s: int
    connections: int
    threads: int
    server_cpu: int
    load_cpu: int
    list_articles: int
    catalogue_articles: int
    editors: int
    seed_files: int
    database_url: str | None
    peer: str | None
    out: Path


CEILING_FACTORY = "bench.ceiling_server:create_app_from_env"
CEILING_2_WORKERS = "ceiling 2 workers"


def server_specs(database_url: str, ceiling_responses: Path) -> list[ServerSpec]:
    # One client sends every request: keyless snippet reads must not be rate-limited per IP
    # here (they are still checked and counted on every request).
    database = {"CMS_DATABASE_URL": database_url, "CMS_ANONYMOUS_RATE_LIMIT": "1000000000"}
    ceiling = {"BENCH_CEILING_RESPONSES": str(ceiling_responses)}
    return [
        ServerSpec("ceiling", CEILING_FACTORY, ceiling),
        # Pinned as `ours shipped 2 workers` is, and with its workers' sockets: wrk shares a
        # core with one of them, so this, not twice the ceiling, is what two workers can reach.
        ServerSpec(
            CEILING_2_WORKERS,
            "",
            ceiling,
            cpus="0,1",
            command=[sys.executable, "-m", "bench.serve_workers", CEILING_FACTORY, "2"],
        ),  # fmt: skip
        ServerSpec("floor", "bench.floor_server:create_app_from_env", database),
        ServerSpec("ours cached", "cms.http.app:create_app", database),
        ServerSpec(
            "ours no cache", "cms.http.app:create_app", {**database, "CMS_RESPONSE_CACHE": "false"}
        ),
        *shipped_specs(database),
    ]


# What users run: `cms serve` with its defaults (the JSON access log on, into the run's server
# log, since stderr is a file there); uvicorn's settings are cms serve's, not the rows above'.
SHIPPED = "ours shipped"
SHIPPED_2_WORKERS = "ours shipped 2 workers"
_SERVE = 'exec "$0" -m cms serve --host 127.0.0.1 --port "$PORT" "$@"'


def shipped_specs(database: dict[str, str]) -> list[ServerSpec]:
    """`cms serve` as shipped, one worker pinned like every other row, and `--workers 2` on
    both cores (which wrk, pinned to one of them, shares)."""
    env = {
        **database,
        # Shared by the workers (cms serve asks for it with --workers 2); a fixed test value.
        "CMS_ADMIN_SECRET_KEY": "bench-" + "0" * 40,
        # Set, as in production: unset, cms serve points links at its own port, and the answers
        # would differ from the other rows' (which are checked byte for byte).
        "CMS_SITE_URL": Settings().site_url,
    }
    serve = ["sh", "-c", _SERVE, sys.executable]
    return [
        ServerSpec(SHIPPED, "", env, command=serve),
        ServerSpec(SHIPPED_2_WORKERS, "", env, command=[*serve, "--workers", "2"], cpus="0,1"),
    ]


def _data(body: bytes) -> Any:
    return orjson.loads(body)["data"]


def verify_answers(
    server: RunningServer, queries: Sequence[BenchQuery], ours: dict[str, Probe]
) -> None:
    """Fail loudly before loading a server that does not answer what the CMS answers."""
    for query in queries:
        response = httpx.post(
            server.url, content=query.body, headers={"content-type": "application/json"}
        )
        expected = ours[query.name].body
        if server.spec.name == "floor":
            same = response.status_code == 200 and _data(response.content) == _data(expected)
        else:
            same = response.status_code == 200 and response.content == expected
        if not same:
            raise RuntimeError(
                f"{server.spec.name} answers {query.name} differently from ours:\n"
                f"{response.status_code} {response.text[:300]}\nexpected {expected[:300]!r}"
            )


def verify_peer_answers(server: RunningServer, ours_markdown: dict[str, Probe]) -> dict[str, int]:
    """Fail loudly, naming each difference, before loading a peer that does not serve the CMS's
    content; the size of each of its answers otherwise."""
    sizes = {}
    for name, query in postgraphile.PEER_QUERIES.items():
        response = httpx.post(
            server.url, content=query.body, headers={"content-type": "application/json"}
        )
        answer = orjson.loads(response.content) if response.status_code == 200 else {}
        if "data" not in answer or answer.get("errors"):
            raise RuntimeError(
                f"{server.spec.name} fails {name}: {response.status_code} {response.text[:500]}"
            )
        found = list(
            postgraphile.differences(
                postgraphile.normalise_ours(name, _data(ours_markdown[name].body)),
                postgraphile.normalise_peer(name, answer["data"]),
            )
        )
        if found:
            raise RuntimeError(
                f"{server.spec.name} answers {name} differently from ours:\n  "
                + "\n  ".join(found[:20])
            )
        sizes[name] = len(response.content)
    return sizes


def load(server: RunningServer, scripts: dict[str, Path], options: Options) -> dict[str, WrkResult]:
    """Warm up, then measure, each script in turn against one running server."""
    results = {}
    for name, script in scripts.items():
        for duration_s in (options.warmup_s, options.duration_s):
            result = run_wrk(
                server.url, script, duration_s=duration_s, connections=options.connections,
                threads=options.threads, cpu=options.load_cpu,
            )  # fmt: skip
        results[name] = result
    return results


def compare_servers(options: Options, workdir: Path, log: Path, console: Console) -> dict[str, Any]:
    peer = options.peer is not None and postgraphile.install(console)
    with scratch_database(options.database_url, workdir, "bench") as database_url:
        console.print(f"seeding {database_url} (seed/ + {options.list_articles} generated)")
        asyncio.run(seed_bench_database(database_url, REPO / "seed"))
        if options.list_articles:
            generate_catalogue(database_url, articles=options.list_articles)
        ours = asyncio.run(probe_ours(database_url, OURS_QUERIES))
        ours_cached = asyncio.run(probe_ours(database_url, OURS_QUERIES, response_cache=True))
        floor = asyncio.run(probe_floor(database_url, BENCH_QUERIES))
        for query in BENCH_QUERIES:
            if _data(floor[query.name].body) != _data(ours[query.name].body):
                raise RuntimeError(f"the floor's data differs from ours for {query.name}")
        ceiling_file = workdir / "ceiling-responses.json"
        ceiling_file.write_bytes(
            orjson.dumps({q.body.decode(): ours[q.name].body.decode() for q in BENCH_QUERIES})
        )
        scripts = {q.name: write_script(workdir / f"{q.name}.lua", q.body) for q in OURS_QUERIES}
        common = {q.name: scripts[q.name] for q in BENCH_QUERIES}
        specs = server_specs(database_url, ceiling_file)
        response_bytes = {
            spec.name: {q.name: len(ours[q.name].body) for q in BENCH_QUERIES} for spec in specs
        }
        ours_markdown: dict[str, Probe] = {}
        peer_scripts: dict[str, Path] = {}
        if peer:
            # Checked against ours asking for Markdown: the peer serves bodies as stored.
            markdown = [postgraphile.markdown_query(q) for q in BENCH_QUERIES]
            ours_markdown = asyncio.run(probe_ours(database_url, markdown))
            peer_scripts = {
                name: write_script(workdir / f"{postgraphile.NAME}-{name}.lua", query.body)
                for name, query in postgraphile.PEER_QUERIES.items()
            }
            specs.append(postgraphile.server_spec(database_url))
        rounds: dict[str, dict[str, list[WrkResult]]] = {s.name: {} for s in specs}
        rss: dict[str, list[int]] = {s.name: [] for s in specs}
        for round_number in range(options.rounds):
            shift = round_number % len(specs)
            for spec in specs[shift:] + specs[:shift]:
                console.print(f"round {round_number + 1}/{options.rounds}: {spec.name}")
                is_peer = spec.name == postgraphile.NAME
                probe_body = postgraphile.PEER_QUERIES["hot"].body if is_peer else HOT.body
                with run_server(
                    spec, cpu=options.server_cpu, probe_body=probe_body, log=log
                ) as server:
                    is_ours = spec.name.startswith("ours")
                    if is_peer:
                        response_bytes[spec.name] = verify_peer_answers(server, ours_markdown)
                    else:
                        verify_answers(server, OURS_QUERIES if is_ours else BENCH_QUERIES, ours)
                    server_scripts = peer_scripts if is_peer else scripts if is_ours else common
                    for name, result in load(server, server_scripts, options).items():
                        rounds[spec.name].setdefault(name, []).append(result)
                    rss[spec.name].append(tree_peak_rss_kib(server.pid))
        statements = {
            "ceiling": {},
            "floor": {name: p.sql_statements for name, p in floor.items()},
            "ours no cache": {name: p.sql_statements for name, p in ours.items()},
            "ours cached": {name: p.sql_statements for name, p in ours_cached.items()},
        }
        statements[SHIPPED] = statements[SHIPPED_2_WORKERS] = statements["ours cached"]
        return {
            spec.name: {
                "queries": {q: summarise_rounds(r) for q, r in rounds[spec.name].items()},
                "sql_statements": statements.get(spec.name, {}),
                "peak_rss_kib": max(rss[spec.name]),
                "response_bytes": response_bytes[spec.name],
            }
            for spec in specs
        }


def measure_pagination(
    options: Options, workdir: Path, log: Path, console: Console
) -> dict[str, Any]:
    """First page vs last page of a large catalogue, reached through the `after` cursor."""
    count = options.catalogue_articles
    with scratch_database(options.database_url, workdir, "bench_catalogue") as database_url:
        console.print(f"generating {count:,} articles in {database_url}")
        generate_catalogue(database_url, articles=count)
        last_after = encode_cursor(article_slug(count - PAGE_SIZE - 1))
        pages = (
            page_query("first", first=PAGE_SIZE, after=None),
            page_query("last", first=PAGE_SIZE, after=last_after),
        )
        probes = asyncio.run(probe_ours(database_url, pages))
        last_page = _data(probes["last"].body)["articles"]
        if len(last_page["nodes"]) != PAGE_SIZE or last_page["pageInfo"]["hasNextPage"]:
            raise RuntimeError(f"the last page is not the last {PAGE_SIZE} articles: {last_page}")
        # The cache is off: this measures the keyset pages themselves, not cache hits.
        spec = ServerSpec(
            "ours",
            "cms.http.app:create_app",
            {"CMS_DATABASE_URL": database_url, "CMS_RESPONSE_CACHE": "false"},
        )
        scripts = {p.name: write_script(workdir / f"page-{p.name}.lua", p.body) for p in pages}
        rounds: dict[str, list[WrkResult]] = {"first": [], "last": []}
        for round_number in range(options.rounds):
            console.print(f"pagination round {round_number + 1}/{options.rounds}")
            order = dict(reversed(scripts.items())) if round_number % 2 else scripts
            with run_server(spec, cpu=options.server_cpu, probe_body=pages[0].body, log=log) as s:
                verify_answers(s, pages, probes)
                for name, result in load(s, order, options).items():
                    rounds[name].append(result)
    first, last = summarise_rounds(rounds["first"]), summarise_rounds(rounds["last"])
    ratio = last["p50_ms"] / first["p50_ms"] if first["p50_ms"] else None
    return {
        "articles": count,
        "page_size": PAGE_SIZE,
        "sql_statements": {name: p.sql_statements for name, p in probes.items()},
        "first": first,
        "last": last,
        "last_over_first_p50": ratio,
        "target": PAGINATION_TARGET,
        "target_met": ratio is not None and ratio <= PAGINATION_TARGET,
    }


def measure_writes(options: Options, workdir: Path, log: Path, console: Console) -> dict[str, Any]:
    """Edits a second by `options.editors` concurrent editors on distinct articles, against
    ours as `cms.http.app:create_app` serves it (one worker, pinned like every row)."""
    with scratch_database(options.database_url, workdir, "bench_writes") as database_url:
        asyncio.run(seed_bench_database(database_url, REPO / "seed"))
        generate_catalogue(database_url, articles=options.editors)
        token = asyncio.run(make_token(database_url))
        spec = ServerSpec("ours", "cms.http.app:create_app", {"CMS_DATABASE_URL": database_url})
        rounds = []
        with run_server(spec, cpu=options.server_cpu, probe_body=HOT.body, log=log) as server:
            measure_edits(server.url, token, editors=options.editors, seconds=options.warmup_s)
            for round_number in range(options.rounds):
                console.print(f"writes round {round_number + 1}/{options.rounds}")
                rounds.append(
                    measure_edits(
                        server.url, token, editors=options.editors, seconds=options.duration_s
                    )
                )
            peak = tree_peak_rss_kib(server.pid)
    return {
        "editors": options.editors,
        "edits_per_second": statistics.median(r["edits_per_second"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "failures": sum(r["failures"] for r in rounds),
        "peak_rss_kib": peak,
        "rounds": rounds,
    }


def measure_seed(options: Options, workdir: Path, console: Console) -> dict[str, Any]:
    """`cms seed` of `options.seed_files` generated files into an empty database."""
    with scratch_database(options.database_url, workdir, "bench_seed") as database_url:
        console.print(f"timing cms seed of {options.seed_files:,} files into {database_url}")
        return time_cms_seed(database_url, options.seed_files, workdir / "seed-files")


def _environment(options: Options) -> dict[str, Any]:
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "wrk": wrk_version.splitlines()[0] if wrk_version else None,
        "database": "postgresql" if options.database_url else "sqlite",
        "rounds": options.rounds,
        "duration_s": options.duration_s,
        "warmup_s": options.warmup_s,
        "connections": options.connections,
        "threads": options.threads,
        "server_cpu": options.server_cpu,
        "load_cpu": options.load_cpu,
        "list_articles": options.list_articles,
    }


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 round of 2s: under a minute")
    parser.add_argument("--rounds", type=int, help="rounds per server (default 3; quick 1)")
    parser.add_argument("--duration", type=int, help="seconds of load a round (default 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument(
        "--list-articles",
        type=int,
        default=100,
        help="generated articles added to seed/ so the list page is full",
    )
    parser.add_argument(
        "--catalogue-articles",
        type=int,
        default=100_000,
        help="size of the pagination catalogue; 0 skips that measurement",
    )
    parser.add_argument(
        "--editors",
        type=int,
        default=8,
        help="concurrent editors of distinct articles in the writes measurement; 0 skips it",
    )
    parser.add_argument(
        "--seed-files",
        type=int,
        default=0,
        help="time `cms seed` of this many generated files (10000 for the target); 0 skips it",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL, e.g. "
        "postgresql://postgres@127.0.0.1:5432/postgres; scratch databases are "
        "created on it and dropped. Default: SQLite files in a temp dir.",
    )
    parser.add_argument(
        "--peer",
        choices=[postgraphile.NAME],
        help="also load PostGraphile 5 on the same database (needs --database-url and npm; "
        "installed on first use, skipped when npm cannot reach its registry)",
    )
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/<time>.json)")
    arguments = parser.parse_args(argv)  # fmt: skip
    if arguments.peer and not arguments.database_url:
        parser.error(
            f"--peer {arguments.peer} reads PostgreSQL: add --database-url postgresql://..."
        )
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Options(
        rounds=arguments.rounds or (1 if arguments.quick else 3),
        duration_s=arguments.duration or (2 if arguments.quick else 5),
        warmup_s=1,
        connections=arguments.connections,
        threads=arguments.threads,
        server_cpu=arguments.server_cpu,
        load_cpu=arguments.load_cpu,
        list_articles=arguments.list_articles,
        catalogue_articles=arguments.catalogue_articles,
        editors=arguments.editors,
        seed_files=arguments.seed_files,
        database_url=arguments.database_url,
        peer=arguments.peer,
        out=arguments.out or REPO / "bench" / "results" / f"{started}.json",
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options(argv)
    console = Console()
    log = options.out.with_suffix(".servers.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "environment": _environment(options),
    }
    with tempfile.TemporaryDirectory(prefix="cms-bench-") as directory:
        workdir = Path(directory)
        results["servers"] = compare_servers(options, workdir, log, console)
        ran_peer = postgraphile.NAME in results["servers"]
        results["environment"]["peer"] = postgraphile.versions() if ran_peer else None
        add_ratios(results, ours=("ours cached", "ours no cache", SHIPPED, SHIPPED_2_WORKERS))
        if options.catalogue_articles > PAGE_SIZE:
            results["pagination"] = measure_pagination(options, workdir, log, console)
        if options.editors:
            results["writes"] = measure_writes(options, workdir, log, console)
        if options.seed_files:
            results["seed"] = measure_seed(options, workdir, console)
    results["finished_at"] = datetime.now(UTC).isoformat()
    print_report(results, console)
    print_writes_and_seed(results, console)
    console.print(f"wrote {write_report(results, options.out)} (server logs: {log})")


if __name__ == "__main__":
    main()

"""The long fuzz run: generated queries, mutations and garbage bodies against one live server on
127.0.0.1, until a time or example budget runs out.

    python -m bench.fuzz --seconds 300 [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The CI test (`tests/http/test_fuzz.py`) runs a few hundred examples; this runs as many as the
budget allows, mutations included (with an editor's token, so the write path is fuzzed too).
A finding is any 5xx answer or any answer that shows internals (a traceback, SQL, a file path);
the first few are printed in full and the exit status is 1 when there is any.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries
from rich.console import Console

from bench.databases import scratch_database, seed_bench_database
from bench.queries import HOT
from bench.servers import ServerSpec, run_server
from cms.graphql.schema import schema_sdl

REPO = Path(__file__).resolve().parent.parent
LEAKS = ("Traceback", "sqlalchemy", "SELECT ", "/work/", ".py", "psycopg", "sqlite3")
_ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
GARBAGE = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(str.encode),
    st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions"]),
        st.one_of(st.none(), _ints, st.text(max_size=200), st.lists(_ints)),
    ).map(orjson.dumps),
)


class BudgetSpent(Exception):
    """Raised from inside a generated example once the time budget is over."""


def _finding(response: httpx.Response) -> str | None:
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    leaked = [leak for leak in LEAKS if leak in response.text]
    return f"leaks {leaked}" if leaked else None


def _run(
    name: str,
    strategy: st.SearchStrategy[Any],
    send: Callable[[Any], httpx.Response],
    *,
    deadline: float,
    examples: int,
    outcomes: Counter[str],
    findings: list[str],
) -> None:
    """Generate until `examples` or `deadline`; no shrinking: findings are collected, not raised."""

    @settings(
        max_examples=examples, deadline=None, phases=[Phase.generate], database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(strategy)
    def fuzz(example: Any) -> None:
        if time.monotonic() > deadline:
            raise BudgetSpent
        try:
            response = send(example)
        except httpx.TransportError as error:
            outcomes[f"{name}: transport error"] += 1
            findings.append(f"{name}: {error!r} for {example!r}"[:2000])
            return
        outcomes[f"{name}: {response.status_code}"] += 1
        problem = _finding(response)
        if problem is not None:
            findings.append(f"{name}: {problem} for {example!r}: {response.text}"[:2000])

    try:
        fuzz()
    except BudgetSpent:
        pass


async def _make_token(database_url: str) -> str:
    from cms.access import Scope
    from cms.db import create_engine, dispose_engine, session_scope
    from cms.settings import Settings
    from cms.tokens import create_token

    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    async with session_scope(engine) as session:
        _, secret = await create_token(
            session, name="fuzz", scopes=[Scope.WRITE, Scope.PUBLISH, Scope.READ_DRAFTS]
        )
    await dispose_engine(engine)
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="time budget (default 300)")
    parser.add_argument("--examples", type=int, default=1_000_000, help="per kind of input")
    parser.add_argument("--database-url", help="a PostgreSQL server; default: a SQLite file")
    arguments = parser.parse_args()
    console = Console()
    sdl = schema_sdl()
    outcomes: Counter[str] = Counter()
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cms-fuzz-") as work:
        workdir = Path(work)
        with scratch_database(arguments.database_url, workdir, "fuzz") as database_url:
            asyncio.run(seed_bench_database(database_url, REPO / "seed"))
            token = asyncio.run(_make_token(database_url))
            spec = ServerSpec("ours", "cms.http.app:create_app", {"CMS_DATABASE_URL": database_url})
            with (
                run_server(spec, cpu=0, probe_body=HOT.body, log=workdir / "server.log") as server,
                httpx.Client(timeout=30) as http,
            ):
                started = time.monotonic()
                # Three kinds of input share the budget equally.
                share = arguments.seconds / 3
                editor = {"Authorization": f"Bearer {token}"}
                kinds: list[tuple[str, st.SearchStrategy[Any], Callable[[Any], httpx.Response]]] = [
                    ("query", queries(sdl),
                     lambda q: http.post(server.url, json={"query": q})),
                    ("mutation", mutations(sdl),
                     lambda m: http.post(server.url, json={"query": m}, headers=editor)),
                    ("garbage", GARBAGE,
                     lambda b: http.post(server.url, content=b,
                                         headers={"content-type": "application/json"})),
                ]  # fmt: skip
                for index, (name, strategy, send) in enumerate(kinds, start=1):
                    _run(
                        name, strategy, send, deadline=started + share * index,
                        examples=arguments.examples, outcomes=outcomes, findings=findings,
                    )  # fmt: skip
                elapsed = time.monotonic() - started
    total = sum(outcomes.values())
    console.print(f"{total:,} requests in {elapsed:.0f} s:")
    for outcome, count in sorted(outcomes.items()):
        console.print(f"  {outcome}: {count:,}")
    for finding in findings[:5]:
        console.print(finding, markup=False)
    console.print(f"findings: {len(findings)} (must be 0)")
    raise SystemExit(1 if findings else 0)


if __name__ == "__main__":
    main()

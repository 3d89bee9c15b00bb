"""The results of a run: medians over rounds, ratios, a rich table, and the JSON file."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.wrk import WrkResult

__all__ = ["print_report", "print_writes_and_seed", "summarise_rounds", "write_report"]


def summarise_rounds(rounds: Sequence[WrkResult]) -> dict[str, Any]:
    """Medians of each metric over the rounds, and the rounds themselves for the record."""
    return {
        "requests_per_second": statistics.median(r.requests_per_second for r in rounds),
        "p50_ms": statistics.median(r.p50_ms for r in rounds),
        "p99_ms": statistics.median(r.p99_ms for r in rounds),
        "errors": sum(r.errors for r in rounds),
        "rounds": [vars(r) for r in rounds],
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def add_ratios(results: dict[str, Any], *, ours: tuple[str, ...] = ("ours",)) -> None:
    """ours/ceiling, ours/floor and ours/postgraphile (when it ran) of req/s, per query and
    variant of ours (1.0 = as fast)."""
    servers = results["servers"]
    ratios: dict[str, dict[str, float | None]] = {}
    for name in ours:
        for query, row in servers[name]["queries"].items():
            rate = row["requests_per_second"]
            ratios.setdefault(query, {}).update(
                {
                    f"{name}/{other}": _ratio(
                        rate, servers[other]["queries"][query]["requests_per_second"]
                    )
                    for other in ("ceiling", "floor", "postgraphile")
                    if query in servers.get(other, {}).get("queries", {})
                }
            )
    results["ratios_requests_per_second"] = ratios


def print_report(results: dict[str, Any], console: Console) -> None:
    table = Table(title="GraphQL throughput and latency (medians over rounds)")
    for heading in ("server", "query", "req/s", "p50 ms", "p99 ms", "SQL/req", "peak RSS MiB"):
        table.add_column(heading, justify="left" if heading in ("server", "query") else "right")
    for name, server in results["servers"].items():
        rss = server["peak_rss_kib"] / 1024
        for query, row in server["queries"].items():
            statements = server["sql_statements"].get(query)
            table.add_row(
                name, query, f"{row['requests_per_second']:,.0f}", f"{row['p50_ms']:.2f}",
                f"{row['p99_ms']:.2f}", "-" if statements is None else str(statements),
                f"{rss:.1f}",
            )  # fmt: skip
    console.print(table)

    # One row per variant of ours and query, one column per other server: the headings stay
    # short enough for an 80-column terminal whatever servers ran.
    ratios = Table(title="Ratios of req/s (ours / other)")
    ratios.add_column("ours")
    ratios.add_column("query")
    ratio_rows = results["ratios_requests_per_second"]
    keys = list(dict.fromkeys(key for row in ratio_rows.values() for key in row))
    variants = list(dict.fromkeys(key.split("/", 1)[0] for key in keys))
    others = list(dict.fromkeys(key.split("/", 1)[1] for key in keys))
    for other in others:
        ratios.add_column(f"/{other}", justify="right")
    for variant in variants:
        for query, row in ratio_rows.items():
            cells = [row.get(f"{variant}/{other}") for other in others]
            ratios.add_row(variant, query, *("-" if c is None else f"{c:.3g}" for c in cells))
    console.print(ratios)

    pagination = results.get("pagination")
    if pagination:
        pages = Table(
            title=f"articles(first: 20, after: ...) on {pagination['articles']:,} articles (ours)"
        )
        for heading in ("page", "req/s", "p50 ms", "p99 ms"):
            pages.add_column(heading, justify="left" if heading == "page" else "right")
        for page in ("first", "last"):
            row = pagination[page]
            pages.add_row(
                page, f"{row['requests_per_second']:,.0f}", f"{row['p50_ms']:.2f}",
                f"{row['p99_ms']:.2f}",
            )  # fmt: skip
        console.print(pages)
        verdict = "met" if pagination["target_met"] else "MISSED"
        console.print(
            f"last/first p50 = {pagination['last_over_first_p50']:.2f} "
            f"(target <= {pagination['target']}: {verdict})"
        )


def print_writes_and_seed(results: dict[str, Any], console: Console) -> None:
    writes = results.get("writes")
    if writes:
        console.print(
            f"writes: {writes['edits_per_second']:,.0f} edits/s by {writes['editors']} editors on "
            f"distinct articles, p50 {writes['p50_ms']:.1f} ms, p99 {writes['p99_ms']:.1f} ms, "
            f"{writes['failures']} failed, peak RSS {writes['peak_rss_kib'] / 1024:.1f} MiB"
        )
    seed = results.get("seed")
    if seed:
        console.print(
            f"cms seed of {seed['files']:,} files: {seed['wall_s']:.1f} s wall, "
            f"{seed['cpu_s']:.1f} s CPU ({seed['output']})"
        )
    servers = results["servers"]
    for label, one_name, two_name in (
        ("cms serve", "ours shipped", "ours shipped 2 workers"),
        ("the ceiling, pinned alike", "ceiling", "ceiling 2 workers"),
    ):
        one, two = servers.get(one_name), servers.get(two_name)
        if not (one and two):
            continue
        for query, row in two["queries"].items():
            base = one["queries"][query]["requests_per_second"]
            scaling = row["requests_per_second"] / base if base else 0.0
            console.print(f"--workers 2 / 1 worker ({label}), {query}: {scaling:.2f}")


def write_report(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    return path

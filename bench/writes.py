"""Edits per second: `editors` concurrent editors, each saving one-field edits of its own article
(`benefitUpdate` of one title, with the version it last saw) as fast as the server answers.

Each editor holds one connection and edits a distinct generated article (`catalogue.py`), so
the edits never conflict: what is measured is the write path (10 SQL statements an edit, see
`tests/graphql/test_sql_statements.py`), the commit and the change notification.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx

from bench.catalogue import article_slug

__all__ = ["EDIT", "measure_edits"]

EDIT = """mutation Edit($article: String!, $version: Int!, $title: String!) {
  benefitUpdate(article: $article, slug: "benefit-0", expectedVersion: $version,
                input: {title: $title}) { article { version } errors { code } } }"""
VERSION = "query Version($slug: String!) { article(slug: $slug) { version } }"


async def _editor(
    client: httpx.AsyncClient, url: str, slug: str, stop: float, latencies: list[float]
) -> int:
    """Edit `slug` until `stop`; the number of failed edits."""
    answer = await client.post(url, json={"query": VERSION, "variables": {"slug": slug}})
    version = answer.json()["data"]["article"]["version"]
    failures = 0
    edit = 0
    while time.monotonic() < stop:
        edit += 1
        variables = {"article": slug, "version": version, "title": f"Benefit 0, edit {edit}"}
        started = time.perf_counter()
        response = await client.post(url, json={"query": EDIT, "variables": variables})
        latencies.append(time.perf_counter() - started)
        result = response.json().get("data", {}).get("benefitUpdate") or {}
        if response.status_code != 200 or result.get("errors") or not result.get("article"):
            failures += 1
            answer = await client.post(url, json={"query": VERSION, "variables": {"slug": slug}})
            version = answer.json()["data"]["article"]["version"]
            continue
        version = result["article"]["version"]
    return failures


async def _edit_for(url: str, token: str, *, editors: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        stop = time.monotonic() + seconds
        started = time.perf_counter()
        failures = await asyncio.gather(
            *(_editor(client, url, article_slug(n), stop, latencies) for n in range(editors))
        )
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "edits_per_second": (len(latencies) - sum(failures)) / elapsed,
        "p50_ms": quantiles[49] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "edits": len(latencies),
        "failures": sum(failures),
    }


def measure_edits(url: str, token: str, *, editors: int, seconds: float) -> dict[str, Any]:
    """Load the GraphQL endpoint at `url` with `editors` concurrent editors for `seconds`."""
    return asyncio.run(_edit_for(url, token, editors=editors, seconds=seconds))

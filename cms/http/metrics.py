"""Prometheus metrics of one app: requests, latency, GraphQL operations, cache and pool use.

Each app has a registry of its own, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Metrics"]

_OPERATION_NAME_LIMIT = 64
_OPERATION_NAMES_KEPT = 200


class _Callbacks(Collector):
    """Values read when scraped: the response cache's hit ratio and the pool's use."""

    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, value in self._read().items():
            yield GaugeMetricFamily(name, name.replace("_", " "), value=value)


class Metrics:
    def __init__(self) -> None:
        self._names: set[str] = set()
        self._operation_counters: dict[tuple[str | None, int], Any] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cms_http_requests", "HTTP requests by route, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "cms_http_request_duration_seconds", "Time to answer a request, by route.",
            ["route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.operations = Counter(
            "cms_graphql_operations", "GraphQL operations by name and outcome.",
            ["operation", "status"], registry=self.registry,
        )  # fmt: skip

    def watch(self, read: Callable[[], dict[str, float]]) -> None:
        self.registry.register(_Callbacks(read))

    def operation_counter(self, name: object, status: int) -> Any:
        """The counter of an operation's outcome: names come from clients, so labels are
        bounded, in length and in number (names first seen after the first 200 count as
        "other")."""
        key = (name if name is None or isinstance(name, str) else repr(name), status)
        counter = self._operation_counters.get(key)
        if counter is None:
            label = str(name or "anonymous")[:_OPERATION_NAME_LIMIT]
            if label not in self._names:
                if len(self._names) >= _OPERATION_NAMES_KEPT:
                    label = "other"
                else:
                    self._names.add(label)
            counter = self.operations.labels(label, str(status))
            if len(self._operation_counters) < 4 * _OPERATION_NAMES_KEPT:
                self._operation_counters[key] = counter
        return counter

    async def endpoint(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")

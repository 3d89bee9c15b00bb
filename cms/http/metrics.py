"""Prometheus metrics of one app: requests, latency, GraphQL operations, cache and pool use.

Each app has a registry of its own, so several apps in one process (tests) do not collide.
Requests are tallied per kind in plain numbers and brought into the metrics in batches, and
always before the registry is read: prometheus-client's locked values cost a request ~2 us
(~6 us within a busy server, its caches cold), a third of a cache hit's own work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Metrics", "RequestTally"]

_OPERATION_NAME_LIMIT = 64
_OPERATION_NAMES_KEPT = 200
# Requests a tally holds before it brings them into the metrics; kinds of request tallied.
_BATCH = 512
_KINDS_KEPT = 1000


class RequestTally:
    """The requests of one kind (route, method, status, operation) not yet in the metrics."""

    __slots__ = ("_count", "_time", "_operation", "_durations", "_batch")

    def __init__(self, count: Any, time: Any, operation: Any | None, *, batch: int) -> None:
        self._count, self._time, self._operation = count, time, operation
        self._durations: list[float] = []
        self._batch = batch

    def add(self, seconds: float) -> None:
        self._durations.append(seconds)
        if len(self._durations) >= self._batch:
            self.fold()

    def fold(self) -> None:
        """Bring the requests tallied into the metrics."""
        durations, self._durations = self._durations, []
        if not durations:
            return
        self._count.inc(len(durations))
        if self._operation is not None:
            self._operation.inc(len(durations))
        for seconds in durations:
            self._time.observe(seconds)


class _Registry(CollectorRegistry):
    """A registry that brings every tally into the metrics before they are read."""

    def __init__(self, fold: Callable[[], None]) -> None:
        super().__init__()
        self._fold = fold

    def collect(self) -> Iterable[Metric]:
        self._fold()
        return super().collect()


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
        self._tallies: dict[tuple[str, str, int, str | None], RequestTally] = {}
        self.registry = _Registry(self._fold)
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

    def tally(self, route: str, method: str, status: int, operation: object) -> RequestTally:
        """Where to count a request of this kind (`operation`: the GraphQL operation's name,
        counted on /graphql only)."""
        named = operation if operation is None or isinstance(operation, str) else repr(operation)
        key = (route, method, status, named)
        tally = self._tallies.get(key)
        if tally is None:
            keep = len(self._tallies) < _KINDS_KEPT
            tally = RequestTally(
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route),
                self._operation_counter(operation, status) if route == "/graphql" else None,
                batch=_BATCH if keep else 1,  # one not kept is never folded later
            )
            if keep:
                self._tallies[key] = tally
        return tally

    def _fold(self) -> None:
        for tally in self._tallies.values():
            tally.fold()

    def _operation_counter(self, name: object, status: int) -> Any:
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

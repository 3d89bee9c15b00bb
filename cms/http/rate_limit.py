"""Fixed-window rate limits: at most `limit` requests per client per clock minute.

Two stores, one behaviour. In process (the default) each worker counts on its own, so with N
workers a client can get up to N times its limit. With `CMS_REDIS_URL` set the counts live in
Redis (one INCR per request, expiring with the window) and the limit holds across workers and
hosts; if Redis cannot be reached the request is let through and a warning logged, so the limiter
never takes the API down with it.

A fixed window lets a client spend its limit at the end of one minute and again at the start of
the next: the limits are about fairness between partners, not exact metering.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cms.settings import Settings

__all__ = [
    "Decision",
    "FixedWindowLimiter",
    "Limiter",
    "RedisLimiter",
    "WINDOW_SECONDS",
    "create_limiter",
]

WINDOW_SECONDS = 60
logger = logging.getLogger("cms.http")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int
    """Whole seconds until the window ends (when a refused client may try again)."""


class Limiter(Protocol):
    async def hit(self, client: str, limit: int) -> Decision:
        """Count one request of `client`; refused once the window's `limit` is spent."""
        ...

    async def close(self) -> None: ...


def _window(now: float) -> tuple[int, int]:
    """The current window's number, and whole seconds until it ends."""
    window = int(now // WINDOW_SECONDS)
    return window, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def create_limiter(settings: Settings) -> Limiter:
    if settings.redis_url is None:
        return FixedWindowLimiter()
    return RedisLimiter(settings.redis_url, prefix=settings.redis_prefix)


class FixedWindowLimiter:
    def __init__(self, clock: Callable[[], float] = time.time, max_clients: int = 100_000) -> None:
        self._clock = clock
        self._max_clients = max_clients
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, client: str, limit: int) -> Decision:
        window, retry_after = _window(self._clock())
        current, count = self._windows.get(client, (window, 0))
        if current != window:
            count = 0
        if count >= limit:
            return Decision(False, 0, retry_after)
        if len(self._windows) >= self._max_clients and client not in self._windows:
            self._forget_old(window)
        self._windows[client] = (window, count + 1)
        return Decision(True, limit - count - 1, retry_after)

    @property
    def tracked(self) -> int:
        """How many clients it holds a count for (bounded by `max_clients`)."""
        return len(self._windows)

    async def close(self) -> None:
        self._windows.clear()

    def _forget_old(self, window: int) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        if len(self._windows) >= self._max_clients:
            # Every entry is current: forget the oldest half rather than grow without bound.
            keep = list(self._windows.items())[len(self._windows) // 2 :]
            self._windows = dict(keep)


class RedisLimiter:
    """Counts in Redis under `<prefix>:rate:<client>:<window>`, so every worker shares them."""

    def __init__(self, url: str, *, prefix: str, clock: Callable[[], float] = time.time) -> None:
        try:
            from redis.asyncio import Redis
        except ImportError:  # pragma: no cover - depends on the installation
            raise RuntimeError(
                "CMS_REDIS_URL is set but the redis package is not installed: "
                "pip install 'backwalk-cms[redis]'"
            ) from None
        self._redis: Any = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = prefix
        self._clock = clock

    async def hit(self, client: str, limit: int) -> Decision:
        window, retry_after = _window(self._clock())
        key = f"{self._prefix}:rate:{client}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(key).expire(key, WINDOW_SECONDS + 1).execute()
        except Exception:  # noqa: BLE001 - any Redis failure: let the request through
            logger.warning("rate limit store unreachable; request let through", exc_info=True)
            return Decision(True, limit, retry_after)
        count = int(count)
        if count > limit:
            return Decision(False, 0, retry_after)
        return Decision(True, limit - count, retry_after)

    async def close(self) -> None:
        await self._redis.aclose()

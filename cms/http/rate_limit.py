"""Fixed-window rate limits: at most `limit` requests per client per clock minute.

In-process, so each worker process counts on its own: with N workers a client can get up to N
times its limit. A fixed window lets a client spend its limit at the end of one minute and again
at the start of the next; the limits here are about fairness between partners, not exact
metering, and the window costs one dict entry per client.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "FixedWindowLimiter", "WINDOW_SECONDS"]

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int
    """Whole seconds until the window ends (when a refused client may try again)."""


class FixedWindowLimiter:
    def __init__(self, clock: Callable[[], float] = time.time, max_clients: int = 100_000) -> None:
        self._clock = clock
        self._max_clients = max_clients
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, client: str, limit: int) -> Decision:
        """Count one request of `client`; refused (and not counted) once the window's
        `limit` is spent."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        current, count = self._windows.get(client, (window, 0))
        if current != window:
            count = 0
        if count >= limit:
            return Decision(False, 0, retry_after)
        if len(self._windows) >= self._max_clients and client not in self._windows:
            self._forget_old(window)
        self._windows[client] = (window, count + 1)
        return Decision(True, limit - count - 1, retry_after)

    def _forget_old(self, window: int) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        if len(self._windows) >= self._max_clients:
            # Every entry is current: forget the oldest half rather than grow without bound.
            keep = list(self._windows.items())[len(self._windows) // 2 :]
            self._windows = dict(keep)

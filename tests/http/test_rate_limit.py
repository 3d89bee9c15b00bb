"""The fixed-window limiter on a clock the test sets: windows, their ends, and separate clients."""

from __future__ import annotations

import pytest

from cms.http.rate_limit import Decision, FixedWindowLimiter

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_client_gets_its_limit_per_window_then_waits_for_the_next() -> None:
    clock = Clock(6_000_010.5)  # 10.5 s into a minute
    limiter = FixedWindowLimiter(clock)
    decisions = [await limiter.hit("a", 2) for _ in range(3)]
    assert decisions == [
        Decision(True, 1, 50),
        Decision(True, 0, 50),
        Decision(False, 0, 50),
    ]
    clock.now = 6_000_059.9
    assert await limiter.hit("a", 2) == Decision(False, 0, 1)
    clock.now = 6_000_060.0  # the next window
    assert await limiter.hit("a", 2) == Decision(True, 1, 60)


async def test_clients_count_separately_each_at_its_own_limit() -> None:
    limiter = FixedWindowLimiter(Clock(6_000_000.0))
    assert [(await limiter.hit("a", 1)).allowed for _ in range(2)] == [True, False]
    assert [(await limiter.hit("b", 3)).allowed for _ in range(4)] == [True, True, True, False]


async def test_the_client_table_stays_bounded() -> None:
    clock = Clock(6_000_000.0)
    limiter = FixedWindowLimiter(clock, max_clients=4)
    for n in range(4):
        await limiter.hit(f"old-{n}", 1)
    clock.now += 60
    for n in range(10):
        assert (await limiter.hit(f"new-{n}", 1)).allowed
    assert limiter.tracked <= 4

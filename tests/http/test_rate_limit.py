"""The limiter over the `limits` package: a client's limit per window, and separate clients."""

from __future__ import annotations

import pytest

from cms.http.rate_limit import WINDOW_SECONDS, Limiter

pytestmark = pytest.mark.anyio


async def test_a_client_gets_its_limit_per_window_then_waits_for_the_next() -> None:
    limiter = Limiter()
    allowed, again, refused = [await limiter.hit("a", 2) for _ in range(3)]
    assert (allowed.allowed, again.allowed, refused.allowed) == (True, True, False)
    assert refused.retry_after is not None and 1 <= refused.retry_after <= WINDOW_SECONDS
    await limiter.close()


async def test_clients_count_separately_each_at_its_own_limit() -> None:
    limiter = Limiter()
    assert [(await limiter.hit("a", 1)).allowed for _ in range(2)] == [True, False]
    assert [(await limiter.hit("b", 3)).allowed for _ in range(4)] == [True, True, True, False]
    await limiter.close()

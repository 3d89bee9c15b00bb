"""The limiter: a client's limit per window, separate clients, counted as `limits` counts."""

from __future__ import annotations

import pytest
from limits.aio.storage import MemoryStorage

from cms.http import rate_limit
from cms.http.rate_limit import WINDOW_SECONDS, Decision, Limiter

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


async def test_refused_requests_count_and_the_window_starts_at_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As `limits`' fixed window in memory: a refusal counts too, and the window a client's first
    # request opened ends WINDOW_SECONDS later, however many requests it refused.
    now = [1000.0]
    monkeypatch.setattr(rate_limit.time, "time", lambda: now[0])
    limiter = Limiter()
    assert (await limiter.hit("a", 1)).allowed
    now[0] += 20.5
    assert await limiter.hit("a", 1) == Decision(False, WINDOW_SECONDS - 20)
    now[0] += WINDOW_SECONDS - 20.5
    assert (await limiter.hit("a", 1)).allowed
    assert (await limiter.hit("a", 2)).allowed  # another limit, another window
    await limiter.close()


async def test_the_local_counts_agree_with_limits_memory_storage() -> None:
    local, counted_by_limits = Limiter(), Limiter(MemoryStorage())
    for client, limit in [("a", 2), ("b", 1), ("a", 2), ("a", 2), ("b", 1), ("a", 3)] * 2:
        ours, theirs = await local.hit(client, limit), await counted_by_limits.hit(client, limit)
        assert ours.allowed == theirs.allowed
        assert (ours.retry_after is None) == (theirs.retry_after is None)
    await local.close()
    await counted_by_limits.close()

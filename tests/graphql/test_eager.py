"""`gather_eagerly`: what `asyncio.gather` answers, in order, with every call run to its end."""

from __future__ import annotations

import asyncio

import pytest

from cms.graphql.eager import gather_eagerly

pytestmark = pytest.mark.anyio


async def test_values_come_in_order_whether_a_call_waits_or_not() -> None:
    async def at_once(value: int) -> int:
        return value

    async def later(value: int) -> int:
        await asyncio.sleep(0.001)
        await asyncio.sleep(0)
        return value

    assert await gather_eagerly([later(1), at_once(2), later(3), at_once(4)]) == [1, 2, 3, 4]


async def test_calls_may_wait_for_the_same_future() -> None:
    # As two resolvers do that load the same key of a loader.
    shared: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def reader(name: str) -> str:
        return f"{name}: {await shared}"

    async def writer() -> None:
        await asyncio.sleep(0)
        shared.set_result("loaded")

    assert await gather_eagerly([reader("a"), reader("b"), writer()]) == [
        "a: loaded",
        "b: loaded",
        None,
    ]


async def test_a_failure_is_raised_once_every_other_call_has_finished() -> None:
    finished: list[str] = []

    async def fails_at_once() -> None:
        raise ValueError("refused")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("gone")

    async def finishes(name: str) -> None:
        await asyncio.sleep(0.001)
        finished.append(name)

    with pytest.raises(ValueError, match="refused"):
        await gather_eagerly([finishes("a"), fails_at_once(), fails_later(), finishes("b")])
    assert sorted(finished) == ["a", "b"]

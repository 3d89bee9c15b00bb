"""Awaiting many coroutines together, as `asyncio.gather` does, without a task for each: most
calls of a request's resolvers finish without waiting (their loaders are primed ahead), and a task
per call then costs more than the call. What it saves is what Python 3.12's eager tasks save."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["gather_eagerly"]


async def gather_eagerly(calls: list[Coroutine[Any, Any, Any]]) -> list[Any]:
    """The values of coroutines, each first run at once up to where it waits (as a task's first
    step runs it, with no task made: the loaders primed ahead answer without waiting), then
    those waiting finished together. Every call runs to its end, even when one fails: none may
    read after the request's session is closed."""
    done: list[Any] = []
    waiting: list[tuple[int, Any]] = []
    failed: BaseException | None = None
    for index, call in enumerate(calls):
        try:
            yielded = call.send(None)
        except StopIteration as stop:
            done.append(stop.value)
            continue
        except BaseException as error:
            failed = failed or error
        else:
            waiting.append((index, _finish(call, _taken(yielded))))
        done.append(None)
    if waiting:
        rest = await asyncio.gather(*(call for _, call in waiting), return_exceptions=True)
        for (index, _), value in zip(waiting, rest, strict=True):
            if isinstance(value, BaseException):
                failed = failed or value
            else:
                done[index] = value
    if failed is not None:
        raise failed
    return done


async def _finish(call: Any, yielded: Any) -> Any:
    """The rest of a coroutine stopped at `yielded` (what it waits for), as a task runs it."""
    while True:
        if yielded is None:  # a bare yield (`asyncio.sleep(0)`): one turn of the loop
            await asyncio.sleep(0)
        else:
            try:
                await yielded
            except BaseException:
                pass  # the call reads the outcome itself when resumed
        try:
            yielded = _taken(call.send(None))
        except StopIteration as stop:
            return stop.value


def _taken(yielded: Any) -> Any:
    """Take a future a coroutine yields as a task takes it: then it may be awaited again (a
    loader's future is awaited by every call that loads the same key)."""
    if yielded is not None:
        yielded._asyncio_future_blocking = False
    return yielded

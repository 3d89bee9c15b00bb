"""What every resolver gets: one database session per request, the loaders, the caller's access."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from cms.db import AsyncSession
from cms.graphql.loaders import Loaders
from cms.settings import Settings

__all__ = ["Context", "RequestDatabase", "CloseRequestDatabase"]

P = ParamSpec("P")
R = TypeVar("R")


class RequestDatabase:
    """One session per request, opened on first use.

    DataLoader batches run as concurrent tasks, and an AsyncSession must not be used by two tasks
    at once, so every use takes a lock. The request then holds at most one pooled connection,
    however many loaders it fires: a busy server cannot exhaust the pool by fanning out.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    async def run(
        self,
        operation: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        async with self._lock:
            if self._session is None:
                self._session = AsyncSession(self._engine, expire_on_commit=False)
            return await operation(self._session, *args, **kwargs)

    async def close(self) -> None:
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None


@dataclass
class Context:
    db: RequestDatabase
    settings: Settings
    include_drafts: bool = False
    request: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db, include_drafts=self.include_drafts)


class CloseRequestDatabase(SchemaExtension):
    """Returns the request's connection to the pool as soon as the operation has executed."""

    async def on_operation(self) -> Any:
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, Context):
                await context.db.close()

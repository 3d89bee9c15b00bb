"""What every resolver gets: the request's database (`cms.db.RequestDatabase`), the loaders, the
caller's access."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from cms.access import ANONYMOUS, Principal, Scope
from cms.changes import ChangeChannel
from cms.db import RequestDatabase
from cms.errors import NotOverWebsocket
from cms.graphql.loaders import Loaders
from cms.outbox import ContentRevision
from cms.settings import Settings

if TYPE_CHECKING:
    from cms.http.policy import RequestPolicy

__all__ = [
    "REVISION_KEY",
    "CloseRequestDatabase",
    "Context",
    "Info",
    "OnlySubscriptionsOverWebsocket",
    "ReadContentRevision",
    "RequestDatabase",
]

REVISION_KEY = "cms.content_revision"

logger = logging.getLogger("cms.graphql")


@dataclass
class Context:
    db: RequestDatabase
    settings: Settings
    principal: Principal = ANONYMOUS
    request: Any = None
    # The sub-response Strawberry merges into its answer: status and headers set through it.
    response: Any = None
    # Who asks, for which partner, against which limit (cms.http.policy); None over websockets.
    policy: RequestPolicy | None = None
    content_revision: ContentRevision | None = None
    changes: ChangeChannel | None = None
    # A websocket's `connection_init` payload (Strawberry sets it).
    connection_params: dict[str, Any] | None = None
    served_snippets: list[tuple[str, str]] = field(default_factory=list)
    # Awaited by every snippet field before it reads: counts the request against its
    # rate-limit bucket unless counted already (cms.http.policy); raises `RateLimited` when over.
    snippet_limit: Callable[[], Awaitable[None]] | None = None
    # Set once the result is known: no errors and data, so the response may be cached.
    complete: bool = field(init=False, default=False)
    loaders: Loaders = field(init=False)
    _public_loaders: Loaders | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.reset_loaders()

    @property
    def include_drafts(self) -> bool:
        return self.principal.can(Scope.READ_DRAFTS)

    @property
    def public_loaders(self) -> Loaders:
        """Loaders that see published content only, whoever asks: what is syndicated (snippets)
        is read through these, so an editor's preview token never syndicates a draft."""
        if not self.include_drafts and self.principal.article is None:
            return self.loaders
        if self._public_loaders is None:
            self._public_loaders = Loaders(self.db, include_drafts=False)
        return self._public_loaders

    def reset_loaders(self) -> None:
        """Fresh loaders, with no memo: called after every write so reads see it."""
        self.loaders = Loaders(
            self.db, include_drafts=self.include_drafts, preview_article=self.principal.article
        )
        self._public_loaders = None


class ReadContentRevision(SchemaExtension):
    """For the response cache: the content revision a query is answered at, read just before it
    executes and left in the request's scope under `REVISION_KEY`. Mutations, refused
    operations and subscriptions read nothing."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.content_revision is not None
            and context.request is not None
            and execution.result is None
            and not execution.pre_execution_errors
            and execution.operation_type is OperationType.QUERY
        ):
            # An exception escaping an extension would reach the client unmasked; without the
            # revision the response is simply not cached, and execution reports the fault.
            try:
                revision = await context.content_revision.current()
            except Exception:  # noqa: BLE001
                logger.warning("content revision unreadable; response not cached", exc_info=True)
            else:
                context.request.scope[REVISION_KEY] = revision
        yield


class CloseRequestDatabase(SchemaExtension):
    """Returns the request's connection to the pool as soon as the operation has executed."""

    async def on_operation(self) -> Any:
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, Context):
                try:
                    await context.db.close()
                except Exception:  # noqa: BLE001 - never unmasked to the client; see above
                    logger.warning("closing the request's session failed", exc_info=True)


class OnlySubscriptionsOverWebsocket(SchemaExtension):
    """Queries and mutations go over HTTP, where rate limits, usage counts, the request timeout
    and caching apply; a websocket carries subscriptions only. Anything else sent over it is
    answered with one `OPERATION_NOT_OVER_WEBSOCKET` error and is not executed."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        request = getattr(execution.context, "request", None)
        scope = getattr(request, "scope", None) or {}
        if (
            scope.get("type") == "websocket"
            and execution.operation_type is not OperationType.SUBSCRIPTION
        ):
            raise NotOverWebsocket(
                "Over the websocket only subscriptions are served; "
                "send queries and mutations to /graphql over HTTP."
            )
        yield


Info: TypeAlias = strawberry.Info[Context, None]
"""What every resolver takes as `info`: typed, so mypy checks each use of `info.context`."""

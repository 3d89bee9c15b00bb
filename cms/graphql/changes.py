"""What changed, over GraphQL: the `changes` feed for incremental syncs, and the live
`contentChanged` subscription. Both show a change as the caller sees it (`ContentChange.kind_for`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import strawberry

from cms import outbox
from cms.errors import BadUserInput, TooManySubscriptions
from cms.graphql.context import Info
from cms.graphql.enums import described_enum
from cms.graphql.locales import LocaleArgument, requested_locale
from cms.graphql.types import Article

__all__ = [
    "SLOW_SUBSCRIBER_CLOSE_CODE",
    "Change",
    "ChangeFeed",
    "ChangeQuery",
    "Subscription",
]

# A subscriber whose queue overflowed is disconnected with this code; it can resume from the feed.
SLOW_SUBSCRIBER_CLOSE_CODE = 4008
DEFAULT_PAGE_SIZE = 100
# Rows a page may look through for changes the caller can see; it then ends early.
SCAN_LIMIT = 2000
_CURSOR_PREFIX = "v1:change:"

ChangeType = described_enum(
    outbox.ChangeKind,
    name="ChangeType",
    description="A change as you see it: for the public, publishing an article creates it, and "
    "unpublishing, archiving or deleting it deletes it; editors see every change.",
    values={
        outbox.ChangeKind.CREATED: "The article appeared (was created, or published).",
        outbox.ChangeKind.UPDATED: "The article, or one of its translations, changed.",
        outbox.ChangeKind.DELETED: "The article went away (was deleted, or taken offline).",
        outbox.ChangeKind.RENAMED: "The article or one of its benefits took a new slug "
        "(`rename`); the old one still leads there.",
    },
)


def encode_change_cursor(revision: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{revision}".encode()).decode().rstrip("=")


def decode_change_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        if decoded.startswith(_CURSOR_PREFIX):
            revision = int(decoded.removeprefix(_CURSOR_PREFIX))
            if 0 <= revision < 2**63:  # the revision column is a 64-bit integer
                return revision
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise BadUserInput("`since` is not a valid cursor; pass an endCursor this API returned.")


@strawberry.type(description="A slug that changed. The old slug stays an alias of the new one.")
class SlugRename:
    kind: str = strawberry.field(description="What was renamed: `article` or `benefit`.")
    old_slug: str = strawberry.field(description="The slug before, still an alias.")
    new_slug: str = strawberry.field(description="The slug now.")


@strawberry.type(description="One change to an article.")
class Change:
    type: outbox.ChangeKind = strawberry.field(description="What happened, as you see it.")
    slug: str = strawberry.field(description="The article's slug.")
    occurred_at: datetime = strawberry.field(description="When the change was made.")
    cursor: str = strawberry.field(description="Pass as `since` to resume after this change.")
    locale: str | None = strawberry.field(
        description="Set when only the article's translation into this locale changed (saved "
        "or deleted); null when the article itself changed."
    )
    rename: SlugRename | None = strawberry.field(
        default=None, description="With RENAMED: which slug changed, from what to what."
    )

    @strawberry.field(
        description="The article as it is now; null when it is deleted or you may not see it."
    )
    async def article(self, info: Info, locale: LocaleArgument = None) -> Article | None:
        requested = requested_locale(locale)
        if self.type is outbox.ChangeKind.DELETED:
            return None
        row = await info.context.loaders.article_by_slug.load(self.slug)
        (article,) = await Article.for_locale(info, [row], requested)
        return article

    @classmethod
    def of(cls, change: outbox.ContentChange, kind: outbox.ChangeKind) -> Change:
        return cls(
            type=kind,
            slug=change.slug,
            occurred_at=change.occurred_at,
            cursor=encode_change_cursor(change.revision),
            locale=change.locale,
            rename=SlugRename(
                kind=change.rename.kind,
                old_slug=change.rename.old_slug,
                new_slug=change.rename.new_slug,
            )
            if change.rename
            else None,
        )


@strawberry.type(
    description="A page of the changes feed, oldest first. Not a Relay connection: it resumes "
    "from `endCursor` with `since`, and has no edges."
)
class ChangeFeed:
    nodes: list[Change] = strawberry.field(description="The changes of this page, oldest first.")
    end_cursor: str = strawberry.field(
        description="Where to resume from next time, even when this page is empty."
    )
    has_next_page: bool = strawberry.field(
        description="Whether more changes are waiting after `endCursor`."
    )


@strawberry.type
class ChangeQuery:
    @strawberry.field(
        description="Articles created, updated and deleted since a cursor, in the order the "
        "changes were committed; deletions included. `since: null` starts at the beginning. "
        "Save `endCursor` and pass it as `since` next time to get only what changed since."
    )
    async def changes(
        self,
        info: Info,
        since: Annotated[
            str | None, strawberry.argument(description="An `endCursor` from an earlier page.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size; at most maxPageSize.")
        ] = None,
    ) -> ChangeFeed:
        context = info.context
        max_size = context.settings.max_page_size
        size = min(DEFAULT_PAGE_SIZE, max_size) if first is None else first
        if not 0 <= size <= max_size:
            raise BadUserInput(f"`first` must be between 0 and {max_size}; got {first}.")
        position = decode_change_cursor(since) if since is not None else 0
        include_drafts = context.include_drafts
        found: list[Change] = []
        scanned = 0
        has_next_page = False
        while not has_next_page:
            batch = min(size + 1, SCAN_LIMIT - scanned)
            if batch <= 0:
                has_next_page = True
                break
            events = await context.db.run(outbox.events_after, revision=position, limit=batch)
            scanned += len(events)
            for event in events:
                change = outbox.ContentChange.of_event(event)
                kind = change.kind_for(include_drafts=include_drafts)
                if kind is not None:
                    if len(found) == size:
                        has_next_page = True
                        break
                    found.append(Change.of(change, kind))
                position = change.revision
            if len(events) < batch:
                break
        return ChangeFeed(
            nodes=found, end_cursor=encode_change_cursor(position), has_next_page=has_next_page
        )


_closing: set[asyncio.Task[Any]] = set()


@strawberry.type(description="Live updates, over a websocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="Changes to articles as they are committed, on any server: publications, "
        "unpublications, updates and deletions you may see. Limit them to some articles with "
        "`slugs`. A subscriber that falls too far behind is disconnected with close code 4008."
    )
    async def content_changed(
        self,
        info: Info,
        slugs: Annotated[
            list[str] | None, strawberry.argument(description="Only these articles.")
        ] = None,
    ) -> AsyncGenerator[Change, None]:
        context = info.context
        if slugs is not None and len(slugs) > context.settings.max_page_size:
            raise BadUserInput(f"Pass at most {context.settings.max_page_size} slugs.")
        channel = context.changes
        if channel is None:
            raise BadUserInput("Live changes are not available on this server.")
        wanted = frozenset(slugs) if slugs is not None else None
        socket = context.request

        def drop() -> None:
            reason = "Too slow: changes were not read fast enough."
            task = asyncio.ensure_future(socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, reason))
            _closing.add(task)
            task.add_done_callback(_closing.discard)

        try:
            subscribed = channel.subscribe(on_drop=drop)
        except TooManySubscriptions as error:
            await socket.close(error.close_code, error.message)
            return
        with subscribed as subscription:
            try:
                while (change := await subscription.next()) is not None:
                    kind = change.kind_for(include_drafts=context.include_drafts)
                    if kind is None or (wanted is not None and change.slug not in wanted):
                        continue
                    # A change wakes every subscriber at once: they read and send it a few
                    # at a time (the slot is released when the next change is asked for).
                    async with channel.delivery_slot():
                        context.reset_loaders()
                        yield Change.of(change, kind)
                    # No connection is held between changes.
                    await context.db.close()
            finally:
                await context.db.close()

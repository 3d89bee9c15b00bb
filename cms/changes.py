"""The change channel: every committed content change, delivered to every server process.

A write announces its changes in its own transaction (`cms.outbox.record_event`). Right after
commit the writer's process hands them to each of its channels on the same database (so its next
request sees the write); other processes hear them through their channel's watch:

- PostgreSQL: `LISTEN cms_content` on a dedicated connection; `pg_notify` is delivered exactly
  at commit, never for a rollback. The connection is re-made with backoff when it drops; on
  every (re)connect the channel reads the revision and the changes it missed from the database.
  While it is down, `live_revision` is None and callers fall back to reading the database.
- SQLite (one host): a watcher checks `PRAGMA data_version` every `changes_poll_interval`
  seconds (microseconds each) and, when another connection has committed, reads the outbox
  events after the last one it saw. Caches do not wait for it: on SQLite the content revision
  is checked against `data_version` on every request.

Each channel also does the clock's work (`cms.workflow.apply_due`): scheduled pending versions
are published and articles that became public or expired are announced when their time comes,
by whichever process looks first (the writes are compare-and-set, so several processes never
announce a go-live twice). It looks every `DUE_CHECK_SECONDS`, with one cheap read only when the
content revision moved, the next due time it read has come, or `DUE_RECHECK_SECONDS` passed.

Subscribers (`subscribe`, at most `max_subscriptions`) each get a bounded queue; one that falls
`changes_queue_size` changes behind is dropped (its `on_drop` callback runs) rather than let
memory grow. A change is handed to the subscribers by one task, in batches with a turn of the
event loop between them, and each subscriber's work on it (reading, sending) waits for a
`delivery_slot`: however many subscribe, the server keeps answering while a change goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, SessionTransaction

from cms.db import Database
from cms.errors import TooManySubscriptions
from cms.models import utc_now
from cms.outbox import (
    NOTIFY_CHANNEL,
    PENDING_CHANGES_KEY,
    ContentChange,
    content_revision,
    events_after,
)
from cms.settings import Settings
from cms.workflow import apply_due, due_state

__all__ = ["LISTENER_APPLICATION_NAME", "ChangeChannel", "Subscription", "database_key"]

logger = logging.getLogger(__name__)
LISTENER_APPLICATION_NAME = "cms-changes"  # how the listener shows in pg_stat_activity
CATCH_UP_BATCH = 500
HEARTBEAT_SECONDS = 15.0
BACKOFF_FIRST, BACKOFF_CAP = 0.1, 5.0
_RECENT = 10_000
FAN_OUT_BATCH = 200  # subscribers handed a change between two turns of the event loop
DELIVERY_SLOTS = 8  # subscribers reading and sending a change at once: fewer than the pool holds
DELIVERY_SLOT_SECONDS = 1.0
DUE_CHECK_SECONDS = 1.0
DUE_RECHECK_SECONDS = 60.0

# Started channels of this process, by the database they watch.
_channels: dict[str, set[ChangeChannel]] = {}


def database_key(url: URL) -> str:
    """One name for one database, whichever driver reaches it."""
    plain = url.set(drivername=url.get_backend_name(), password=None, query={})
    if plain.get_backend_name() == "sqlite" and plain.database:
        plain = plain.set(database=os.path.abspath(plain.database))
    return plain.render_as_string(hide_password=True)


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    changes: list[ContentChange] | None = session.info.pop(PENDING_CHANGES_KEY, None)
    if not changes or session.bind is None:
        return
    for channel in list(_channels.get(database_key(session.bind.engine.url), ())):
        channel.publish(changes)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING_CHANGES_KEY, None)


class Subscription:
    """The changes for one subscriber, queued up to a bound. Past it the subscriber is dropped:
    `next` returns None and `on_drop` runs at once (it should close the subscriber's socket,
    which may be what is stuck)."""

    def __init__(self, max_queued: int, on_drop: Callable[[], None] | None = None) -> None:
        self._queue: asyncio.Queue[ContentChange | None] = asyncio.Queue(max_queued + 1)
        self._max_queued = max_queued
        self._on_drop = on_drop
        self.dropped = False

    def offer(self, change: ContentChange) -> None:
        if self.dropped:
            return
        if self._queue.qsize() < self._max_queued:
            self._queue.put_nowait(change)
            return
        self.dropped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        if self._on_drop is not None:
            self._on_drop()

    async def next(self) -> ContentChange | None:
        """The next change; None once the subscriber has been dropped."""
        return await self._queue.get()


class ChangeChannel:
    """One server process's end of the channel: started and stopped with the app."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self._database = database
        self._settings = settings
        self._key = database_key(database.engine.url)
        self._revision: int | None = None  # the highest revision seen, however it came
        self._in_order: int | None = None  # every change up to this one has been delivered
        self._live = False
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._recent_set: set[int] = set()
        self._subscriptions: set[Subscription] = set()
        self._outgoing: deque[ContentChange] = deque()
        self._fan_out_task: asyncio.Task[None] | None = None
        self._delivery_slots = asyncio.Semaphore(DELIVERY_SLOTS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._due_task: asyncio.Task[None] | None = None
        # The revision the clock's work was last looked at, when, and the next due time then.
        self._due_seen: tuple[int | None, float, datetime | None] | None = None
        self._live_changed = asyncio.Condition()

    @property
    def live(self) -> bool:
        return self._live

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def live_revision(self) -> int | None:
        """The current content revision without a query, while this channel cannot miss a
        change (PostgreSQL with its listener connected); None otherwise."""
        return self._revision if self._live else None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        _channels.setdefault(self._key, set()).add(self)
        watch = self._listen if self._database.dialect_name == "postgresql" else self._watch_file
        self._task = asyncio.create_task(watch(), name="content-changes")
        self._due_task = asyncio.create_task(self._watch_due(), name="content-due")

    async def stop(self) -> None:
        _channels.get(self._key, set()).discard(self)
        for task in (self._task, self._due_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._due_task = None
        if self._fan_out_task is not None:
            self._fan_out_task.cancel()
            await asyncio.gather(self._fan_out_task, return_exceptions=True)
            self._fan_out_task = None
        await self._set_live(False)

    async def wait_live(self, timeout: float) -> None:
        """For tests and readiness: until the listener is connected."""
        async with asyncio.timeout(timeout), self._live_changed:
            await self._live_changed.wait_for(lambda: self._live)

    def subscribe(
        self, on_drop: Callable[[], None] | None = None
    ) -> contextlib.AbstractContextManager[Subscription]:
        """A subscription for the `with` block; raises `TooManySubscriptions` at once when
        `max_subscriptions` are running."""
        limit = self._settings.max_subscriptions
        if len(self._subscriptions) >= limit:
            raise TooManySubscriptions(f"This server serves at most {limit} subscriptions.")
        return self._subscribed(Subscription(self._settings.changes_queue_size, on_drop))

    @contextlib.contextmanager
    def _subscribed(self, subscription: Subscription) -> Iterator[Subscription]:
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @contextlib.asynccontextmanager
    async def delivery_slot(self) -> AsyncIterator[None]:
        """Held by a subscriber from reading a change until it has sent it: only so many at
        once, the rest wait their turn instead of crowding the event loop. Held for at most
        `DELIVERY_SLOT_SECONDS`: a socket that does not take what it is sent keeps it no longer."""
        await self._delivery_slots.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._delivery_slots.release()

        timer = asyncio.get_running_loop().call_later(DELIVERY_SLOT_SECONDS, release)
        try:
            yield
        finally:
            timer.cancel()
            release()

    def publish(self, changes: Iterable[ContentChange]) -> None:
        """Deliver changes committed in this process, from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(changes)
        else:
            loop.call_soon_threadsafe(self._deliver, list(changes))

    def _deliver(self, changes: Iterable[ContentChange], *, in_order: bool = False) -> None:
        for change in sorted(changes, key=lambda c: c.revision):
            if in_order:
                self._in_order = max(self._in_order or 0, change.revision)
            if change.revision in self._recent_set:
                continue
            if len(self._recent) == self._recent.maxlen:
                self._recent_set.discard(self._recent[0])
            self._recent.append(change.revision)
            self._recent_set.add(change.revision)
            self._revision = max(self._revision or 0, change.revision)
            self._outgoing.append(change)
        if self._outgoing and self._fan_out_task is None:
            self._fan_out_task = asyncio.get_running_loop().create_task(
                self._fan_out(), name="content-changes-fan-out"
            )

    async def _fan_out(self) -> None:
        """Hand each change, in order, to everyone subscribed when its turn comes."""
        try:
            while self._outgoing:
                change = self._outgoing.popleft()
                subscriptions = list(self._subscriptions)
                for start in range(0, len(subscriptions), FAN_OUT_BATCH):
                    if start:
                        await asyncio.sleep(0)
                    for subscription in subscriptions[start : start + FAN_OUT_BATCH]:
                        subscription.offer(change)
        finally:
            self._fan_out_task = None

    async def _set_live(self, live: bool) -> None:
        self._live = live
        async with self._live_changed:
            self._live_changed.notify_all()

    async def _catch_up(self) -> None:
        """Read the revision, and deliver what was committed since the last change delivered in
        order (nothing on the first pass: a subscriber starts from now)."""
        async with self._database.read_session() as session:
            if self._in_order is not None:
                while True:
                    events = await events_after(
                        session, revision=self._in_order, limit=CATCH_UP_BATCH
                    )
                    self._deliver(map(ContentChange.of_event, events), in_order=True)
                    if len(events) < CATCH_UP_BATCH:
                        break
            revision = await content_revision(session)
        self._revision = max(self._revision or 0, revision)
        self._in_order = max(self._in_order or 0, revision)

    async def _listen(self) -> None:
        url = self._database.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        delay = BACKOFF_FIRST
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True, application_name=LISTENER_APPLICATION_NAME
                ) as connection:
                    await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    # Listening first, then reading: nothing committed in between is missed.
                    await self._catch_up()
                    await self._set_live(True)
                    logger.info("change listener connected")
                    delay = BACKOFF_FIRST
                    while True:
                        async for notify in connection.notifies(timeout=HEARTBEAT_SECONDS):
                            self._on_notify(notify.payload)
                        # Quiet for a while: make sure the connection is still there.
                        await connection.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure: fall back, retry
                logger.warning("change listener disconnected: %s", error)
            finally:
                await self._set_live(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_CAP)

    def _on_notify(self, payload: str) -> None:
        try:
            change = ContentChange.from_json(payload)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed change notification: %.200s", payload)
            return
        self._deliver([change], in_order=True)

    async def apply_due(self, *, force: bool = False) -> int:
        """Do the clock's work if any may be due (see the module docstring); what `_watch_due`
        runs. Returns how many articles it changed."""
        now, clock = utc_now(), time.monotonic()
        seen = self._due_seen
        if not force and seen is not None:
            revision, looked_at, next_due = seen
            unchanged = revision == self._revision and clock - looked_at < DUE_RECHECK_SECONDS
            if unchanged and (next_due is None or now < next_due):
                return 0
        revision = self._revision
        async with self._database.read_session() as session:
            due, next_due = await due_state(session, now=now)
        self._due_seen = (revision, clock, next_due)
        if not due:
            return 0
        async with self._database.write_session() as session:
            return await apply_due(session, now=now)

    async def _watch_due(self) -> None:
        while True:
            try:
                await self.apply_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a locked or missing database: try again
                logger.warning("applying due publications failed: %s", error)
            await asyncio.sleep(DUE_CHECK_SECONDS)

    async def _watch_file(self) -> None:
        seen_version: int | None = None
        while True:
            try:
                version = self._database.data_version()
                if version != seen_version:
                    seen_version = version
                    await self._catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a locked or missing file: try again
                logger.warning("change watcher failed: %s", error)
            await asyncio.sleep(self._settings.changes_poll_interval)

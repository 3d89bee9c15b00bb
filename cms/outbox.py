"""The outbox: one event per content change, written in the change's own transaction, with the
content revision bumped beside it and the change announced.

Webhook delivery and the change feed read the events after commit, so a change and its event are
never one without the other. Caches key on the content revision (`ContentState`). On PostgreSQL
the change is also sent with `pg_notify` in the same transaction, so listeners hear it exactly
when it commits and never for a rollback; every database also keeps it in the session's
`info` for `cms.changes` to publish in this process right after commit.
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import col, select

from cms.db import Database, ReadSession, WriteSession
from cms.events import EventType
from cms.models import (
    Article,
    ArticleReview,
    ArticleStatus,
    ContentState,
    OutboxEvent,
    ReviewAction,
    utc_now,
)
from cms.visibility import article_is_expiring, article_is_scheduled, is_public

__all__ = [
    "NOTIFY_CHANNEL",
    "PENDING_CHANGES_KEY",
    "ChangeKind",
    "ContentChange",
    "ContentRevision",
    "Rename",
    "content_revision",
    "event_type_for_change",
    "events_after",
    "record_change",
    "record_changes",
    "record_event",
]

NOTIFY_CHANNEL = "cms_content"
PENDING_CHANGES_KEY = "cms.pending_changes"


def event_type_for_change(was_public: bool, public: bool) -> EventType:
    """An event's type says what the change means to the public: an article that becomes
    public is published (at that moment, also when it was scheduled), one that stops being
    public is unpublished; every other change is an update."""
    if public and not was_public:
        return EventType.PUBLISHED
    if was_public and not public:
        return EventType.UNPUBLISHED
    return EventType.UPDATED


class ChangeKind(enum.Enum):
    """What a change means to someone who sees only part of the content."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    RENAMED = "renamed"


@dataclass(frozen=True)
class Rename:
    """A slug that changed: of the article (`kind` "article") or of one of its benefits."""

    kind: str
    old_slug: str
    new_slug: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "old_slug": self.old_slug, "new_slug": self.new_slug}

    @classmethod
    def of(cls, data: Any) -> Rename | None:
        if not isinstance(data, dict):
            return None
        return cls(str(data["kind"]), str(data["old_slug"]), str(data["new_slug"]))


@dataclass(frozen=True)
class ContentChange:
    """A committed content change, as the channel carries it between processes."""

    revision: int
    event: EventType
    slug: str
    version: int
    status: ArticleStatus  # after the change; for a deletion, the status it was deleted in
    occurred_at: datetime
    # Set when only the article's translation into this locale changed.
    locale: str | None = None
    # Whether the public could see the article before and after the change (None in events
    # recorded before this was kept), and whether only its pending version changed.
    was_public: bool | None = None
    public: bool | None = None
    pending: bool = False
    # Set for RENAMED: which slug changed, from what to what.
    rename: Rename | None = None

    def kind_for(self, *, include_drafts: bool) -> ChangeKind | None:
        """The change as the caller sees it; None when it is invisible to them. For the public
        an article that becomes public is created (when a scheduled publication comes due, not
        when it is scheduled) and one that stops being public (unpublished, archived, expired,
        deleted) is deleted; changes to what the public cannot see, such as drafts and pending
        versions, are invisible; a rename of what the public sees is a rename. Editors see
        every change."""
        if self.event is EventType.RENAMED:
            public = self.status is ArticleStatus.PUBLISHED if self.public is None else self.public
            return ChangeKind.RENAMED if include_drafts or public else None
        if include_drafts:
            if self.event is EventType.DELETED:
                return ChangeKind.DELETED
            created = self.version == 1 and self.locale is None
            return ChangeKind.CREATED if created else ChangeKind.UPDATED
        if self.pending:
            return None
        if self.public is not None and self.was_public is not None:
            if self.event is EventType.DELETED:
                return ChangeKind.DELETED if self.was_public else None
            if self.public:
                return ChangeKind.UPDATED if self.was_public else ChangeKind.CREATED
            return ChangeKind.DELETED if self.was_public else None
        if self.event is EventType.PUBLISHED:
            return ChangeKind.CREATED
        if self.event is EventType.UNPUBLISHED:
            return ChangeKind.DELETED
        if self.status is not ArticleStatus.PUBLISHED:
            return None
        return ChangeKind.DELETED if self.event is EventType.DELETED else ChangeKind.UPDATED

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "revision": self.revision,
                "event": self.event.value,
                "slug": self.slug,
                "version": self.version,
                "status": self.status.value,
                "occurred_at": self.occurred_at.isoformat(),
                "locale": self.locale,
                "was_public": self.was_public,
                "public": self.public,
                "pending": self.pending,
                "rename": self.rename.to_dict() if self.rename else None,
            }
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> ContentChange:
        """Raises ValueError (or KeyError/TypeError) on anything but `to_json`'s output."""
        fields: dict[str, Any] = orjson.loads(data)
        return cls(
            revision=int(fields["revision"]),
            event=EventType(fields["event"]),
            slug=str(fields["slug"]),
            version=int(fields["version"]),
            status=ArticleStatus(fields["status"]),
            occurred_at=datetime.fromisoformat(fields["occurred_at"]),
            locale=None if fields.get("locale") is None else str(fields["locale"]),
            was_public=_flag(fields.get("was_public")),
            public=_flag(fields.get("public")),
            pending=bool(fields.get("pending", False)),
            rename=Rename.of(fields.get("rename")),
        )

    @classmethod
    def of_event(cls, event: OutboxEvent) -> ContentChange:
        return cls(
            revision=event.revision,
            event=EventType(event.event_type),
            slug=event.article_slug,
            version=event.article_version,
            status=ArticleStatus(event.payload["article"]["status"]),
            occurred_at=event.created_at,
            locale=event.payload["article"].get("locale"),
            was_public=_flag(event.payload["article"].get("was_public")),
            public=_flag(event.payload["article"].get("public")),
            pending=bool(event.payload["article"].get("pending", False)),
            rename=Rename.of(event.payload.get("rename")),
        )


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True)
class _Event:
    event_type: EventType
    article: Article
    occurred_at: datetime
    locale: str | None = None
    was_public: bool | None = None
    pending: bool = False
    version: int | None = None
    rename: Rename | None = None


async def record_event(
    session: WriteSession,
    *,
    event_type: EventType,
    article: Article,
    occurred_at: datetime,
    locale: str | None = None,
    was_public: bool | None = None,
    pending: bool = False,
    version: int | None = None,
    rename: Rename | None = None,
) -> None:
    """`locale` is set when only the article's translation into that locale changed;
    `was_public` is whether the public could see the article before the change (left out: as
    it can now), `pending` that only its pending version changed, at `version`; `rename` when a
    slug changed (with `EventType.RENAMED`). Whether the public sees the article after the
    change is read from `article` at `occurred_at`."""
    event = _Event(event_type, article, occurred_at, locale, was_public, pending, version, rename)
    await _record_events(session, [event])


async def record_change(
    session: WriteSession, *, article: Article, occurred_at: datetime, was_public: bool
) -> None:
    """The event of a change of the article's live version, typed by what it means to the
    public (`event_type_for_change`)."""
    await record_changes(
        session, articles=[article], occurred_at=occurred_at, was_public=was_public
    )


async def record_changes(
    session: WriteSession, *, articles: Sequence[Article], occurred_at: datetime, was_public: bool
) -> None:
    """`record_change` for many articles at once (`cms seed`): the same events, in the order
    given, their revisions taken by one statement and their rows written by another."""
    await _record_events(
        session,
        [
            _Event(
                event_type_for_change(was_public, is_public(article, occurred_at)),
                article,
                occurred_at,
                was_public=was_public,
            )  # fmt: skip
            for article in articles
        ],
    )


async def _record_events(session: WriteSession, events: Sequence[_Event]) -> None:
    if not events:
        return
    first = await _bump_content_revision(session, len(events))
    rows: list[dict[str, Any]] = []
    changes: list[ContentChange] = []
    for revision, event in enumerate(events, start=first):
        row, change = _event_row(revision, event)
        rows.append(row)
        changes.append(change)
    table: sa.Table = OutboxEvent.__table__  # type: ignore[attr-defined]
    notify = session.get_bind().dialect.name == "postgresql"
    # On PostgreSQL the changes are queued by the server until this transaction commits, and
    # dropped if it rolls back. One event is sent by its INSERT itself, costing no statement.
    if notify and len(rows) == 1:
        message = changes[0].to_json().decode()
        await session.exec(
            sa.insert(table).values(**rows[0]).returning(sa.func.pg_notify(NOTIFY_CHANNEL, message))
        )
    else:
        await session.exec(sa.insert(table), params=rows)
    if notify and len(rows) > 1:
        await session.exec(
            sa.text(  # type: ignore[call-overload]
                "SELECT pg_notify(:channel, message) FROM unnest(CAST(:messages AS text[])) "
                "WITH ORDINALITY AS m(message, n) ORDER BY n"
            ),
            params={
                "channel": NOTIFY_CHANNEL,
                "messages": [change.to_json().decode() for change in changes],
            },
        )
    session.info.setdefault(PENDING_CHANGES_KEY, []).extend(changes)


def _event_row(revision: int, event: _Event) -> tuple[dict[str, Any], ContentChange]:
    """The outbox row of an event taking `revision`, and the change it announces."""
    article, occurred_at = event.article, event.occurred_at
    key = str(uuid.uuid4())
    public = is_public(article, occurred_at)
    version = article.version if event.version is None else event.version
    article_payload: dict[str, object] = {
        "slug": article.slug,
        "version": version,
        "status": article.status.value,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "was_public": public if event.was_public is None else event.was_public,
        "public": public,
    }
    if event.locale is not None:
        article_payload["locale"] = event.locale
    if event.pending:
        article_payload["pending"] = True
    change = ContentChange(
        revision=revision,
        event=event.event_type,
        slug=article.slug,
        version=version,
        status=article.status,
        occurred_at=occurred_at,
        locale=event.locale,
        was_public=bool(article_payload["was_public"]),
        public=public,
        pending=event.pending,
        rename=event.rename,
    )
    payload: dict[str, Any] = {
        "event": event.event_type.value,
        "idempotency_key": key,
        "occurred_at": occurred_at.isoformat(),
        "article": article_payload,
    }
    if event.rename is not None:
        payload["rename"] = event.rename.to_dict()
    row = {
        "revision": revision,
        "event_type": event.event_type.value,
        "article_slug": article.slug,
        "article_version": version,
        "idempotency_key": key,
        "created_at": occurred_at,
        "payload": payload,
    }
    return row, change


async def _bump_content_revision(session: WriteSession, count: int = 1) -> int:
    """Take `count` consecutive content revisions; returns the first."""
    bumped = await session.exec(
        sa.update(ContentState)
        .values(revision=ContentState.revision + count)
        .returning(col(ContentState.revision))
    )
    revision = bumped.scalar_one_or_none()
    if revision is None:  # a schema made without migrations starts with no row
        await session.exec(sa.insert(ContentState).values(id=1, revision=count))
        return 1
    return int(revision) - count + 1


async def events_after(session: ReadSession, *, revision: int, limit: int) -> list[OutboxEvent]:
    """The changes committed after `revision`, in commit order."""
    statement = (
        select(OutboxEvent)
        .where(col(OutboxEvent.revision) > revision)
        .order_by(col(OutboxEvent.revision))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def content_revision(session: ReadSession) -> int:
    """A number that grows with every committed content change."""
    revision = (await session.exec(select(ContentState.revision))).first()
    return int(revision or 0)


class ContentRevision:
    """The revision caches key on, for every request of a server, kept cheap.

    It moves with `content_revision`, which every write bumps. On PostgreSQL, while the server's
    change listener is connected (`live` returns a number), that is an in-memory number and costs
    no query: the writer's own process bumps it right after commit and the listener on
    notifications from every other process. Without a listener it is one index lookup per call,
    never stale. On SQLite it is read again only when `data_version` says another connection has
    committed since, and `data_version` is read once per turn of the event loop (~8 us a read,
    with WAL): the requests served in one turn all arrived before it began, so a version read
    during the turn is one they may all see (this process's own writes commit in aiosqlite's
    thread and reach the loop through a callback queued after them, so in a later turn).

    It also moves, with no write at all, when a scheduled publication, an expiry or the end of a
    medical review comes due: an article published with a future `publishedAt` becomes public
    (one with a past `unpublishAt` stops being public, and a review past its `nextReviewDue` no
    longer holds) by the clock alone, so the earliest such moment is kept (read again whenever
    the content revision moves) and passing it counts as a change. The
    number returned is `content_revision << 24` plus the times that came due since, so it only
    ever grows."""

    _QUERY = "SELECT coalesce(max(revision), 0) FROM content_state"
    _NEXT_DUE = sa.select(
        sa.select(sa.func.min(col(Article.published_at)))
        .where(article_is_scheduled(sa.bindparam("now")))
        .scalar_subquery(),
        sa.select(sa.func.min(col(Article.unpublish_at)))
        .where(article_is_expiring(sa.bindparam("now")))
        .scalar_subquery(),
        # A medical review runs out the day after its `next_review_due` (`cms.reviews`): from
        # then on no answer may still say "Medically reviewed".
        sa.select(sa.func.min(col(ArticleReview.next_review_due)))
        .where(
            col(ArticleReview.action) == ReviewAction.APPROVED,
            col(ArticleReview.next_review_due) >= sa.bindparam("today"),
        )
        .scalar_subquery(),
    )

    def __init__(self, database: Database, live: Callable[[], int | None] | None = None) -> None:
        self._database = database
        self._live = live
        self._seen: tuple[int, int] | None = None  # (data_version, revision)
        self._version_this_turn: int | None = None
        # The revision the next due time was read at, that time (epoch seconds), and how many
        # due times have passed since.
        self._due_read_at: int | None = None
        self._next_due: float | None = None
        self._came_due = 0

    async def current(self) -> int:
        version = self._data_version()
        revision = self._known_content_revision(version)
        if revision is None:
            revision = int(await self._scalar(sa.text(self._QUERY)))
            if version is not None:
                self._seen = (version, revision)
        if revision != self._due_read_at:
            self._next_due = await self._read_next_due()
            self._due_read_at, self._came_due = revision, 0
        if self._next_due is not None and time.time() >= self._next_due:
            self._came_due += 1
            self._next_due = await self._read_next_due()
        return (revision << 24) + self._came_due

    def _known_content_revision(self, version: int | None) -> int | None:
        """The content revision when it is known without a query (nearly always), else None."""
        if version is None:
            return self._live() if self._live is not None else None
        if self._seen is not None and self._seen[0] == version:
            return self._seen[1]
        return None

    def _data_version(self) -> int | None:
        if self._version_this_turn is None:
            self._version_this_turn = self._database.data_version()
            if self._version_this_turn is not None:
                # Queued now, so it runs before any step queued by a request that arrives later.
                asyncio.get_running_loop().call_soon(self._forget_version)
        return self._version_this_turn

    def _forget_version(self) -> None:
        self._version_this_turn = None

    async def _read_next_due(self) -> float | None:
        """When the next scheduled publication, expiry or end of a medical review comes due."""
        now = utc_now()
        published, expiring, review_due = await self._row(
            self._NEXT_DUE, {"now": now, "today": now.date()}
        )
        times = [_aware(value).timestamp() for value in (published, expiring) if value is not None]
        if review_due is not None:
            due = date.fromisoformat(review_due) if isinstance(review_due, str) else review_due
            times.append(datetime.combine(due + timedelta(days=1), dt_time(), UTC).timestamp())
        return min(times) if times else None

    async def _scalar(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        return (await self._row(statement, parameters))[0]

    async def _row(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        """One row, read inline on SQLite (see `cms.db`), on a pooled connection otherwise."""
        reader = self._database.inline_reader
        if reader is not None:
            with reader.connect() as connection:
                return connection.execute(statement, parameters or {}).one()
        async with self._database.engine.connect() as connection:
            return (await connection.execute(statement, parameters or {})).one()


def _aware(value: datetime | str) -> datetime:
    """A time read from a scalar subquery, which the column's type no longer converts."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

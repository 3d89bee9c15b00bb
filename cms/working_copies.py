"""Working copies: the pending version of a published article, where its edits wait until they
are published, while the article's own rows stay exactly what the public sees (the live version).

A published article (scheduled ones included) has at most one pending version, a whole validated
`ArticleDocument` in `pending_version`, with its own search documents for editors' search
(`cms.search_index.reindex_pending`). `cms.content.edit_article_document` saves edits there;
`cms.workflow` publishes it through the same diff write as any other save (so search, revisions,
events and caches follow) or discards it. The row outlives what it holds (its `document` is then
null) so that the versions it handed out are never handed out again.

Versions: the article and its pending version share one counter. `editing_version` is the version
an edit's `expectedVersion` is checked against (the pending version's while there is one) and
every save, pending or live, takes `next_version`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from cms.content_model import ItemKind
from cms.db import ReadSession, WriteSession
from cms.documents import ArticleDocument
from cms.events import EventType
from cms.gate import check_pending, check_scheduled
from cms.models import Article, PendingVersion
from cms.outbox import record_event
from cms.reviews import reviewable_hash
from cms.revisions import record_revision
from cms.search_index import reindex_pending

__all__ = [
    "FieldChange",
    "consume_pending",
    "discard_pending",
    "due_pending",
    "editing_version",
    "field_changes",
    "has_pending",
    "next_version",
    "pending_article_row",
    "pending_by_article_ids",
    "pending_item_rows",
    "pending_document",
    "pending_of",
    "save_pending",
    "schedule_pending",
]


def has_pending(pending: PendingVersion | None) -> bool:
    return pending is not None and pending.document is not None


def pending_document(pending: PendingVersion | None) -> ArticleDocument | None:
    if pending is None or pending.document is None:
        return None
    return ArticleDocument.model_validate(pending.document)


def editing_version(article: Article, pending: PendingVersion | None) -> int:
    """The version editors see and edit: the newest save of the article, pending or live (a
    live save, such as unpublishing, may come after the pending version's last save)."""
    if pending is None or not has_pending(pending):
        return article.version
    return max(article.version, pending.version)


def next_version(article: Article, pending: PendingVersion | None) -> int:
    return max(article.version, pending.version if pending is not None else 0) + 1


async def pending_of(session: ReadSession, article_id: int) -> PendingVersion | None:
    """The article's pending row, read afresh: call it once the article is locked, and no
    concurrent save of the pending version can be missed."""
    statement = select(PendingVersion).where(PendingVersion.article_id == article_id)
    statement = statement.execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def pending_by_article_ids(
    session: ReadSession, article_ids: Sequence[int]
) -> list[PendingVersion]:
    """The pending versions of the given articles (those that have one), for editors' reads."""
    statement = select(PendingVersion).where(
        col(PendingVersion.article_id).in_(article_ids), col(PendingVersion.document).is_not(None)
    )
    return list((await session.exec(statement)).all())


async def save_pending(
    session: WriteSession,
    *,
    article: Article,
    pending: PendingVersion | None,
    document: ArticleDocument,
    actor: str,
    action: str,
    now: datetime,
) -> PendingVersion:
    """Make `document` the article's pending version, as a new version. The live rows are not
    touched; the save is recorded as a pending revision and an event only editors see. A
    scheduled publication of the pending version is cancelled: what goes live is only ever what
    a publisher scheduled."""
    assert article.id is not None
    version = next_version(article, pending)
    await reindex_pending(
        session, article_id=article.id, before=pending_document(pending), after=document
    )
    if pending is None:
        pending = PendingVersion(
            article_id=article.id, version=version, base_version=article.version,
            created_by=actor,
        )  # fmt: skip
    elif pending.document is None:
        pending.base_version, pending.created_by = article.version, actor
    pending.publish_at = pending.unpublish_at = None
    pending.document = document.model_dump(mode="json")
    pending.version, pending.updated_at = version, now
    session.add(pending)
    await _record(session, article, pending, document, action, actor, now)
    check_pending(document)
    return pending


async def schedule_pending(
    session: WriteSession,
    *,
    article: Article,
    pending: PendingVersion,
    publish_at: datetime,
    unpublish_at: datetime | None,
    actor: str,
    now: datetime,
) -> None:
    """Publish the pending version at `publish_at`; the live version stays live until then."""
    document = pending_document(pending)
    assert document is not None
    pending.publish_at, pending.unpublish_at = publish_at, unpublish_at
    pending.version, pending.updated_at = next_version(article, pending), now
    session.add(pending)
    await _record(session, article, pending, document, "scheduled", actor, now)
    await check_scheduled(session, article, document, version=pending.version)


async def discard_pending(
    session: WriteSession, *, article: Article, pending: PendingVersion, actor: str, now: datetime
) -> None:
    """Drop the pending version: the article's version is the live one's again."""
    document = pending_document(pending)
    assert document is not None
    pending.document, pending.publish_at, pending.unpublish_at = None, None, None
    pending.updated_at = now
    session.add(pending)
    await reindex_pending(session, article_id=pending.article_id, before=None, after=None)
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=now, pending=True
    )
    await session.flush()


async def consume_pending(session: WriteSession, pending: PendingVersion) -> bool:
    """Take the pending version for publication: False when another transaction (another
    server process applying a due publication) took or changed it first."""
    taken = await session.exec(
        sa.update(PendingVersion)
        .where(
            col(PendingVersion.id) == pending.id,
            col(PendingVersion.version) == pending.version,
            col(PendingVersion.document).is_not(None),
        )
        .values(document=None, publish_at=None, unpublish_at=None)
    )
    if taken.rowcount != 1:
        return False
    await reindex_pending(session, article_id=pending.article_id, before=None, after=None)
    return True


async def due_pending(session: ReadSession, *, now: datetime, limit: int) -> list[int]:
    """The articles whose pending version is scheduled for `now` or earlier."""
    statement = (
        select(PendingVersion.article_id)
        .where(col(PendingVersion.publish_at) <= now, col(PendingVersion.document).is_not(None))
        .order_by(col(PendingVersion.publish_at))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def _record(
    session: WriteSession,
    article: Article,
    pending: PendingVersion,
    document: ArticleDocument,
    action: str,
    actor: str,
    now: datetime,
) -> None:
    await record_revision(
        session, article=article, document=document, action=action, actor=actor,
        version=pending.version, at=now, pending=True,
    )  # fmt: skip
    await record_event(
        session, event_type=EventType.UPDATED, article=article, occurred_at=now,
        pending=True, version=pending.version,
    )  # fmt: skip
    await session.flush()


# --- what editors read: the pending version as rows ---------------------------------------------


def pending_article_row(row: Any, document: ArticleDocument, pending: PendingVersion) -> Any:
    """The article row as its pending version would make it, for editors' reads; the live row's
    id, slug, status, publication and author stay as they are."""
    values = {column: getattr(row, column) for column in Article.model_fields}
    values.update(
        locale=document.locale, title=document.title, headline=document.headline,
        intro=document.intro, meta_title=document.meta_title,
        meta_description=document.meta_description, version=editing_version(row, pending),
        updated_at=pending.updated_at,
        conclusion_title=document.conclusion.title if document.conclusion else "",
        conclusion=document.conclusion.body if document.conclusion else "",
        content_hash=reviewable_hash(document),  # its review status is the pending text's
    )  # fmt: skip
    return SimpleNamespace(**values)


def pending_item_rows(
    kind: ItemKind, article_id: int, live: Sequence[Any], document: ArticleDocument
) -> list[Any]:
    """The rows of one kind of items as the pending version has them, in its order. An item
    the live version has keeps its id; one only the pending version has gets id 0 (it has no
    id of its own until published)."""
    ids = {row.slug: row.id for row in live}
    rows = []
    for position, item in enumerate(document.items(kind)):
        values = item.model_dump()
        draft = values.pop("draft")
        rows.append(
            SimpleNamespace(
                **values,
                id=ids.get(item.slug, 0),
                article_id=article_id,
                position=position,
                is_draft=draft,
                item_kind=kind,
            )  # fmt: skip
        )
    return rows


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions: its path (`benefits[stress-relief].body`,
    items addressed by slug) and its values as JSON, None where the field is absent. `locale`
    is set for a field of a translation (`cms.pending_translations`)."""

    path: str
    before: Any
    after: Any
    locale: str | None = None


def field_changes(before: ArticleDocument, after: ArticleDocument) -> list[FieldChange]:
    """What `after` changes of `before`, field by field, in document order. The status,
    publication time and expiry belong to the live version and are left out."""
    old, new = _flat(_comparable(before)), _flat(_comparable(after))
    paths = list(old) + [path for path in new if path not in old]
    return [
        FieldChange(path, old.get(path), new.get(path))
        for path in paths
        if old.get(path) != new.get(path)
    ]


def _comparable(document: ArticleDocument) -> dict[str, Any]:
    data = document.model_dump(mode="json")
    data.pop("status"), data.pop("published_at"), data.pop("unpublish_at")
    return data


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    """Paths to leaves; lists of items (dicts with a slug) are keyed by slug, with their order
    as its own path (`benefits.order`)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flat(inner, f"{path}.{key}" if path else key))
        return flat
    if (
        isinstance(value, list)
        and value
        and all(isinstance(i, dict) and "slug" in i for i in value)
    ):
        flat = {f"{path}.order": [item["slug"] for item in value]}
        for item in value:
            flat.update(_flat(item, f"{path}[{item['slug']}]"))
        return flat
    return {path: value}

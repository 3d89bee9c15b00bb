"""Every write the admin makes, in one place: each checks the logged-in token's scope, then calls
the domain function the matching GraphQL mutation calls (`cms.content`, `cms.items`,
`cms.workflow`, `cms.translations`), in one transaction, with the form's `expected_version`.
Refusals are the domain's own errors (`Forbidden`, `InvalidContent`, `Conflict`, ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from cms import content, reviews, workflow
from cms.access import Principal, Scope
from cms.content_model import ItemKind
from cms.db import Database
from cms.documents import (
    ArticleDocument,
    TranslationDocument,
    field_path,
    validate_document,
    validation_problems,
)
from cms.errors import ContentProblem, InvalidContent, NotFound
from cms.items import ItemEdit, add_item, change_item, remove_item, reorder_items
from cms.models import Article, ArticleStatus, ReviewAction
from cms.pending_translations import edit_article_translation, edit_delete_article_translation

__all__ = [
    "ACTIONS",
    "Change",
    "StatusAction",
    "add_article_item",
    "change_article",
    "change_article_item",
    "create_article",
    "delete_article",
    "delete_translation",
    "discard_pending",
    "remove_article_item",
    "reorder_article_items",
    "restore_revision",
    "review_step",
    "save_translation",
    "set_status",
]

Change = Callable[[ArticleDocument], ArticleDocument | dict[str, Any]]


async def change_article(
    database: Database,
    principal: Principal,
    *,
    slug: str,
    expected_version: int,
    change: Change,
    action: str | None = None,
    scope: Scope = Scope.WRITE,
) -> Article:
    """The one edit of an existing article (the GraphQL mutations' `_edit`)."""
    principal.require(scope)
    async with database.write_session() as session:
        return await content.edit_article_document(
            session, slug=slug, expected_version=expected_version, change=change,
            actor=principal.name, action=action,
        )  # fmt: skip


async def create_article(database: Database, principal: Principal, data: dict[str, Any]) -> None:
    """`articleCreate`: a new article, as a draft; refused with `Conflict` if the slug is taken."""
    principal.require(Scope.WRITE)
    document = validate_document({**data, "status": ArticleStatus.DRAFT})
    async with database.write_session() as session:
        await content.save_article_document(
            session, document, expected_version=0, actor=principal.name
        )


async def delete_article(
    database: Database, principal: Principal, *, slug: str, expected_version: int
) -> None:
    principal.require(Scope.WRITE)
    async with database.write_session() as session:
        await content.delete_article(session, slug=slug, expected_version=expected_version)


async def restore_revision(
    database: Database, principal: Principal, *, slug: str, expected_version: int, version: int
) -> None:
    principal.require(Scope.WRITE)
    async with database.write_session() as session:
        await content.restore_article_revision(
            session, slug=slug, expected_version=expected_version, version=version,
            actor=principal.name,
        )  # fmt: skip


async def add_article_item(
    database: Database, principal: Principal, edit: ItemEdit, *, slug: str,
    expected_version: int, values: dict[str, Any],
) -> Article:  # fmt: skip
    return await change_article(
        database, principal, slug=slug, expected_version=expected_version,
        change=lambda document: add_item(edit, document, values, None),
    )  # fmt: skip


async def change_article_item(
    database: Database, principal: Principal, edit: ItemEdit, *, slug: str,
    expected_version: int, item: str, values: dict[str, Any],
) -> Article:  # fmt: skip
    return await change_article(
        database, principal, slug=slug, expected_version=expected_version,
        change=lambda document: change_item(edit, document, item, values),
    )  # fmt: skip


async def remove_article_item(
    database: Database, principal: Principal, kind: ItemKind, *, slug: str,
    expected_version: int, item: str,
) -> Article:  # fmt: skip
    edit = ItemEdit(kind)
    return await change_article(
        database, principal, slug=slug, expected_version=expected_version,
        change=lambda document: remove_item(edit, document, item),
    )  # fmt: skip


async def reorder_article_items(
    database: Database, principal: Principal, kind: ItemKind, *, slug: str,
    expected_version: int, slugs: list[str],
) -> Article:  # fmt: skip
    edit = ItemEdit(kind)
    return await change_article(
        database, principal, slug=slug, expected_version=expected_version,
        change=lambda document: reorder_items(edit, document, slugs),
    )  # fmt: skip


@dataclass(frozen=True)
class StatusAction:
    """A button of the publishing panel: the revision's action, its label, the status it
    moves to."""

    name: str
    label: str
    target: ArticleStatus


ACTIONS: dict[str, StatusAction] = {
    action.name: action
    for action in (
        StatusAction("published", "Publish now", ArticleStatus.PUBLISHED),
        StatusAction("scheduled", "Schedule", ArticleStatus.PUBLISHED),
        StatusAction("unpublished", "Unpublish", ArticleStatus.UNPUBLISHED),
        StatusAction("archived", "Archive", ArticleStatus.ARCHIVED),
        StatusAction("unarchived", "Back to draft", ArticleStatus.DRAFT),
    )
}


async def set_status(
    database: Database, principal: Principal, action: StatusAction, *, slug: str,
    expected_version: int, publish_at: datetime | None = None,
) -> Article:  # fmt: skip
    """`articlePublish` (with `publishAt` to schedule; it publishes the pending changes),
    `articleUnpublish`, `articleArchive`, `articleUnarchive`: all need `content:publish`."""
    principal.require(Scope.PUBLISH)
    if action.name == "scheduled" and publish_at is None:
        message = "give the date and time (UTC) to publish at"
        raise InvalidContent([ContentProblem("", "publish_at", message)])
    async with database.write_session() as session:
        if action.target is ArticleStatus.PUBLISHED:
            return await workflow.publish_article(
                session, slug=slug, expected_version=expected_version, publish_at=publish_at,
                unpublish_at=None, actor=principal.name,
            )  # fmt: skip
        return await workflow.change_status(
            session, slug=slug, expected_version=expected_version, target=action.target,
            actor=principal.name,
        )  # fmt: skip


async def discard_pending(
    database: Database, principal: Principal, *, slug: str, expected_version: int
) -> Article:
    """`articleDiscardPendingChanges`: editors see the live version again."""
    principal.require(Scope.WRITE)
    async with database.write_session() as session:
        return await workflow.discard_pending_changes(
            session, slug=slug, expected_version=expected_version, actor=principal.name
        )


async def save_translation(database: Database, principal: Principal, data: dict[str, Any]) -> None:
    """`articleTranslationSave`'s domain call: the overlay replaces the stored one."""
    principal.require(Scope.WRITE)
    try:
        document = TranslationDocument.model_validate(data)
    except ValidationError as error:
        problems = validation_problems(error)
        problems_at = [ContentProblem("", field_path(at), msg) for at, msg in problems]
        raise InvalidContent(problems_at) from None
    async with database.write_session() as session:
        await edit_article_translation(
            session, document, expected_version=None, actor=principal.name
        )


async def delete_translation(
    database: Database, principal: Principal, *, slug: str, locale: str
) -> None:
    principal.require(Scope.WRITE)
    async with database.write_session() as session:
        await edit_delete_article_translation(
            session, slug=slug, locale=locale, actor=principal.name
        )


async def review_step(
    database: Database, principal: Principal, *, slug: str, action: ReviewAction, note: str,
    reviewer: str = "", version: int = 0, interval_days: int,
) -> None:  # fmt: skip
    """`articleSubmitForReview` (`content:write`), `articleApproveReview` and
    `articleRequestChanges` (`content:review`)."""
    principal.require(Scope.WRITE if action is ReviewAction.SUBMITTED else Scope.REVIEW)
    async with database.write_session() as session:
        article = await content.locked_article(session, slug)
        if article is None:
            raise NotFound(f"There is no article {slug!r}; it may have been deleted.")
        if action is ReviewAction.APPROVED:
            await reviews.approve_review(
                session, article=article, version=version, reviewer_slug=reviewer, note=note,
                actor=principal.name, interval_days=interval_days,
            )  # fmt: skip
        else:
            await reviews.record_review_step(
                session, article=article, action=action, note=note, actor=principal.name
            )

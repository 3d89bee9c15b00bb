"""Editing mutations, noun-first (`articleCreate`, `benefitUpdate`, ...).

Every mutation is one transaction and needs a token with the right scope (its description says
which): without a token it fails with an `UNAUTHENTICATED` error, without the scope `FORBIDDEN`,
and changes nothing. Scopes go by effect: `content:write` edits, and never changes what the public
sees (edits of a published article wait in its pending version, `cms.working_copies`);
`content:publish` changes what the public sees. Expected failures of the edit itself (invalid
input, a stale version, a missing article or item, a status change that is not allowed) come back
in the payload's `errors`, addressed to the input field.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from cms import content, models, reads, workflow
from cms.access import Scope
from cms.content_model import BENEFIT, NUTRITION_TIP, PRECAUTION, SECTION
from cms.documents import (
    OUT_OF_UTC_RANGE,
    ArticleDocument,
    representable_in_utc,
    validate_document,
)
from cms.errors import Conflict, ContentProblem, InvalidContent, InvalidTransition, NotFound
from cms.graphql.context import Info
from cms.graphql.inputs import (
    ArticleInput,
    ArticleUpdateInput,
    BenefitInput,
    BenefitUpdateInput,
    NutritionTipInput,
    NutritionTipUpdateInput,
    PrecautionInput,
    PrecautionUpdateInput,
    SectionInput,
    SectionUpdateInput,
    provided_fields,
)
from cms.graphql.types import Article
from cms.items import ItemEdit, add_item, change_item, remove_item, reorder_items
from cms.models import ArticleStatus

__all__ = ["Mutation"]


@strawberry.enum(description="Why an edit was refused.")
class ContentErrorCode(enum.Enum):
    INVALID = "invalid"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    INVALID_TRANSITION = "invalid_transition"


@strawberry.type(description="One reason an edit was refused, addressed to an input field.")
class ContentError:
    field: str | None = strawberry.field(
        description="Path of the input field at fault, e.g. `input.benefits[2].title`."
    )
    message: str
    code: ContentErrorCode
    current_version: int | None = strawberry.field(
        default=None, description="With CONFLICT: the version the article is at now."
    )


@strawberry.type(description="The article after the edit, or why the edit was refused.")
class ArticlePayload:
    article: Article | None
    errors: list[ContentError]


@strawberry.type
class ArticleDeletePayload:
    deleted_slug: str | None
    errors: list[ContentError]


Locate = Callable[[str], str | None]
VersionArgument = Annotated[
    int, strawberry.argument(description="The version your edit is based on (optimistic lock).")
]


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(word.title() for word in rest)


def _input_path(path: str) -> str | None:
    return f"input.{_camel(path)}" if path else None


def _errors_of(error: Exception, locate: Locate) -> list[ContentError]:
    if isinstance(error, InvalidContent):
        return [
            ContentError(field=locate(p.field), message=p.message, code=ContentErrorCode.INVALID)
            for p in error.problems
        ]
    if isinstance(error, Conflict):
        return [
            ContentError(
                field="expectedVersion", message=error.message, code=ContentErrorCode.CONFLICT,
                current_version=error.current_version,
            )
        ]  # fmt: skip
    if isinstance(error, InvalidTransition):
        return [
            ContentError(
                field=None, message=error.message, code=ContentErrorCode.INVALID_TRANSITION
            )
        ]
    assert isinstance(error, NotFound)
    return [ContentError(field=None, message=error.message, code=ContentErrorCode.NOT_FOUND)]


Change = Callable[[ArticleDocument], ArticleDocument | dict[str, Any]]


async def _write(
    info: Info, operation: Callable[[Any], Awaitable[Any]], locate: Locate = _input_path
) -> tuple[Any, list[ContentError]]:
    """Run a write in its own transaction; refusals come back as `ContentError`s."""
    context = info.context
    try:
        result = await context.db.write(operation)
    except (InvalidContent, Conflict, InvalidTransition, NotFound) as error:
        return None, _errors_of(error, locate)
    context.reset_loaders()
    return result, []


async def _edit(
    info: Info,
    *,
    slug: str,
    expected_version: int,
    change: Change,
    action: str | None = None,
    locate: Locate = _input_path,
) -> ArticlePayload:
    actor = info.context.principal.name

    async def operation(session: Any) -> models.Article:
        return await content.edit_article_document(
            session,
            slug=slug,
            expected_version=expected_version,
            change=change,
            actor=actor,
            action=action,
        )

    return await _payload(info, *await _write(info, operation, locate))


async def _payload(info: Info, row: models.Article | None, errors: list[Any]) -> ArticlePayload:
    """The article as the editor now sees it: its pending version while it has one."""
    if row is None:
        return ArticlePayload(article=None, errors=errors)
    (article,) = await Article.for_locale(info, [row], None)
    return ArticlePayload(article=article, errors=errors)


def _checked_time(value: datetime | None, field: str) -> None:
    if value is not None and value.utcoffset() is None:
        # A time without a zone names no moment: refuse it rather than guess one.
        message = "give a time zone, e.g. 2026-12-01T09:00:00Z"
        raise InvalidContent([ContentProblem("", field, message)])
    if value is not None and not representable_in_utc(value):
        raise InvalidContent([ContentProblem("", field, OUT_OF_UTC_RANGE)])


async def _change_status(
    info: Info, slug: str, expected_version: int, target: ArticleStatus
) -> ArticlePayload:
    actor = info.context.principal.name

    async def operation(session: Any) -> models.Article:
        return await workflow.change_status(
            session, slug=slug, expected_version=expected_version, target=target, actor=actor
        )

    return await _payload(info, *await _write(info, operation))


@strawberry.type
class ArticleMutations:
    @strawberry.mutation(description="Create an article, as a draft. Needs `content:write`.")
    async def article_create(self, info: Info, input: ArticleInput) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name
        data = {**provided_fields(input), "status": ArticleStatus.DRAFT}

        async def operation(session: Any) -> models.Article:
            document = validate_document(data)
            await content.save_article_document(session, document, expected_version=0, actor=actor)
            (row,) = await reads.articles_by_slugs(session, [document.slug], include_drafts=True)
            return row

        return await _payload(info, *await _write(info, operation))

    @strawberry.mutation(
        description="Change an article's own fields (of its pending version, when it is "
        "published). Needs `content:write`."
    )
    async def article_update(
        self, info: Info, slug: str, expected_version: VersionArgument, input: ArticleUpdateInput
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        changes = provided_fields(input)
        return await _edit(
            info,
            slug=slug,
            expected_version=expected_version,
            change=lambda document: {**document.model_dump(), **changes},
        )

    @strawberry.mutation(
        description="Delete an article and its items. Needs `content:write`, or "
        "`content:publish` for a published article (scheduled ones included)."
    )
    async def article_delete(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticleDeletePayload:
        principal = info.context.principal
        if not principal.can(Scope.PUBLISH):
            principal.require(Scope.WRITE)

        async def operation(session: Any) -> models.Article:
            article = await content.locked_article(session, slug)
            if article is not None:
                published = article.status is ArticleStatus.PUBLISHED
                principal.require(Scope.PUBLISH if published else Scope.WRITE)
            return await content.delete_article(
                session, slug=slug, expected_version=expected_version
            )

        row, errors = await _write(info, operation)
        return ArticleDeletePayload(deleted_slug=row.slug if row else None, errors=errors)

    @strawberry.mutation(
        description="Publish the article (its pending changes, when it has some) now, or at "
        "`publishAt`. A draft or a scheduled article becomes public at that time, with nothing "
        "to run at that moment. For an article the public sees now, a later `publishAt` keeps "
        "the live version public until then and publishes the pending changes at that time. "
        "Each publication sets the expiry: with `unpublishAt` the article is public until then, "
        "without it for good. Needs `content:publish`."
    )
    async def article_publish(
        self,
        info: Info,
        slug: str,
        expected_version: VersionArgument,
        publish_at: Annotated[
            datetime | None,
            strawberry.argument(description="When to publish, with a time zone; now if left out."),
        ] = None,
        unpublish_at: Annotated[
            datetime | None,
            strawberry.argument(
                description="When the article expires (leaves public reads and feeds), with a "
                "time zone; never if left out."
            ),
        ] = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            _checked_time(publish_at, "publishAt")
            _checked_time(unpublish_at, "unpublishAt")
            return await workflow.publish_article(
                session, slug=slug, expected_version=expected_version, publish_at=publish_at,
                unpublish_at=unpublish_at, actor=actor,
            )  # fmt: skip

        def locate(path: str) -> str | None:
            return path or "publishAt"

        return await _payload(info, *await _write(info, operation, locate))

    @strawberry.mutation(
        description="Throw away the article's pending changes: editors see the live version "
        "again. Changes nothing the public sees. Needs `content:write`."
    )
    async def article_discard_pending_changes(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            return await workflow.discard_pending_changes(
                session, slug=slug, expected_version=expected_version, actor=actor
            )

        return await _payload(info, *await _write(info, operation))

    @strawberry.mutation(
        description="Take a published article offline, at once. Its pending changes stay "
        "pending. Needs `content:publish`."
    )
    async def article_unpublish(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _change_status(info, slug, expected_version, ArticleStatus.UNPUBLISHED)

    @strawberry.mutation(description="Archive an article. Needs `content:publish`.")
    async def article_archive(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _change_status(info, slug, expected_version, ArticleStatus.ARCHIVED)

    @strawberry.mutation(
        description="Bring an archived article back as a draft. Needs `content:publish`."
    )
    async def article_unarchive(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _change_status(info, slug, expected_version, ArticleStatus.DRAFT)

    @strawberry.mutation(
        description="Make the article's content what it was at `version`. The restore is itself "
        "a new version (a pending one for a published article); the status stays as it is now. "
        "Needs `content:write`."
    )
    async def article_restore_revision(
        self, info: Info, slug: str, expected_version: VersionArgument, version: int
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            return await content.restore_article_revision(
                session, slug=slug, expected_version=expected_version, version=version, actor=actor
            )

        return await _payload(info, *await _write(info, operation, locate=lambda _: "version"))


async def _edit_items(
    info: Info, edit: ItemEdit, *, article: str, expected_version: int, change: Change
) -> ArticlePayload:
    """An edit of one list of the article: problems with the item edited point at `input`,
    others at the article's field (`slugs` for a reorder)."""
    prefix = edit.kind.list_name

    def locate(path: str) -> str | None:
        at = f"{prefix}[{edit.index}]" if edit.index is not None else None
        if at is not None and (path == at or path.startswith(at + ".")):
            return "input" + path.removeprefix(at)
        return _camel(path) or None

    return await _edit(
        info, slug=article, expected_version=expected_version, change=change, locate=locate
    )


ArticleArgument = Annotated[str, strawberry.argument(description="The article's slug.")]
ItemSlugArgument = Annotated[str, strawberry.argument(description="The item's slug.")]
PositionArgument = Annotated[
    int | None,
    strawberry.argument(description="Zero-based place to insert at; last when left out."),
]
SlugsArgument = Annotated[
    list[str], strawberry.argument(description="Every slug of the list, once, in the new order.")
]


@strawberry.type
class ItemMutations:
    """Four mutations per item kind, each a change of the article document (`cms.items`)."""

    @strawberry.mutation(description="Add a section, at `position` or last. Needs `content:write`.")
    async def section_add(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        input: SectionInput,
        position: PositionArgument = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(SECTION), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: add_item(edit, document, values, position),
        )

    @strawberry.mutation(description="Change the given fields of a section. Needs `content:write`.")
    async def section_update(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
        input: SectionUpdateInput,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(SECTION), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: change_item(edit, document, slug, values),
        )

    @strawberry.mutation(description="Remove a section. Needs `content:write`.")
    async def section_delete(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(SECTION)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: remove_item(edit, document, slug),
        )

    @strawberry.mutation(
        description="Put the sections in the order of `slugs`. Needs `content:write`."
    )
    async def sections_reorder(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        slugs: SlugsArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(SECTION)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: reorder_items(edit, document, slugs),
        )

    @strawberry.mutation(description="Add a benefit, at `position` or last. Needs `content:write`.")
    async def benefit_add(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        input: BenefitInput,
        position: PositionArgument = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(BENEFIT), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: add_item(edit, document, values, position),
        )

    @strawberry.mutation(description="Change the given fields of a benefit. Needs `content:write`.")
    async def benefit_update(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
        input: BenefitUpdateInput,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(BENEFIT), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: change_item(edit, document, slug, values),
        )

    @strawberry.mutation(description="Remove a benefit. Needs `content:write`.")
    async def benefit_delete(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(BENEFIT)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: remove_item(edit, document, slug),
        )

    @strawberry.mutation(
        description="Put the benefits in the order of `slugs`. Needs `content:write`."
    )
    async def benefits_reorder(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        slugs: SlugsArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(BENEFIT)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: reorder_items(edit, document, slugs),
        )

    @strawberry.mutation(
        description="Add a nutrition tip, at `position` or last. Needs `content:write`."
    )
    async def nutrition_tip_add(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        input: NutritionTipInput,
        position: PositionArgument = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(NUTRITION_TIP), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: add_item(edit, document, values, position),
        )

    @strawberry.mutation(
        description="Change the given fields of a nutrition tip. Needs `content:write`."
    )
    async def nutrition_tip_update(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
        input: NutritionTipUpdateInput,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(NUTRITION_TIP), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: change_item(edit, document, slug, values),
        )

    @strawberry.mutation(description="Remove a nutrition tip. Needs `content:write`.")
    async def nutrition_tip_delete(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(NUTRITION_TIP)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: remove_item(edit, document, slug),
        )

    @strawberry.mutation(
        description="Put the nutrition tips in the order of `slugs`. Needs `content:write`."
    )
    async def nutrition_tips_reorder(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        slugs: SlugsArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(NUTRITION_TIP)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: reorder_items(edit, document, slugs),
        )

    @strawberry.mutation(
        description="Add a precaution, at `position` or last. Needs `content:write`."
    )
    async def precaution_add(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        input: PrecautionInput,
        position: PositionArgument = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(PRECAUTION), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: add_item(edit, document, values, position),
        )

    @strawberry.mutation(
        description="Change the given fields of a precaution. Needs `content:write`."
    )
    async def precaution_update(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
        input: PrecautionUpdateInput,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(PRECAUTION), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: change_item(edit, document, slug, values),
        )

    @strawberry.mutation(description="Remove a precaution. Needs `content:write`.")
    async def precaution_delete(
        self,
        info: Info,
        article: ArticleArgument,
        slug: ItemSlugArgument,
        expected_version: VersionArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(PRECAUTION)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: remove_item(edit, document, slug),
        )

    @strawberry.mutation(
        description="Put the precautions in the order of `slugs`. Needs `content:write`."
    )
    async def precautions_reorder(
        self,
        info: Info,
        article: ArticleArgument,
        expected_version: VersionArgument,
        slugs: SlugsArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit = ItemEdit(PRECAUTION)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: reorder_items(edit, document, slugs),
        )


@strawberry.type
class Mutation(ArticleMutations, ItemMutations):
    pass

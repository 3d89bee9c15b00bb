"""Editing mutations, noun-first (`articleCreate`, `benefitUpdate`, ...).

Every mutation is one transaction and needs a token with the right scope: without a token it
fails with an `UNAUTHENTICATED` error, without the scope `FORBIDDEN`, and changes nothing. Expected
failures of the edit itself (invalid input, a stale version, a missing article or item, a status
change that is not allowed) come back in the payload's `errors`, addressed to the input field.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from cms import aliases, authors, content, models, reads
from cms.access import Scope
from cms.content_model import BENEFIT, NUTRITION_TIP, PRECAUTION, SECTION
from cms.documents import (
    OUT_OF_UTC_RANGE,
    ArticleDocument,
    representable_in_utc,
    validate_document,
)
from cms.errors import (
    Conflict,
    ContentProblem,
    InvalidContent,
    InvalidTransition,
    NotFound,
    SlugIsAlias,
)
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
from cms.models import ArticleStatus, utc_now
from cms.workflow import transition

__all__ = ["Mutation"]


@strawberry.enum(description="Why an edit was refused.")
class ContentErrorCode(enum.Enum):
    INVALID = strawberry.enum_value("invalid", description="An input field's value is invalid.")
    CONFLICT = strawberry.enum_value(
        "conflict", description="The article changed since your version."
    )
    NOT_FOUND = strawberry.enum_value("not_found", description="No such article or item.")
    INVALID_TRANSITION = strawberry.enum_value(
        "invalid_transition",
        description="The status change is not allowed from the article's status.",
    )
    SLUG_IS_ALIAS = strawberry.enum_value(
        "slug_is_alias",
        description="The slug is an old slug of another article or benefit, kept for links.",
    )


@strawberry.type(description="One reason an edit was refused, addressed to an input field.")
class ContentError:
    field: str | None = strawberry.field(
        description="Path of the input field at fault, e.g. `input.benefits[2].title`."
    )
    message: str = strawberry.field(description="What is wrong, for a person to read.")
    code: ContentErrorCode = strawberry.field(description="Why the edit was refused.")
    current_version: int | None = strawberry.field(
        default=None, description="With CONFLICT: the version the article is at now."
    )


@strawberry.type(description="The article after the edit, or why the edit was refused.")
class ArticlePayload:
    article: Article | None = strawberry.field(
        description="The article after the edit; null when it was refused."
    )
    errors: list[ContentError] = strawberry.field(
        description="Why the edit was refused; empty when it was made."
    )


@strawberry.type(description="The slug of the deleted article, or why the deletion was refused.")
class ArticleDeletePayload:
    deleted_slug: str | None = strawberry.field(
        description="The slug of the article deleted; null when the deletion was refused."
    )
    errors: list[ContentError] = strawberry.field(
        description="Why the deletion was refused; empty when it was made."
    )


Locate = Callable[[str], str | None]
VersionArgument = Annotated[
    int, strawberry.argument(description="The version your edit is based on (optimistic lock).")
]
SlugArgument = Annotated[str, strawberry.argument(description="The article's slug.")]
NEW_ITEM = strawberry.argument(description="The item to add.")
ITEM_CHANGES = strawberry.argument(description="The fields to change; those left out stay.")


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(word.title() for word in rest)


def _input_path(path: str) -> str | None:
    return f"input.{_camel(path)}" if path else None


def _errors_of(error: Exception, locate: Locate) -> list[ContentError]:
    if isinstance(error, InvalidContent):
        code = (
            ContentErrorCode.SLUG_IS_ALIAS
            if isinstance(error, SlugIsAlias)
            else ContentErrorCode.INVALID
        )
        return [
            ContentError(field=locate(p.field), message=p.message, code=code)
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
Then = Callable[[Any, models.Article], Awaitable[None]]


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
    then: Then | None = None,
) -> ArticlePayload:
    """`then`, if given, runs after the edit in its transaction (e.g. to record a rename)."""
    actor = info.context.principal.name

    async def operation(session: Any) -> models.Article:
        article = await content.edit_article_document(
            session,
            slug=slug,
            expected_version=expected_version,
            change=change,
            actor=actor,
            action=action,
        )
        if then is not None:
            await then(session, article)
        return article

    row, errors = await _write(info, operation, locate)
    return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)


def _status_change(target: ArticleStatus, publish_at: datetime | None = None) -> Change:
    def change(document: ArticleDocument) -> ArticleDocument:
        if publish_at is not None and publish_at.utcoffset() is None:
            # A time without a zone names no moment: refuse it rather than guess one.
            message = "give a time zone, e.g. 2026-12-01T09:00:00Z"
            raise InvalidContent([ContentProblem("", "publishAt", message)])
        if publish_at is not None and not representable_in_utc(publish_at):
            raise InvalidContent([ContentProblem("", "publishAt", OUT_OF_UTC_RANGE)])
        return transition(document, target, now=utc_now(), publish_at=publish_at)

    return change


@strawberry.type
class ArticleMutations:
    @strawberry.mutation(description="Create an article, as a draft. Needs `content:write`.")
    async def article_create(
        self,
        info: Info,
        input: Annotated[ArticleInput, strawberry.argument(description="The article to create.")],
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name
        data = {**provided_fields(input), "status": ArticleStatus.DRAFT}

        async def operation(session: Any) -> models.Article:
            stored = await authors.get_author(session, data["author"]["slug"])
            data["author"] = authors.author_reference(data["author"], stored)
            document = validate_document(data)
            await content.save_article_document(session, document, expected_version=0, actor=actor)
            (row,) = await reads.articles_by_slugs(session, [document.slug], include_drafts=True)
            return row

        row, errors = await _write(info, operation)
        return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Change an article's own fields. Needs `content:write`.")
    async def article_update(
        self,
        info: Info,
        slug: SlugArgument,
        expected_version: VersionArgument,
        input: Annotated[ArticleUpdateInput, ITEM_CHANGES],
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        changes = provided_fields(input)
        if changes.get("author") is not None:
            stored = await info.context.db.run(authors.get_author, changes["author"]["slug"])
            try:
                changes["author"] = authors.author_reference(changes["author"], stored)
            except InvalidContent as error:
                return ArticlePayload(article=None, errors=_errors_of(error, _input_path))
        return await _edit(
            info,
            slug=slug,
            expected_version=expected_version,
            change=lambda document: {**document.model_dump(), **changes},
        )

    @strawberry.mutation(description="Delete an article and its items. Needs `content:write`.")
    async def article_delete(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticleDeletePayload:
        info.context.principal.require(Scope.WRITE)

        async def operation(session: Any) -> models.Article:
            return await content.delete_article(
                session, slug=slug, expected_version=expected_version
            )

        row, errors = await _write(info, operation)
        return ArticleDeletePayload(deleted_slug=row.slug if row else None, errors=errors)

    @strawberry.mutation(
        description="Publish now, or at `publishAt` (visible from then on, with nothing to run "
        "at that moment). Publishing again reschedules. Needs `content:publish`."
    )
    async def article_publish(
        self,
        info: Info,
        slug: SlugArgument,
        expected_version: VersionArgument,
        publish_at: Annotated[
            datetime | None,
            strawberry.argument(
                description="When it becomes public, with a time zone; now when left out."
            ),
        ] = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _edit(
            info,
            slug=slug,
            expected_version=expected_version,
            change=_status_change(ArticleStatus.PUBLISHED, publish_at),
            action="published",
            locate=lambda _: "publishAt",
        )

    @strawberry.mutation(description="Take a published article offline. Needs `content:publish`.")
    async def article_unpublish(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _edit(
            info,
            slug=slug,
            expected_version=expected_version,
            change=_status_change(ArticleStatus.UNPUBLISHED),
            action="unpublished",
        )

    @strawberry.mutation(description="Archive an article. Needs `content:publish`.")
    async def article_archive(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _edit(
            info,
            slug=slug,
            expected_version=expected_version,
            change=_status_change(ArticleStatus.ARCHIVED),
            action="archived",
        )

    @strawberry.mutation(
        description="Bring an archived article back as a draft. Needs `content:publish`."
    )
    async def article_unarchive(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _edit(
            info,
            slug=slug,
            expected_version=expected_version,
            change=_status_change(ArticleStatus.DRAFT),
            action="unarchived",
        )

    @strawberry.mutation(
        description="Make the article's content what it was at `version`. The restore is itself "
        "a new version; the status stays as it is now. Needs `content:write`."
    )
    async def article_restore_revision(
        self,
        info: Info,
        slug: SlugArgument,
        expected_version: VersionArgument,
        version: Annotated[
            int, strawberry.argument(description="The version to restore the content of.")
        ],
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            return await content.restore_article_revision(
                session, slug=slug, expected_version=expected_version, version=version, actor=actor
            )

        row, errors = await _write(info, operation, locate=lambda _: "version")
        return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)


async def _edit_items(
    info: Info,
    edit: ItemEdit,
    *,
    article: str,
    expected_version: int,
    change: Change,
    then: Then | None = None,
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
        info,
        slug=article,
        expected_version=expected_version,
        change=change,
        locate=locate,
        then=then,
    )


ArticleArgument = SlugArgument
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
        input: Annotated[SectionInput, NEW_ITEM],
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
        input: Annotated[SectionUpdateInput, ITEM_CHANGES],
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
        input: Annotated[BenefitInput, NEW_ITEM],
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
        input: Annotated[BenefitUpdateInput, ITEM_CHANGES],
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(BENEFIT), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: change_item(edit, document, slug, values),
            then=_benefit_renamed(slug, values.get("slug")),
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
        input: Annotated[NutritionTipInput, NEW_ITEM],
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
        input: Annotated[NutritionTipUpdateInput, ITEM_CHANGES],
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
        input: Annotated[PrecautionInput, NEW_ITEM],
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
        input: Annotated[PrecautionUpdateInput, ITEM_CHANGES],
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


def _benefit_renamed(old: str, new: str | None) -> Then | None:
    """Keep a renamed benefit's old slug as an alias (`cms.aliases`)."""
    if new is None or new == old:
        return None

    async def record(session: Any, article: models.Article) -> None:
        await aliases.record_benefit_rename(session, article, old, new)

    return record


@strawberry.type
class RenameMutations:
    @strawberry.mutation(
        description="Give an article a new slug. Its old slug stays an alias: links, embeds "
        "and queries that use it keep leading to the article, and no other article may take "
        "it. The change feed and webhooks report RENAMED. Needs `content:write`."
    )
    async def article_rename(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The article's slug now.")],
        new_slug: Annotated[str, strawberry.argument(description="The slug it is to have.")],
        expected_version: VersionArgument,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            return await content.rename_article(
                session, slug=slug, new_slug=new_slug, expected_version=expected_version,
                actor=actor,
            )  # fmt: skip

        row, errors = await _write(info, operation, locate=lambda _: "newSlug")
        return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)


@strawberry.type
class Mutation(ArticleMutations, ItemMutations, RenameMutations):
    pass

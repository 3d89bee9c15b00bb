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

from cms import aliases, authors, content, models, reads, workflow
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
    ContentRuleBroken,
    InvalidContent,
    InvalidTransition,
    NotFound,
    SlugIsAlias,
)
from cms.gate import RuleOverride, gated_writes, write_rules
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
from cms.lint import Rule
from cms.models import ArticleStatus

__all__ = [
    "ArticlePayload",
    "ContentError",
    "ContentErrorCode",
    "Mutation",
    "VersionArgument",
    "run_write",
]


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
    CONTENT_RULE = strawberry.enum_value(
        "content_rule", description="An editorial rule (`cms lint`) refused the content."
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
    rule: str | None = strawberry.field(
        default=None,
        description="With CONTENT_RULE: the editorial rule that blocks making this public, "
        "e.g. `absolute-claim` (see `override`).",
    )


@strawberry.type(
    description="A finding of the editorial rules (`cms lint`) on the saved content that did "
    "not block the save."
)
class ContentWarning:
    path: str = strawberry.field(description="The field, e.g. `benefits[0].body`.")
    rule: str = strawberry.field(description="The rule, e.g. `benefit-without-source`.")
    severity: str = strawberry.field(
        description="`warning`, or `error` for a rule that would block publishing."
    )
    message: str = strawberry.field(description="What is wrong, and what to do.")


@strawberry.input(
    description="Save despite these editorial rules; the rules and the reason are recorded in "
    "the revision."
)
class RuleOverrideInput:
    rules: list[str] = strawberry.field(description="Rule names, e.g. `absolute-claim`.")
    reason: str = strawberry.field(description="Why, for the record; not empty.")


@strawberry.type(description="The article after the edit, or why the edit was refused.")
class ArticlePayload:
    article: Article | None = strawberry.field(
        description="The article after the edit; null when it was refused."
    )
    errors: list[ContentError] = strawberry.field(
        description="Why the edit was refused; empty when it was made."
    )
    warnings: list[ContentWarning] = strawberry.field(
        default_factory=list,
        description="What the editorial rules found in the saved content that did not block it.",
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
OverrideArgument = Annotated[
    RuleOverrideInput | None,
    strawberry.argument(
        description="Save even though these editorial rules object (needs a reason; recorded "
        "in the revision)."
    ),
]
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
    if isinstance(error, ContentRuleBroken):
        return [
            ContentError(
                field=p.field or None, message=p.message, code=ContentErrorCode.CONTENT_RULE,
                rule=rule,
            )
            for p, rule in zip(error.problems, error.rules, strict=True)
        ]  # fmt: skip
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


def _override(value: RuleOverrideInput | None) -> RuleOverride | None:
    if value is None:
        return None
    known = {rule.value for rule in Rule}
    unknown = [name for name in value.rules if name not in known]
    if unknown:
        message = f"unknown rules {unknown}; known: {sorted(known)}"
        raise InvalidContent([ContentProblem("", "override.rules", message)])
    return RuleOverride(frozenset(Rule(name) for name in value.rules), value.reason)


async def run_write(
    info: Info,
    operation: Callable[[Any], Awaitable[Any]],
    locate: Locate = _input_path,
    override: RuleOverrideInput | None = None,
) -> tuple[Any, list[ContentError], list[ContentWarning]]:
    """Run a write in its own transaction, through the content gate (`cms.gate`); refusals
    come back as `ContentError`s, the rules' other findings as `ContentWarning`s."""
    context = info.context
    rules = write_rules(context.settings)
    try:
        rule_override = _override(override)
    except InvalidContent as error:  # addressed to the `override` argument itself
        return None, _errors_of(error, lambda path: path), []
    try:
        with gated_writes(rules, override=rule_override, actor=context.principal.name) as findings:
            result = await context.db.write(operation)
    except (InvalidContent, Conflict, InvalidTransition, NotFound) as error:
        return None, _errors_of(error, locate), []
    context.reset_loaders()
    warnings = [
        ContentWarning(
            path=f.field, rule=f.rule.value, severity=f.severity.value, message=f.message
        )
        for f in findings
    ]
    return result, [], warnings


async def _edit(
    info: Info,
    *,
    slug: str,
    expected_version: int,
    change: Change,
    action: str | None = None,
    locate: Locate = _input_path,
    override: RuleOverrideInput | None = None,
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

    return await _payload(info, *await run_write(info, operation, locate, override))


async def _payload(
    info: Info,
    row: models.Article | None,
    errors: list[ContentError],
    warnings: list[ContentWarning] | None = None,
) -> ArticlePayload:
    """The article as the editor now sees it: its pending version while it has one."""
    if row is None:
        return ArticlePayload(article=None, errors=errors, warnings=warnings or [])
    (article,) = await Article.for_locale(info, [row], None)
    return ArticlePayload(article=article, errors=errors, warnings=warnings or [])


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

    return await _payload(info, *await run_write(info, operation))


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

        return await _payload(info, *await run_write(info, operation))

    @strawberry.mutation(
        description="Change an article's own fields (of its pending version, when it is "
        "published). Needs `content:write`."
    )
    async def article_update(
        self,
        info: Info,
        slug: SlugArgument,
        expected_version: VersionArgument,
        input: Annotated[ArticleUpdateInput, ITEM_CHANGES],
        override: OverrideArgument = None,
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
            override=override,
        )

    @strawberry.mutation(
        description="Delete an article and its items. Needs `content:write`, or "
        "`content:publish` for a published article (scheduled ones included)."
    )
    async def article_delete(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
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

        row, errors, _ = await run_write(info, operation)
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
        slug: SlugArgument,
        expected_version: VersionArgument,
        publish_at: Annotated[
            datetime | None,
            strawberry.argument(
                description="When it becomes public, with a time zone; now when left out."
            ),
        ] = None,
        unpublish_at: Annotated[
            datetime | None,
            strawberry.argument(
                description="When the article expires (leaves public reads and feeds), with a "
                "time zone; never if left out."
            ),
        ] = None,
        override: OverrideArgument = None,
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

        return await _payload(info, *await run_write(info, operation, locate, override))

    @strawberry.mutation(
        description="Throw away the article's pending changes: editors see the live version "
        "again. Changes nothing the public sees. Needs `content:write`."
    )
    async def article_discard_pending_changes(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            return await workflow.discard_pending_changes(
                session, slug=slug, expected_version=expected_version, actor=actor
            )

        return await _payload(info, *await run_write(info, operation))

    @strawberry.mutation(
        description="Take a published article offline, at once. Its pending changes stay "
        "pending. Needs `content:publish`."
    )
    async def article_unpublish(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _change_status(info, slug, expected_version, ArticleStatus.UNPUBLISHED)

    @strawberry.mutation(description="Archive an article. Needs `content:publish`.")
    async def article_archive(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _change_status(info, slug, expected_version, ArticleStatus.ARCHIVED)

    @strawberry.mutation(
        description="Bring an archived article back as a draft. Needs `content:publish`."
    )
    async def article_unarchive(
        self, info: Info, slug: SlugArgument, expected_version: VersionArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.PUBLISH)
        return await _change_status(info, slug, expected_version, ArticleStatus.DRAFT)

    @strawberry.mutation(
        description="Make the article's content what it was at `version`. The restore is itself "
        "a new version (a pending one for a published article); the status stays as it is now. "
        "Needs `content:write`."
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

        return await _payload(info, *await run_write(info, operation, locate=lambda _: "version"))


async def _edit_items(
    info: Info,
    edit: ItemEdit,
    *,
    article: str,
    expected_version: int,
    change: Change,
    override: RuleOverrideInput | None = None,
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
        override=override,
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
        override: OverrideArgument = None,
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        edit, values = ItemEdit(BENEFIT), provided_fields(input)
        return await _edit_items(
            info,
            edit,
            article=article,
            expected_version=expected_version,
            change=lambda document: change_item(edit, document, slug, values),
            override=override,
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
        "it. The change feed and webhooks report RENAMED. Needs `content:write`, and "
        "`content:publish` for a published article (its public URLs change at once)."
    )
    async def article_rename(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The article's slug now.")],
        new_slug: Annotated[str, strawberry.argument(description="The slug it is to have.")],
        expected_version: VersionArgument,
    ) -> ArticlePayload:
        principal = info.context.principal
        principal.require(Scope.WRITE)
        actor = principal.name

        async def operation(session: Any) -> models.Article:
            article = await content.locked_article(session, slug)
            if article is not None and article.status is ArticleStatus.PUBLISHED:
                principal.require(Scope.PUBLISH)
            return await content.rename_article(
                session, slug=slug, new_slug=new_slug, expected_version=expected_version,
                actor=actor,
            )  # fmt: skip

        return await _payload(info, *await run_write(info, operation, locate=lambda _: "newSlug"))


@strawberry.type
class Mutation(ArticleMutations, ItemMutations, RenameMutations):
    pass

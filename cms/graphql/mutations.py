"""Editing mutations, noun-first (`articleCreate`, `benefitUpdate`, ...).

Every mutation is one transaction and needs a token with the right scope: without a token it
fails with an `UNAUTHENTICATED` error, without the scope `FORBIDDEN`, and changes nothing. Expected
failures of the edit itself (invalid input, a stale version, a missing article or item, a status
change that is not allowed) come back in the payload's `errors`, addressed to the input field.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from cms import content, reads
from cms.access import Scope
from cms.documents import ArticleDocument, validate_document
from cms.errors import Conflict, InvalidContent, InvalidTransition, NotFound
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
from cms.models import ArticleStatus, utc_now
from cms.workflow import transition

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


async def _write(
    info: Info, scope: Scope, operation: Callable[..., Awaitable[Any]], locate: Locate = _input_path
) -> tuple[Any, list[ContentError]]:
    context = info.context
    context.principal.require(scope)
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
    change: Callable[[ArticleDocument], ArticleDocument | dict[str, Any]],
    scope: Scope = Scope.WRITE,
    action: str | None = None,
    locate: Locate = _input_path,
) -> ArticlePayload:
    actor = info.context.principal.name

    async def operation(session: Any) -> Any:
        return await content.edit_article_document(
            session, slug=slug, expected_version=expected_version, change=change,
            actor=actor, action=action,
        )  # fmt: skip

    row, errors = await _write(info, scope, operation, locate)
    return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)


def _status_change(target: ArticleStatus, publish_at: datetime | None = None) -> Any:
    def change(document: ArticleDocument) -> ArticleDocument:
        if publish_at is not None and publish_at.utcoffset() is None:
            # A time without a zone names no moment: refuse it rather than guess one.
            raise InvalidContent(
                [_problem("publishAt", "give a time zone, e.g. 2026-12-01T09:00:00Z")]
            )
        return transition(document, target, now=utc_now(), publish_at=publish_at)

    return change


@strawberry.type
class ArticleMutations:
    @strawberry.mutation(description="Create an article, as a draft. Needs `content:write`.")
    async def article_create(self, info: Info, input: ArticleInput) -> ArticlePayload:
        actor = info.context.principal.name
        data = {**provided_fields(input), "status": ArticleStatus.DRAFT}

        async def operation(session: Any) -> Any:
            document = validate_document(data)
            await content.save_article_document(session, document, expected_version=0, actor=actor)
            (row,) = await reads.articles_by_slugs(session, [document.slug], include_drafts=True)
            return row

        row, errors = await _write(info, Scope.WRITE, operation)
        return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Change an article's own fields. Needs `content:write`.")
    async def article_update(
        self, info: Info, slug: str, expected_version: VersionArgument, input: ArticleUpdateInput
    ) -> ArticlePayload:
        changes = provided_fields(input)
        return await _edit(
            info, slug=slug, expected_version=expected_version,
            change=lambda document: {**document.model_dump(), **changes},
        )  # fmt: skip

    @strawberry.mutation(description="Delete an article and its items. Needs `content:write`.")
    async def article_delete(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticleDeletePayload:
        async def operation(session: Any) -> Any:
            return await content.delete_article(
                session, slug=slug, expected_version=expected_version
            )

        row, errors = await _write(info, Scope.WRITE, operation)
        return ArticleDeletePayload(deleted_slug=row.slug if row else None, errors=errors)

    @strawberry.mutation(
        description="Publish now, or at `publishAt` (visible from then on, with nothing to run "
        "at that moment). Publishing again reschedules. Needs `content:publish`."
    )
    async def article_publish(
        self,
        info: Info,
        slug: str,
        expected_version: VersionArgument,
        publish_at: datetime | None = None,
    ) -> ArticlePayload:
        return await _edit(
            info, slug=slug, expected_version=expected_version, scope=Scope.PUBLISH,
            change=_status_change(ArticleStatus.PUBLISHED, publish_at), action="published",
            locate=lambda _: "publishAt",
        )  # fmt: skip

    @strawberry.mutation(description="Take a published article offline. Needs `content:publish`.")
    async def article_unpublish(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        return await _edit(
            info, slug=slug, expected_version=expected_version, scope=Scope.PUBLISH,
            change=_status_change(ArticleStatus.UNPUBLISHED), action="unpublished",
        )  # fmt: skip

    @strawberry.mutation(description="Archive an article. Needs `content:publish`.")
    async def article_archive(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        return await _edit(
            info, slug=slug, expected_version=expected_version, scope=Scope.PUBLISH,
            change=_status_change(ArticleStatus.ARCHIVED), action="archived",
        )  # fmt: skip

    @strawberry.mutation(
        description="Bring an archived article back as a draft. Needs `content:publish`."
    )
    async def article_unarchive(
        self, info: Info, slug: str, expected_version: VersionArgument
    ) -> ArticlePayload:
        return await _edit(
            info, slug=slug, expected_version=expected_version, scope=Scope.PUBLISH,
            change=_status_change(ArticleStatus.DRAFT), action="unarchived",
        )  # fmt: skip

    @strawberry.mutation(
        description="Make the article's content what it was at `version`. The restore is itself "
        "a new version; the status stays as it is now. Needs `content:write`."
    )
    async def article_restore_revision(
        self, info: Info, slug: str, expected_version: VersionArgument, version: int
    ) -> ArticlePayload:
        async def operation(session: Any) -> Any:
            current = await content.get_article_document(session, slug=slug)
            if current is None:
                raise NotFound(f"No article {slug!r}.")
            (row,) = await reads.articles_by_slugs(session, [slug], include_drafts=True)
            from cms.revisions import get_revision, snapshot_of

            assert row.id is not None
            old = snapshot_of(await get_revision(session, article_id=row.id, version=version))
            restored = old.model_copy(
                update={"status": current.status, "published_at": current.published_at}
            )
            return await content.edit_article_document(
                session, slug=slug, expected_version=expected_version,
                change=lambda _: restored, actor=info.context.principal.name, action="restored",
            )  # fmt: skip

        row, errors = await _write(info, Scope.WRITE, operation, locate=lambda _: "version")
        return ArticlePayload(article=Article.from_row(row) if row else None, errors=errors)


@dataclass(frozen=True)
class _ItemKind:
    """One kind of article item and the names its mutations take."""

    list_name: str
    singular: str
    plural: str
    input: type
    update_input: type


ITEM_KINDS = (
    _ItemKind("sections", "section", "sections", SectionInput, SectionUpdateInput),
    _ItemKind("benefits", "benefit", "benefits", BenefitInput, BenefitUpdateInput),
    _ItemKind(
        "nutrition_tips",
        "nutrition_tip",
        "nutrition_tips",
        NutritionTipInput,
        NutritionTipUpdateInput,
    ),
    _ItemKind("precautions", "precaution", "precautions", PrecautionInput, PrecautionUpdateInput),
)


def _item_index(items: list[dict[str, Any]], slug: str, label: str) -> int:
    for index, item in enumerate(items):
        if item["slug"] == slug:
            return index
    raise NotFound(f"The article has no {label} {slug!r}.")


def _item_locator(list_name: str, index: int | None) -> Locate:
    """Problems with the item being edited point at `input`; others at the article field."""
    prefix = f"{list_name}[{index}]" if index is not None else None

    def locate(path: str) -> str | None:
        if prefix is not None and (path == prefix or path.startswith(prefix + ".")):
            return "input" + path.removeprefix(prefix)
        return _camel(path) or None

    return locate


def _item_mutations(kind: _ItemKind) -> dict[str, Any]:
    label = kind.singular.replace("_", " ")

    async def add(
        self: Any, info: Info, article: str, expected_version: int, input: Any,
        position: int | None = None,
    ) -> ArticlePayload:  # fmt: skip
        def change(document: ArticleDocument) -> dict[str, Any]:
            data = document.model_dump()
            items = data[kind.list_name]
            at = len(items) if position is None else max(0, min(position, len(items)))
            items.insert(at, provided_fields(input))
            change.index = at  # type: ignore[attr-defined]
            return data

        return await _edit(
            info, slug=article, expected_version=expected_version, change=change,
            locate=lambda path: _item_locator(kind.list_name, getattr(change, "index", None))(path),
        )  # fmt: skip

    async def update(
        self: Any, info: Info, article: str, slug: str, expected_version: int, input: Any
    ) -> ArticlePayload:
        def change(document: ArticleDocument) -> dict[str, Any]:
            data = document.model_dump()
            items = data[kind.list_name]
            index = _item_index(items, slug, label)
            items[index] = {**items[index], **provided_fields(input)}
            change.index = index  # type: ignore[attr-defined]
            return data

        return await _edit(
            info, slug=article, expected_version=expected_version, change=change,
            locate=lambda path: _item_locator(kind.list_name, getattr(change, "index", None))(path),
        )  # fmt: skip

    async def delete(
        self: Any, info: Info, article: str, slug: str, expected_version: int
    ) -> ArticlePayload:
        def change(document: ArticleDocument) -> dict[str, Any]:
            data = document.model_dump()
            del data[kind.list_name][_item_index(data[kind.list_name], slug, label)]
            return data

        return await _edit(info, slug=article, expected_version=expected_version, change=change)

    async def reorder(
        self: Any, info: Info, article: str, expected_version: int, slugs: list[str]
    ) -> ArticlePayload:
        def change(document: ArticleDocument) -> dict[str, Any]:
            data = document.model_dump()
            items = data[kind.list_name]
            if sorted(slugs) != sorted(item["slug"] for item in items):
                raise InvalidContent([_problem("slugs", f"list every {label} exactly once")])
            by_slug = {item["slug"]: item for item in items}
            data[kind.list_name] = [by_slug[s] for s in slugs]
            return data

        return await _edit(
            info, slug=article, expected_version=expected_version, change=change,
            locate=lambda path: path,
        )  # fmt: skip

    add.__annotations__ = {**add.__annotations__, "input": kind.input, "return": ArticlePayload}
    update.__annotations__ = {**update.__annotations__, "input": kind.update_input}
    needs = "Needs `content:write`."
    return {
        f"{kind.singular}_add": strawberry.mutation(
            resolver=add, description=f"Add a {label}, at `position` or last. {needs}"
        ),
        f"{kind.singular}_update": strawberry.mutation(
            resolver=update, description=f"Change the given fields of a {label}. {needs}"
        ),
        f"{kind.singular}_delete": strawberry.mutation(
            resolver=delete, description=f"Remove a {label}. {needs}"
        ),
        f"{kind.plural}_reorder": strawberry.mutation(
            resolver=reorder, description=f"Put the {label}s in the order of `slugs`. {needs}"
        ),
    }


def _problem(field: str, message: str) -> Any:
    from cms.errors import ContentProblem

    return ContentProblem("", field, message)


def _build_mutation_type() -> type:
    namespace: dict[str, Any] = {}
    for kind in ITEM_KINDS:
        namespace.update(_item_mutations(kind))
    return strawberry.type(type("Mutation", (ArticleMutations,), namespace))


Mutation = _build_mutation_type()

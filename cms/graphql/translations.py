"""Editing translations over GraphQL: `articleTranslationSave` and `articleTranslationDelete`.

Both go through `cms.pending_translations` (one transaction, an outbox event, a new content
revision): a published article's translation waits there until the article is published. Errors
come back in the payload as `ContentError`s addressed to an argument (`slug`, `locale`) or an
input field (`input.benefits[1].slug`); nothing is written then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from pydantic import ValidationError

from cms import models, pending_translations, reads
from cms.access import Scope
from cms.content_model import BENEFIT, ITEM_KINDS, NUTRITION_TIP, PRECAUTION, SECTION, item_kind
from cms.documents import (
    ArticleDocument,
    ConclusionDocument,
    TranslationDocument,
    field_path,
    validation_problems,
)
from cms.errors import Conflict, ContentProblem, InvalidContent, NotFound
from cms.graphql.context import Info
from cms.graphql.inputs import provided_fields
from cms.graphql.items import document_field, item_translation_input
from cms.graphql.mutations import ContentError, ContentErrorCode
from cms.graphql.types import Article
from cms.locales import canonical_locale

__all__ = [
    "ArticleTranslationInput",
    "ArticleTranslationPayload",
    "ConclusionTranslationInput",
    "BenefitTranslationInput",
    "NutritionTipTranslationInput",
    "PrecautionTranslationInput",
    "SectionTranslationInput",
    "TranslationMutations",
]

UNSET: Any = strawberry.UNSET
ITEM_LISTS = tuple(kind.list_name for kind in ITEM_KINDS)
_NOT_FOUND = ContentErrorCode.NOT_FOUND
NOT_A_LOCALE = "not a locale: expected a BCP 47 tag such as `de` or `de-AT`"


# The fields of each item's translation come from its document (`cms.content_model`).


@item_translation_input(SECTION)
class SectionTranslationInput:
    pass


@item_translation_input(BENEFIT)
class BenefitTranslationInput:
    pass


@item_translation_input(NUTRITION_TIP)
class NutritionTipTranslationInput:
    pass


@item_translation_input(PRECAUTION)
class PrecautionTranslationInput:
    pass


@strawberry.input(description="The translated conclusion; a field left out falls back.")
class ConclusionTranslationInput:
    title: str | None = document_field(ConclusionDocument, "title", default=UNSET)
    body: str | None = document_field(ConclusionDocument, "body", default=UNSET)


@strawberry.input(
    description="An article's whole text in one more locale. Only what is given is translated: "
    "every field left out (and every item not listed) falls back to the article's own text."
)
class ArticleTranslationInput:
    title: str | None = document_field(ArticleDocument, "title", default=UNSET)
    headline: str | None = document_field(ArticleDocument, "headline", default=UNSET)
    intro: str | None = document_field(ArticleDocument, "intro", default=UNSET)
    meta_title: str | None = document_field(ArticleDocument, "meta_title", default=UNSET)
    meta_description: str | None = document_field(
        ArticleDocument, "meta_description", default=UNSET
    )
    sections: list[SectionTranslationInput] = strawberry.field(
        default_factory=list, description="Translated sections."
    )
    benefits: list[BenefitTranslationInput] = strawberry.field(
        default_factory=list, description="Translated benefits."
    )
    nutrition_tips: list[NutritionTipTranslationInput] = strawberry.field(
        default_factory=list, description="Translated nutrition tips."
    )
    precautions: list[PrecautionTranslationInput] = strawberry.field(
        default_factory=list, description="Translated precautions."
    )
    conclusion: ConclusionTranslationInput | None = document_field(
        ArticleDocument, "conclusion", default=UNSET
    )


@strawberry.type(description="The article read in the locale edited, or why the edit was refused.")
class ArticleTranslationPayload:
    article: Article | None = strawberry.field(
        description="The article read for `locale` after the edit; null when it was refused."
    )
    errors: list[ContentError] = strawberry.field(
        description="Why the edit was refused; empty when it was made."
    )
    version: int | None = strawberry.field(
        default=None,
        description="The translation's version after a save, pending or live (pass it as "
        "`expectedVersion` next time); null when refused or deleted.",
    )


SlugArgument = Annotated[str, strawberry.argument(description="The article's slug.")]
TranslationLocaleArgument = Annotated[
    str,
    strawberry.argument(
        description="The locale of the translation, a BCP 47 tag such as `de` or `de-AT`; "
        "not the article's own."
    ),
]


class _UnknownArticle(NotFound):
    """The article to translate does not exist (as opposed to its translation)."""


class _Fields:
    """Turns a document path (`benefits.<slug>.title`) into the input field it came from
    (`input.benefits[2].title`)."""

    def __init__(self, items: dict[str, list[str]]) -> None:
        self._index = {
            name: {slug: index for index, slug in enumerate(slugs)} for name, slugs in items.items()
        }

    def locate(self, path: str) -> str:
        head, _, rest = path.partition(".")
        if head == "locale":
            return "locale"
        if head == "translation_of":
            return "slug"
        if head in self._index and rest:
            slug, _, tail = rest.partition(".")
            index = self._index[head].get(slug)
            if index is not None:
                at = f"input.{_camel(head)}[{index}]"
                return f"{at}.{tail}" if tail else f"{at}.slug"
        return f"input.{_camel(path)}" if path else "input"


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(word.title() for word in rest)


def _document(slug: str, locale: str, input: ArticleTranslationInput) -> TranslationDocument:
    """Validate the input as a translation; `InvalidContent` with input paths otherwise."""
    data: dict[str, Any] = {
        name: value
        for name, value in provided_fields(input).items()
        if name not in ITEM_LISTS and value is not None
    }
    problems: list[ContentProblem] = []
    for name in ITEM_LISTS:
        items: dict[str, Any] = {}
        for index, item in enumerate(getattr(input, name)):
            text = {k: v for k, v in provided_fields(item).items() if v is not None}
            item_slug = text.pop("slug")
            at = f"{_camel(name)}[{index}]"
            if not text:
                fields = " or ".join(item_kind(name).text_fields)
                message = f"translates nothing: give its {fields}"
                problems.append(ContentProblem("", at, message))
            elif item_slug in items:
                message = f"duplicate slug {item_slug!r}: listed twice"
                problems.append(ContentProblem("", f"{at}.slug", message))
            items[item_slug] = text
        if items:
            data[name] = items
    if problems:
        raise InvalidContent([_at_input(p) for p in problems])
    try:
        return TranslationDocument.model_validate(
            {"translation_of": slug, "locale": locale, **data}
        )
    except ValidationError as error:
        raise InvalidContent(
            [ContentProblem("", field_path(loc), msg) for loc, msg in validation_problems(error)]
        ) from None


def _at_input(problem: ContentProblem) -> ContentProblem:
    return ContentProblem("", f"input.{problem.field}", problem.message)


async def _translate(
    info: Info,
    slug: str,
    locale: str,
    operation: Callable[[Any, str], Awaitable[tuple[models.Article, int | None]]],
    fields: _Fields,
) -> ArticleTranslationPayload:
    context = info.context
    context.principal.require(Scope.WRITE)
    canonical = canonical_locale(locale)
    if canonical is None:
        return _refused(
            ContentError(field="locale", message=NOT_A_LOCALE, code=ContentErrorCode.INVALID)
        )

    try:
        row = await context.db.write(operation, canonical)
    except NotFound as error:
        # An unknown article is the slug's fault; a translation that is not there, the locale's.
        field = "slug" if isinstance(error, _UnknownArticle) else "locale"
        return _refused(ContentError(field=field, message=error.message, code=_NOT_FOUND))
    except Conflict as error:
        return _refused(
            ContentError(
                field="expectedVersion", message=error.message, code=ContentErrorCode.CONFLICT,
                current_version=error.current_version,
            )
        )  # fmt: skip
    except InvalidContent as error:
        return _refused(
            *(
                ContentError(
                    field=p.field if p.field.startswith("input") else fields.locate(p.field),
                    message=p.message,
                    code=ContentErrorCode.INVALID,
                )
                for p in error.problems
            )
        )
    context.reset_loaders()
    article_row, version = row
    (article,) = await Article.for_locale(info, [article_row], canonical)
    return ArticleTranslationPayload(article=article, errors=[], version=version)


def _refused(*errors: ContentError) -> ArticleTranslationPayload:
    return ArticleTranslationPayload(article=None, errors=list(errors))


async def _article(session: Any, slug: str) -> models.Article:
    rows = await reads.articles_by_slugs(session, [slug], include_drafts=True)
    if not rows:
        raise _UnknownArticle(f"No article {slug!r}.")
    row: models.Article = rows[0]
    return row


@strawberry.type
class TranslationMutations:
    @strawberry.mutation(
        description="Make the article's translation into `locale` exactly `input`, creating it "
        "if need be. For a draft, readers of that locale see it at once. For a published (or "
        "scheduled) article it waits as a pending change, which editors preview "
        "(`article(locale:, version: PENDING)`) and which goes live when the article is "
        "published (`articlePublish`), or is dropped by `articleDiscardPendingChanges`. The "
        "translation gets a new version and a revision; the article's own version is left as "
        "it is. Each field whose text changes is marked as translating the article's text as "
        "editors read it now (`fieldLocales.stale` turns true when that text changes). Needs "
        "`content:write`."
    )
    async def article_translation_save(
        self,
        info: Info,
        slug: SlugArgument,
        locale: TranslationLocaleArgument,
        expected_version: Annotated[
            int,
            strawberry.argument(
                description="The translation's version your edit is based on (optimistic lock); "
                "0 for a new translation. See `Article.translationVersions`."
            ),
        ],
        input: Annotated[
            ArticleTranslationInput,
            strawberry.argument(description="The whole translation; it replaces the one saved."),
        ],
    ) -> ArticleTranslationPayload:
        actor = info.context.principal.name

        async def operation(session: Any, canonical: str) -> tuple[models.Article, int | None]:
            article = await _article(session, slug)
            version = await pending_translations.edit_article_translation(
                session, _document(slug, canonical, input),
                expected_version=expected_version, actor=actor,
            )  # fmt: skip
            return article, version

        items = {name: [item.slug for item in getattr(input, name)] for name in ITEM_LISTS}
        return await _translate(info, slug, locale, operation, _Fields(items))

    @strawberry.mutation(
        description="Delete the article's translation into `locale`: that locale then reads "
        "the article's own text, at once for a draft; for a published (or scheduled) article "
        "the deletion is a pending change, made live by `articlePublish`. Needs `content:write`."
    )
    async def article_translation_delete(
        self, info: Info, slug: SlugArgument, locale: TranslationLocaleArgument
    ) -> ArticleTranslationPayload:
        actor = info.context.principal.name

        async def operation(session: Any, canonical: str) -> tuple[models.Article, int | None]:
            article = await _article(session, slug)
            await pending_translations.edit_delete_article_translation(
                session, slug=slug, locale=canonical, actor=actor
            )
            return article, None

        return await _translate(info, slug, locale, operation, _Fields({}))

"""The GraphQL object types of content. Built from rows, read for a locale (`cms.locales`);
prose is rendered on demand."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeVar, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from cms import models, revisions, seo, workflow, working_copies
from cms.access import Scope
from cms.content_model import BENEFIT, NUTRITION_TIP, PRECAUTION, SECTION, ItemKind, Role
from cms.documents import ArticleDocument, ConclusionDocument
from cms.errors import BadUserInput
from cms.graphql import enums as enums  # registers the enums first
from cms.graphql.context import Info
from cms.graphql.eager import gather_eagerly
from cms.graphql.items import (
    document_description,
    item_type,
    plain_values,
    prose_field,
    prose_tree_field,
)
from cms.graphql.locales import Localized
from cms.graphql.pending import pending_author, pending_syndicated_article
from cms.jsonld import article_json_ld
from cms.locales import LocaleView, LocalizedText
from cms.models import ITEM_TABLES, utc_now
from cms.reviews import ReviewStatus, review_events
from cms.snippets import ReviewState

if TYPE_CHECKING:
    from cms.graphql.reviews import Review, ReviewEvent

__all__ = [
    "Article",
    "ArticleItem",
    "ArticleVersion",
    "Author",
    "Benefit",
    "Conclusion",
    "FieldChange",
    "LocalizedNode",
    "NutritionTip",
    "Precaution",
    "Section",
]


@strawberry.type(description="A person who writes articles.")
class Author(relay.Node):
    id: relay.NodeID[int]
    slug: str = strawberry.field(description="Stable, URL-safe identifier.")
    name: str = strawberry.field(description="The name shown in bylines and attributions.")
    version: int = strawberry.field(
        description="Bumped by every change; `authorUpdate` names the version it is based on."
    )
    prose: strawberry.Private[dict[str, str]]
    bio = prose_field("bio", "A short biography.")
    bio_tree = prose_tree_field("bio", "A short biography.")

    @classmethod
    def from_row(cls, row: models.Author) -> Self:
        assert row.id is not None
        return cls(
            id=row.id, slug=row.slug, name=row.name, version=row.version, prose={"bio": row.bio}
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await info.context.loaders.author_by_id.load_many(_int_ids(node_ids))
        return [cls.from_row(row) if row else None for row in rows]


@strawberry.interface(description="An ordered item of an article, addressed by a slug.")
class ArticleItem:
    slug: str = strawberry.field(description="Stable, URL-safe identifier, unique in its article.")
    title: str = strawberry.field(description="The item's heading, in a few words.")
    position: int = strawberry.field(description="Zero-based place in reading order.")


class LocalizedNode(relay.Node):
    """A node that can be looked up for a locale (`Query.node(locale:)`)."""

    @classmethod
    async def resolve_localized(
        cls, info: Info, node_ids: Iterable[str], locale: str | None
    ) -> list[Self | None]:
        raise NotImplementedError

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await cls.resolve_localized(info, node_ids, None)


class _ItemNode(LocalizedNode):
    """Construction and node lookup of the items of an article, whatever their kind."""

    item_kind: ClassVar[ItemKind]

    @classmethod
    def from_row(cls, row: models.ItemRow, view: LocaleView) -> Self:
        kind = cls.item_kind
        values = plain_values(kind, row)
        prose: dict[str, str] = {}
        sources: dict[str, LocalizedText] = {}
        for name, role in kind.text_fields.items():
            text = view.item_field(kind.list_name, row.slug, name, getattr(row, name))
            sources[name] = text
            (prose if role is Role.PROSE else values)[name] = text.value
        common: dict[str, Any] = {
            "id": row.id,
            "slug": row.slug,
            "position": row.position,
            "prose": prose,
            "locale": view.locale,
            "field_sources": sources,
        }
        return cls(**common, **values)

    @classmethod
    async def resolve_localized(
        cls, info: Info, node_ids: Iterable[str], locale: str | None
    ) -> list[Self | None]:
        loaders = info.context.loaders
        rows = await loaders.child_by_id[ITEM_TABLES[cls.item_kind]].load_many(_int_ids(node_ids))
        # The same loader as the article's own lookups: their visibility rules apply here too.
        loaded = await loaders.article_by_id.load_many([row.article_id for row in rows if row])
        articles = [article for article in loaded if article is not None]
        views = await asyncio.gather(*(loaders.locale_view(a, locale) for a in articles))
        view_of = {article.id: view for article, view in zip(articles, views, strict=True)}
        return [
            cls.from_row(row, view_of[row.article_id])
            if row is not None and row.article_id in view_of
            else None
            for row in rows
        ]


# The fields of each item type come from its document (`cms.content_model`).


@item_type(SECTION)
class Section(_ItemNode, ArticleItem, Localized):
    id: relay.NodeID[int]
    prose: strawberry.Private[dict[str, str]]


@item_type(BENEFIT)
class Benefit(_ItemNode, ArticleItem, Localized):
    id: relay.NodeID[int]
    prose: strawberry.Private[dict[str, str]]


@item_type(NUTRITION_TIP)
class NutritionTip(_ItemNode, ArticleItem, Localized):
    id: relay.NodeID[int]
    prose: strawberry.Private[dict[str, str]]


@item_type(PRECAUTION)
class Precaution(_ItemNode, ArticleItem, Localized):
    id: relay.NodeID[int]
    prose: strawberry.Private[dict[str, str]]


@strawberry.type(description="The closing words of an article.")
class Conclusion(Localized):
    title: str = strawberry.field(description=document_description(ConclusionDocument, "title"))
    prose: strawberry.Private[dict[str, str]]
    body = prose_field("body", "The conclusion's text.")
    body_tree = prose_tree_field("body", "The conclusion's text.")


@strawberry.type(
    description="One field that differs between an article's pending and live versions, or "
    "between one of its pending translations and the live one."
)
class FieldChange:
    path: str = strawberry.field(
        description="The field, e.g. `title` or `benefits[stress-relief].body` (items by slug); "
        "`benefits.order` is the order of the benefits' slugs."
    )
    before: JSON | None = strawberry.field(description="The live value; null where it has none.")
    after: JSON | None = strawberry.field(description="The pending value; null where it has none.")
    locale: str | None = strawberry.field(
        description="The locale of the translation the field belongs to; null for a field of "
        "the article's own text."
    )

    @classmethod
    def of(cls, change: working_copies.FieldChange) -> Self:
        return cls(path=change.path, before=change.before, after=change.after, locale=change.locale)


@strawberry.enum(description="Which version of an article to read.")
class ArticleVersion(enum.Enum):
    LIVE = strawberry.enum_value("live", description="What the public sees.")
    PENDING = strawberry.enum_value(
        "pending", description="The changes not yet published, where there are some; else live."
    )


@strawberry.type(description="A saved version of an article: who saved it, when, and all of it.")
class Revision:
    version: int = strawberry.field(description="The article's version this saved.")
    action: str = strawberry.field(description="created, updated, published, restored, ...")
    pending: bool = strawberry.field(
        description="Whether this saved the article's pending version (not seen by the public "
        "until published) rather than its live one."
    )
    actor: str = strawberry.field(description="The name of the token (or tool) that saved it.")
    created_at: datetime = strawberry.field(description="When it was saved.")
    snapshot: JSON = strawberry.field(description="The whole article as its seed file holds it.")

    @classmethod
    def from_row(cls, row: models.Revision) -> Self:
        return cls(
            version=row.version, action=row.action, actor=row.actor, pending=row.pending,
            created_at=row.created_at, snapshot=row.snapshot,  # type: ignore[arg-type]
        )  # fmt: skip


@strawberry.type(description="The version a translation of an article is at.")
class TranslationVersion:
    locale: str = strawberry.field(description="The translation's locale.")
    version: int = strawberry.field(description="Its version, bumped by every save.")


@strawberry.type(description="An article with its sections, benefits, tips and precautions.")
class Article(LocalizedNode, Localized):
    id: relay.NodeID[int]
    slug: str = strawberry.field(description="Stable, URL-safe identifier, unique.")
    title: str = strawberry.field(description=document_description(ArticleDocument, "title"))
    headline: str = strawberry.field(description="The long display title.")
    status: models.ArticleStatus = strawberry.field(description="Where the article is in its life.")
    published_at: datetime | None = strawberry.field(
        description="When the article became (or becomes) public; null while never published."
    )
    created_at: datetime = strawberry.field(description="When the article was first saved.")
    updated_at: datetime = strawberry.field(description="When the article was last changed.")
    version: int = strawberry.field(description="Increases by one with every saved change.")
    base_locale: str = strawberry.field(
        description="The locale the article is written in; translations add others."
    )
    unpublish_at: datetime | None = strawberry.field(
        description="When the article expires: public until then, not after. Null for never."
    )
    row: strawberry.Private[models.Article]
    view: strawberry.Private[LocaleView]
    # The pending version this article was read as (editors only), None for the live one.
    pending: strawberry.Private[ArticleDocument | None]
    # Whether it was read with its pending translations (editors only).
    working: strawberry.Private[bool]
    author_id: strawberry.Private[int]
    conclusion_title: strawberry.Private[str]
    prose: strawberry.Private[dict[str, str]]
    intro = prose_field("intro", "The opening paragraphs.")
    intro_tree = prose_tree_field("intro", "The opening paragraphs.")

    @classmethod
    def from_row(
        cls,
        row: models.Article,
        view: LocaleView | None = None,
        *,
        pending: ArticleDocument | None = None,
        working: bool = False,
    ) -> Self:
        assert row.id is not None
        view = view or LocaleView(base=row.locale)
        title = view.article_field("title", row.title)
        headline = view.article_field("headline", row.headline)
        intro = view.article_field("intro", row.intro)
        return cls(
            id=row.id, slug=row.slug, title=title.value, headline=headline.value,
            status=row.status, published_at=row.published_at, created_at=row.created_at,
            updated_at=row.updated_at, version=row.version, base_locale=row.locale, row=row,
            view=view,
            author_id=row.author_id, conclusion_title=row.conclusion_title,
            prose={"intro": intro.value, "conclusion": row.conclusion}, locale=view.locale,
            unpublish_at=row.unpublish_at, pending=pending, working=working,
            field_sources={"title": title, "headline": headline, "intro": intro},
        )  # fmt: skip

    @classmethod
    async def resolve_localized(
        cls, info: Info, node_ids: Iterable[str], locale: str | None
    ) -> list[Self | None]:
        loaders = info.context.loaders
        rows = await loaders.article_by_id.load_many(_int_ids(node_ids))
        return await cls.for_locale(info, rows, locale)

    @classmethod
    async def for_locale(
        cls,
        info: Info,
        rows: list[models.Article | None],
        locale: str | None,
        *,
        live: bool = False,
    ) -> list[Self | None]:
        """Articles read for `locale`; their translations are loaded in one batch. Editors (and
        a preview link, for its article) read an article's pending version while it has one
        (unless `live`), loaded in one batch."""
        loaders = info.context.loaders
        rows = list(rows)
        pending: list[ArticleDocument | None] = [None] * len(rows)
        principal = info.context.principal
        ids: list[int] = []
        if not live and (info.context.include_drafts or principal.article is not None):
            # A preview link's principal reads its one article's pending version too.
            ids = [
                row.id
                for row in rows
                if row is not None and row.id is not None and principal.may_preview(row.slug)
            ]
            loaded = await loaders.pending_by_article_id.load_many(ids)
            found_pending = dict(zip(ids, loaded, strict=True))
            for i, row in enumerate(rows):
                version = found_pending.get(row.id or 0) if row is not None else None
                document = working_copies.pending_document(version)
                if row is not None and version is not None and document is not None:
                    rows[i] = working_copies.pending_article_row(row, document, version)
                    pending[i] = document
        working = set(ids)  # read with their pending translations too
        views = iter(
            await gather_eagerly(
                [
                    loaders.locale_view(row, locale, working=row.id in working)
                    for row in rows
                    if row is not None
                ]
            )
        )
        return [
            cls.from_row(row, next(views), pending=document, working=row.id in working)
            if row is not None
            else None
            for row, document in zip(rows, pending, strict=True)
        ]

    @strawberry.field(
        description="Whether the article has changes not yet published (its pending version, "
        "or pending translations). Editors read them unless they ask for "
        "`article(version: LIVE)`; always false for the public."
    )
    async def has_pending_changes(self, info: Info) -> bool:
        if not info.context.include_drafts:
            return False
        loaders = info.context.loaders
        pending = await loaders.pending_by_article_id.load(self.id)
        translations = await loaders.pending_translations_by_article_id.load(self.id)
        return working_copies.has_pending(pending) or bool(translations)

    @strawberry.field(
        description="The pending version against the live one, field by field, in document "
        "order, then each pending translation against the live one (`locale` says which); "
        "empty without pending changes. Needs `content:read-drafts`."
    )
    async def pending_changes(self, info: Info) -> list[FieldChange]:
        info.context.principal.require(Scope.READ_DRAFTS)
        changes = await info.context.db.run(workflow.pending_changes, slug=self.slug)
        return [FieldChange.of(change) for change in changes]

    @strawberry.field(
        description="The title search engines show (`<title>`): the editor's meta title, else "
        "the title."
    )
    def meta_title(self) -> str:
        return seo.meta_of(self.row, self.view).title

    @strawberry.field(
        description='The description search engines show (`<meta name="description">`): the '
        "editor's meta description, else the intro's plain text cut at a word boundary to 160 "
        "characters."
    )
    def meta_description(self) -> str:
        return seo.meta_of(self.row, self.view).description

    @strawberry.field(
        description="Every locale the article can be read in: its own first, then those of its "
        "translations, sorted."
    )
    async def available_locales(self, info: Info) -> list[str]:
        translations = await info.context.loaders.translations(self.id, working=self.working)
        return [self.base_locale, *sorted(translations)]

    @strawberry.field(
        description="The version of each of the article's translations, by locale (a pending "
        "translation's, where editors read pending changes): pass it as `expectedVersion` to "
        "`articleTranslationSave` (0 for a locale not listed)."
    )
    async def translation_versions(self, info: Info) -> list[TranslationVersion]:
        translations = await info.context.loaders.translations(self.id, working=self.working)
        return [
            TranslationVersion(locale=locale, version=row.version)
            for locale, row in sorted(translations.items())
        ]

    @strawberry.field(
        description="Topic slugs, e.g. `stress-relief`, in the editor's order. Filter the "
        "article list by one with `articles(filter: {tag: ...})`."
    )
    async def tags(self, info: Info) -> list[str]:
        if self.pending is not None:
            return list(self.pending.tags)
        tags: list[str] = await info.context.loaders.tags_by_article_id.load(self.id)
        return tags

    @strawberry.field(
        description="Other articles you may see that share tags with this one, those sharing "
        "the most first, ties by slug. Empty when the article has no tags. They are read in "
        "the locale this article was requested in."
    )
    async def related(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 5,
    ) -> list[Article]:
        max_size = info.context.settings.max_page_size
        if not 0 <= first <= max_size:
            raise BadUserInput(f"`first` must be between 0 and {max_size}; got {first}.")
        if first == 0:
            return []
        rows = await info.context.loaders.related_articles.load((self.id, first))
        related = await Article.for_locale(info, list(rows), self.view.requested)
        return [article for article in related if article is not None]

    @strawberry.field(
        description="Who wrote the article; read as the pending version, the author it names."
    )
    async def author(self, info: Info) -> Author:
        if self.pending is not None:  # the author its pending version names
            return Author.from_row(await pending_author(info, self.author_id, self.pending))
        row = await info.context.loaders.author_by_id.load(self.author_id)
        assert row is not None, "an article's author is visible wherever the article is"
        return Author.from_row(row)

    @strawberry.field(description="Prose sections in reading order.")
    async def sections(self, info: Info) -> list[Section]:
        return await _children(info, Section, self)

    @strawberry.field(description="Health benefits in reading order.")
    async def benefits(self, info: Info) -> list[Benefit]:
        return await _children(info, Benefit, self)

    @strawberry.field(description="Nutrition and hydration tips in reading order.")
    async def nutrition_tips(
        self,
        info: Info,
        kind: Annotated[
            models.TipKind | None, strawberry.argument(description="Only tips of this kind.")
        ] = None,
    ) -> list[NutritionTip]:
        return await _children(
            info, NutritionTip, self, where=lambda row: kind is None or row.kind == kind
        )

    @strawberry.field(description="Safety precautions in reading order.")
    async def precautions(self, info: Info) -> list[Precaution]:
        return await _children(info, Precaution, self)

    @strawberry.field(description="Saved versions, newest first. Needs `content:read-drafts`.")
    async def revisions(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="At most this many.")] = 20,
        before_version: Annotated[
            int | None, strawberry.argument(description="Only versions older than this.")
        ] = None,
    ) -> list[Revision]:
        context = info.context
        context.principal.require(Scope.READ_DRAFTS)
        if not 0 <= first <= context.settings.max_page_size:
            raise BadUserInput(f"`first` must be between 0 and {context.settings.max_page_size}.")
        rows = await context.db.run(
            revisions.list_revisions, article_id=self.id, before_version=before_version, limit=first
        )
        return [Revision.from_row(row) for row in rows]

    @strawberry.field(
        description="A unified diff between two versions, as seed files. "
        "Needs `content:read-drafts`."
    )
    async def revision_diff(
        self,
        info: Info,
        from_version: Annotated[int, strawberry.argument(description="The older version.")],
        to_version: Annotated[int, strawberry.argument(description="The newer version.")],
    ) -> str:
        info.context.principal.require(Scope.READ_DRAFTS)

        async def diff(session: Any) -> str:
            old = await revisions.get_revision(session, article_id=self.id, version=from_version)
            new = await revisions.get_revision(session, article_id=self.id, version=to_version)
            return revisions.diff_revisions(old, new)

        text: str = await info.context.db.run(diff)
        return text

    @strawberry.field(
        description="schema.org structured data of the article (a `MedicalWebPage`), for a "
        '`<script type="application/ld+json">` block. Read as the pending version, it describes '
        "that version as it would be published: its text, its non-draft items and its author."
    )
    async def json_ld(self, info: Info) -> JSON:
        if self.pending is not None:  # the pending text, items and author, as published
            article = await pending_syndicated_article(info, self.row, self.pending, view=self.view)
        else:
            article = await info.context.loaders.syndicated_article(
                self.row, site_url=info.context.settings.site_url, view=self.view
            )
        return cast(JSON, article_json_ld(article))

    @strawberry.field(
        description="The newest medical approval of the article: who approved which version "
        "when; null when none. Whether it covers the live text is `reviewStatus`."
    )
    async def review(
        self, info: Info
    ) -> Annotated[Review, strawberry.lazy("cms.graphql.reviews")] | None:
        from cms.graphql.reviews import Review

        found = await info.context.loaders.review_by_article_id.load(self.id)
        return Review.of(found) if found else None

    @strawberry.field(
        description="Whether the live text is the text a clinician reviewed (CURRENT), changed "
        "since, overdue for review, or never reviewed."
    )
    async def review_status(self, info: Info) -> ReviewStatus:
        return (await self._review_state(info)).status

    @strawberry.field(
        description="Who medically reviewed the text as it is now, with credentials; null "
        "unless `reviewStatus` is CURRENT.",
        deprecation_reason="Use `review` and `reviewStatus`.",
    )
    async def reviewed_by(self, info: Info) -> str | None:
        state = await self._review_state(info)
        return state.reviewer if state.status is ReviewStatus.CURRENT else None

    @strawberry.field(
        description="When the text as it is now was medically reviewed; null unless "
        "`reviewStatus` is CURRENT.",
        deprecation_reason="Use `review` and `reviewStatus`.",
    )
    async def last_reviewed(self, info: Info) -> date | None:
        state = await self._review_state(info)
        return state.reviewed_on if state.status is ReviewStatus.CURRENT else None

    async def _review_state(self, info: Info) -> ReviewState:
        """What may truthfully be said of this text's medical review today."""
        found = await info.context.loaders.review_by_article_id.load(self.id)
        return ReviewState.of(found, self.row.content_hash, utc_now().date())

    @strawberry.field(
        description="Every step of the article's medical review, oldest first. Needs "
        "`content:read-drafts`."
    )
    async def review_events(
        self, info: Info
    ) -> list[Annotated[ReviewEvent, strawberry.lazy("cms.graphql.reviews")]]:
        from cms.graphql.reviews import ReviewEvent

        info.context.principal.require(Scope.READ_DRAFTS)
        rows = await info.context.db.run(review_events, self.id)
        return [
            ReviewEvent(
                action=row.action,
                version=row.version,
                note=row.note,
                actor=row.actor,
                created_at=row.created_at,
            )  # fmt: skip
            for row in rows
        ]

    @strawberry.field(description="The closing words; null when the article has none.")
    def conclusion(self) -> Conclusion | None:
        if not self.conclusion_title and not self.prose["conclusion"]:
            return None
        title = self.view.conclusion_field("title", self.conclusion_title)
        body = self.view.conclusion_field("body", self.prose["conclusion"])
        return Conclusion(
            title=title.value, prose={"body": body.value}, locale=self.view.locale,
            field_sources={"title": title, "body": body},
        )  # fmt: skip


ItemT = TypeVar("ItemT", bound=_ItemNode)


async def _children(
    info: Info,
    node_type: type[ItemT],
    article: Article,
    where: Callable[[Any], bool] = lambda row: True,
) -> list[ItemT]:
    kind = node_type.item_kind
    rows = (await info.context.loaders.items_by_article_id.load(article.id))[kind]
    if article.pending is not None:
        rows = working_copies.pending_item_rows(kind, article.id, rows, article.pending)
    return [node_type.from_row(row, article.view) for row in rows if where(row)]


_LARGEST_ID = 2**31 - 1  # the primary keys are 32-bit integers on PostgreSQL


def _int_ids(node_ids: Iterable[str]) -> list[int]:
    try:
        ids = [int(node_id) for node_id in node_ids]
    except ValueError:
        raise BadUserInput("Invalid node id.") from None
    if any(not 0 < key <= _LARGEST_ID for key in ids):
        raise BadUserInput("Invalid node id.")
    return ids

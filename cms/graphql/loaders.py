"""Per-request DataLoaders: each turns the lookups of one execution tick into one SQL statement.

Loaders are created per request (see `Context`), so their memo never outlives the request and
never crosses access levels: a public request's loaders cannot hold a draft.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from cms import pending_translations, reads, working_copies
from cms.content_model import BENEFIT, ITEM_KINDS, PRECAUTION, ItemKind
from cms.graphql.pagination import PageRequest
from cms.locales import LocaleView, fallback_chain
from cms.models import (
    ITEM_TABLES,
    Article,
    ArticleTranslation,
    Author,
    ItemRow,
    PendingTranslation,
    PendingVersion,
)
from cms.reviews import Review, reviews_by_article_ids
from cms.snippets import SyndicatedArticle, syndicated_article

if TYPE_CHECKING:
    from cms.graphql.context import RequestDatabase

__all__ = [
    "ArticleByIdLoader",
    "ArticleCountLoader",
    "ArticlePageLoader",
    "ArticleBySlugLoader",
    "AuthorByIdLoader",
    "ChildByIdLoader",
    "CountKey",
    "ItemsByArticleIdLoader",
    "Loaders",
    "PageKey",
    "PendingByArticleIdLoader",
    "PendingTranslationsByArticleIdLoader",
    "RelatedArticlesLoader",
    "TagsByArticleIdLoader",
    "TranslationsByArticleIdLoader",
    "page_key",
]

ChildT = TypeVar("ChildT", bound=ItemRow)


@dataclass
class PreviewOf:
    """One article a preview principal may read as it is now, drafts included
    (`cms.preview_links`); every other article only as the public does."""

    slug: str
    # Filled as the article is read, so that its items are read with drafts too.
    article_ids: set[int] = field(default_factory=set)

    def pick(self, public: list[Article], drafts: list[Article]) -> list[Article]:
        """The public rows, with the previewed article's own row in place of its public one."""
        previewed = [row for row in drafts if row.slug == self.slug]
        self.article_ids.update(row.id for row in previewed if row.id is not None)
        return [row for row in public if row.slug != self.slug] + previewed


class ArticleBySlugLoader(DataLoader[str, Article | None]):
    def __init__(
        self, db: RequestDatabase, *, include_drafts: bool, preview: PreviewOf | None = None
    ) -> None:
        async def load(slugs: list[str]) -> list[Article | None]:
            rows = await db.run(reads.articles_by_slugs, slugs, include_drafts=include_drafts)
            if preview is not None and preview.slug in slugs:
                drafts = await db.run(reads.articles_by_slugs, [preview.slug], include_drafts=True)
                rows = preview.pick(rows, drafts)
            by_slug = {row.slug: row for row in rows}
            return [by_slug.get(slug) for slug in slugs]

        super().__init__(load_fn=load)


class ArticleByIdLoader(DataLoader[int, Article | None]):
    def __init__(
        self, db: RequestDatabase, *, include_drafts: bool, preview: PreviewOf | None = None
    ) -> None:
        async def load(ids: list[int]) -> list[Article | None]:
            rows = await db.run(reads.articles_by_ids, ids, include_drafts=include_drafts)
            if preview is not None:
                drafts = await db.run(reads.articles_by_ids, ids, include_drafts=True)
                rows = preview.pick(rows, drafts)
            return _in_order(ids, {row.id: row for row in rows})

        super().__init__(load_fn=load)


class AuthorByIdLoader(DataLoader[int, Author | None]):
    def __init__(self, db: RequestDatabase, *, include_drafts: bool) -> None:
        async def load(ids: list[int]) -> list[Author | None]:
            rows = await db.run(reads.authors_by_ids, ids, include_drafts=include_drafts)
            return _in_order(ids, {row.id: row for row in rows})

        super().__init__(load_fn=load)


ItemsByKind = dict[ItemKind, list[Any]]


class ItemsByArticleIdLoader(DataLoader[int, ItemsByKind]):
    """Every item of a batch of articles, of every kind, in one statement (whichever kinds the
    query asks for: the union of four small reads costs less than four round trips)."""

    def __init__(
        self, db: RequestDatabase, *, include_drafts: bool, preview: PreviewOf | None = None
    ) -> None:
        async def load(article_ids: list[int]) -> list[ItemsByKind]:
            previewed = preview.article_ids if preview is not None else set()
            rows = await db.run(
                reads.every_item_by_article_ids,
                article_ids,
                include_drafts=include_drafts or bool(previewed & set(article_ids)),
            )
            if previewed and not include_drafts:
                rows = [r for r in rows if r.article_id in previewed or not r.is_draft]
            grouped: dict[int, ItemsByKind] = {
                article_id: {kind: [] for kind in ITEM_KINDS} for article_id in article_ids
            }
            for row in rows:
                grouped[row.article_id][row.item_kind].append(row)
            return [grouped[article_id] for article_id in article_ids]

        super().__init__(load_fn=load)


@dataclass(frozen=True)
class PageKey:
    """The arguments of `cms.reads.articles_page` but the caller's access."""

    after_slug: str | None
    before_slug: str | None
    limit: int
    from_end: bool
    tag: str | None


def page_key(request: PageRequest, tag: str | None) -> PageKey:
    """The read of a page: one row more than asked for, which tells whether there are more."""
    return PageKey(request.after, request.before, request.size + 1, request.from_end, tag)


class ArticlePageLoader(DataLoader[PageKey, list[Article]]):
    """Pages of articles; a loader only so that a page read ahead (`prime`) is not read again."""

    def __init__(self, db: RequestDatabase, *, include_drafts: bool) -> None:
        async def load(keys: list[PageKey]) -> list[list[Article]]:
            pages = []
            for key in keys:
                page = await db.run(
                    reads.articles_page, after_slug=key.after_slug, before_slug=key.before_slug,
                    limit=key.limit, from_end=key.from_end, include_drafts=include_drafts,
                    tag=key.tag,
                )  # fmt: skip
                pages.append(page)
            return pages

        super().__init__(load_fn=load)


@dataclass(frozen=True)
class CountKey:
    """The arguments of `cms.reads.count_articles` but the caller's access."""

    tag: str | None = None
    slug_at_most: str | None = None
    slug_at_least: str | None = None
    limit: int | None = None


class ArticleCountLoader(DataLoader[CountKey, int]):
    """Counts of articles; a loader only so that a count read ahead (`prime`) is not read again."""

    def __init__(self, db: RequestDatabase, *, include_drafts: bool) -> None:
        async def load(keys: list[CountKey]) -> list[int]:
            counts = []
            for key in keys:
                count = await db.run(
                    reads.count_articles, include_drafts=include_drafts, tag=key.tag,
                    slug_at_most=key.slug_at_most, slug_at_least=key.slug_at_least,
                    limit=key.limit,
                )  # fmt: skip
                counts.append(count)
            return counts

        super().__init__(load_fn=load)


class ChildByIdLoader(DataLoader[int, ChildT | None], Generic[ChildT]):
    def __init__(self, db: RequestDatabase, model: type[ChildT], *, include_drafts: bool) -> None:
        async def load(ids: list[int]) -> list[ChildT | None]:
            rows = await db.run(reads.children_by_ids, model, ids, include_drafts=include_drafts)
            return _in_order(ids, {row.id: row for row in rows})

        super().__init__(load_fn=load)


class PendingByArticleIdLoader(DataLoader[int, PendingVersion | None]):
    """The pending versions of articles (`cms.working_copies`): editors' reads only."""

    def __init__(self, db: RequestDatabase) -> None:
        async def load(article_ids: list[int]) -> list[PendingVersion | None]:
            rows = await db.run(working_copies.pending_by_article_ids, article_ids)
            by_id: dict[int | None, PendingVersion] = {row.article_id: row for row in rows}
            return _in_order(article_ids, by_id)

        super().__init__(load_fn=load)


Overlays = dict[str, dict[str, Any]]
Translations = dict[str, ArticleTranslation]


class TranslationsByArticleIdLoader(DataLoader[int, Translations]):
    """Every translation of each article, as `{locale: row}`."""

    def __init__(self, db: RequestDatabase) -> None:
        async def load(article_ids: list[int]) -> list[Translations]:
            rows = await db.run(reads.translations_by_article_ids, article_ids)
            grouped: dict[int, Translations] = defaultdict(dict)
            for row in rows:
                grouped[row.article_id][row.locale] = row
            return [grouped[article_id] for article_id in article_ids]

        super().__init__(load_fn=load)


class PendingTranslationsByArticleIdLoader(DataLoader[int, list[PendingTranslation]]):
    """The pending translations of articles (`cms.pending_translations`): editors' reads only."""

    def __init__(self, db: RequestDatabase) -> None:
        async def load(article_ids: list[int]) -> list[list[PendingTranslation]]:
            rows = await db.run(
                pending_translations.pending_translations_by_article_ids, article_ids
            )
            grouped: dict[int, list[PendingTranslation]] = defaultdict(list)
            for row in rows:
                grouped[row.article_id].append(row)
            return [grouped[article_id] for article_id in article_ids]

        super().__init__(load_fn=load)


class TagsByArticleIdLoader(DataLoader[int, list[str]]):
    def __init__(self, db: RequestDatabase) -> None:
        async def load(article_ids: list[int]) -> list[list[str]]:
            rows = await db.run(reads.tags_by_article_ids, article_ids)
            grouped: dict[int, list[str]] = defaultdict(list)
            for row in rows:
                grouped[row.article_id].append(row.tag)
            return [grouped[article_id] for article_id in article_ids]

        super().__init__(load_fn=load)


class RelatedArticlesLoader(DataLoader[tuple[int, int], list[Article]]):
    """Keyed by (article id, how many): one statement for a whole page of articles, whatever
    each asks for (the batch fetches the largest number asked and cuts)."""

    def __init__(self, db: RequestDatabase, *, include_drafts: bool) -> None:
        async def load(keys: list[tuple[int, int]]) -> list[list[Article]]:
            article_ids = list(dict.fromkeys(article_id for article_id, _ in keys))
            limit = max(first for _, first in keys)
            pairs = await db.run(
                reads.related_articles, article_ids, limit=limit, include_drafts=include_drafts
            )
            grouped: dict[int, list[Article]] = defaultdict(list)
            for source_id, row in pairs:
                grouped[source_id].append(row)
            return [grouped[article_id][:first] for article_id, first in keys]

        super().__init__(load_fn=load)


class ReviewByArticleIdLoader(DataLoader[int, Review | None]):
    """The newest approval of each article and its reviewer (`cms.reviews`)."""

    def __init__(self, db: RequestDatabase) -> None:
        async def load(article_ids: list[int]) -> list[Review | None]:
            found = await db.run(reviews_by_article_ids, article_ids)
            return [found.get(article_id) for article_id in article_ids]

        super().__init__(load_fn=load)


RowT = TypeVar("RowT")


def _in_order(ids: Sequence[int], by_id: dict[int | None, RowT]) -> list[RowT | None]:
    return [by_id.get(key) for key in ids]


class Loaders:
    """A request's loaders, each made on first use: most requests use two or three of them."""

    def __init__(
        self, db: RequestDatabase, *, include_drafts: bool, preview_article: str | None = None
    ) -> None:
        self._db = db
        self._include_drafts = include_drafts
        self._preview = PreviewOf(preview_article) if preview_article is not None else None

    @cached_property
    def article_by_slug(self) -> ArticleBySlugLoader:
        return ArticleBySlugLoader(
            self._db, include_drafts=self._include_drafts, preview=self._preview
        )

    @cached_property
    def article_by_id(self) -> ArticleByIdLoader:
        return ArticleByIdLoader(
            self._db, include_drafts=self._include_drafts, preview=self._preview
        )

    @cached_property
    def article_page(self) -> ArticlePageLoader:
        return ArticlePageLoader(self._db, include_drafts=self._include_drafts)

    @cached_property
    def article_count(self) -> ArticleCountLoader:
        return ArticleCountLoader(self._db, include_drafts=self._include_drafts)

    @cached_property
    def author_by_id(self) -> AuthorByIdLoader:
        return AuthorByIdLoader(self._db, include_drafts=self._include_drafts)

    @cached_property
    def tags_by_article_id(self) -> TagsByArticleIdLoader:
        return TagsByArticleIdLoader(self._db)

    @cached_property
    def related_articles(self) -> RelatedArticlesLoader:
        return RelatedArticlesLoader(self._db, include_drafts=self._include_drafts)

    @cached_property
    def items_by_article_id(self) -> ItemsByArticleIdLoader:
        return ItemsByArticleIdLoader(
            self._db, include_drafts=self._include_drafts, preview=self._preview
        )

    @cached_property
    def child_by_id(self) -> dict[type[ItemRow], ChildByIdLoader[ItemRow]]:
        return {
            model: ChildByIdLoader(self._db, model, include_drafts=self._include_drafts)
            for model in ITEM_TABLES.values()
        }

    @cached_property
    def translations_by_article_id(self) -> TranslationsByArticleIdLoader:
        return TranslationsByArticleIdLoader(self._db)

    @cached_property
    def review_by_article_id(self) -> ReviewByArticleIdLoader:
        return ReviewByArticleIdLoader(self._db)

    @cached_property
    def pending_by_article_id(self) -> PendingByArticleIdLoader:
        return PendingByArticleIdLoader(self._db)

    @cached_property
    def pending_translations_by_article_id(self) -> PendingTranslationsByArticleIdLoader:
        return PendingTranslationsByArticleIdLoader(self._db)

    async def translations(self, article_id: int, *, working: bool = False) -> Translations:
        """The article's translations by locale: the live ones, or (`working`, for editors) the
        pending ones over them."""
        live = await self.translations_by_article_id.load(article_id)
        if not working:
            return live
        pending = await self.pending_translations_by_article_id.load(article_id)
        return pending_translations.working_translations(live, pending) if pending else live

    async def locale_view(
        self, article: Article, requested: str | None, *, working: bool = False
    ) -> LocaleView:
        """The article as read for `requested` (`working`: with its pending translations). Its
        translations are loaded only when the fallback chain goes beyond its own locale."""
        assert article.id is not None
        if len(fallback_chain(requested, article.locale)) == 1:
            return LocaleView(base=article.locale, requested=requested)
        rows = await self.translations(article.id, working=working)
        return LocaleView(
            base=article.locale,
            requested=requested,
            translations={locale: row.document for locale, row in rows.items()},
            source_hashes={locale: row.source_hashes for locale, row in rows.items()},
        )

    async def syndicated_article(
        self, article: Article, *, site_url: str, view: LocaleView | None = None
    ) -> SyndicatedArticle:
        """The article with what travels with its snippets, through the same loaders as the rest
        of the request (so asking for snippets and the article together costs nothing extra)."""
        assert article.id is not None
        author = await self.author_by_id.load(article.author_id)
        assert author is not None
        items = await self.items_by_article_id.load(article.id)
        review = await self.review_by_article_id.load(article.id)
        return syndicated_article(
            review=review,
            article=article,
            author=author,
            benefits=items[BENEFIT],
            precautions=items[PRECAUTION],
            site_url=site_url,
            view=view,
        )

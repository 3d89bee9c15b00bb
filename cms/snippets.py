"""Benefit snippets: one claim of an article, always with its precautions, attribution and
disclaimer.

A `Snippet` is the unit partners syndicate. It cannot be built without the article's precautions
and the medical disclaimer, and only published content is ever read into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by

from cms import seo
from cms.citations import Citation
from cms.content_model import BENEFIT, PRECAUTION, ItemKind
from cms.db import ReadSession
from cms.locales import LocaleView
from cms.models import (
    ITEM_TABLES,
    Article,
    ArticleReview,
    Author,
    ItemRow,
    ReviewAction,
    Reviewer,
    UTCDateTime,
    utc_now,
)
from cms.reviews import Review, ReviewStatus, reviews_of, status_of
from cms.visibility import article_is_public, item_is_public

__all__ = [
    "DISCLAIMER",
    "DISCLAIMERS",
    "ReviewState",
    "Snippet",
    "SnippetItem",
    "SyndicatedArticle",
    "SyndicatedRows",
    "article_url",
    "read_syndicated_article",
    "read_syndicated_rows",
    "syndicated_article",
]

DISCLAIMER = (
    "This information is for general education and is not medical advice. Talk to a qualified "
    "healthcare professional before starting any new therapy."
)
# The disclaimer in every language we have it in; others fall back to English, reported.
DISCLAIMERS = {
    "en": DISCLAIMER,
    "de": "Diese Informationen dienen der allgemeinen Aufklärung und sind keine medizinische "
    "Beratung. Sprechen Sie mit einer qualifizierten medizinischen Fachperson, bevor Sie eine "
    "neue Therapie beginnen.",
}


def article_url(site_url: str, slug: str) -> str:
    """The canonical address of an article on the public site."""
    return f"{site_url}/articles/{slug}"


@dataclass(frozen=True)
class SnippetItem:
    """A benefit or a precaution: its slug, title and Markdown body, the locale each of the
    two is written in, and its sources (never translated)."""

    slug: str
    title: str
    body: str
    title_locale: str
    body_locale: str
    citations: tuple[Citation, ...] = ()
    # Whether a translated title or body translates an older text of it (`LocalizedText.stale`).
    title_stale: bool = False
    body_stale: bool = False


@dataclass(frozen=True)
class ReviewState:
    """What may truthfully be said about an article's medical review today."""

    status: ReviewStatus
    reviewer_name: str = ""
    credentials: str = ""
    reviewed_on: date | None = None
    next_review_due: date | None = None

    @property
    def reviewer(self) -> str:
        """`Dr. Jane Doe, MD`."""
        return (
            f"{self.reviewer_name}, {self.credentials}"
            if self.credentials
            else (self.reviewer_name)
        )

    @classmethod
    def of(cls, review: Review | None, content_hash: str, today: date) -> ReviewState:
        status = status_of(review, content_hash, today)
        if review is None:
            return cls(status)
        review = review.covering(content_hash)  # who reviewed this text, when
        return cls(
            status,
            reviewer_name=review.reviewer.name,
            credentials=review.reviewer.credentials,
            reviewed_on=review.row.reviewed_on,
            next_review_due=review.row.next_review_due,
        )


@dataclass(frozen=True)
class SyndicatedArticle:
    """The published parts of an article that travel with its snippets."""

    slug: str
    title: str
    headline: str
    meta: seo.Meta  # what search engines show, in this locale, fallbacks applied
    url: str
    author_name: str
    review: ReviewState
    published_at: datetime | None
    updated_at: datetime
    benefits: tuple[SnippetItem, ...]
    precautions: tuple[SnippetItem, ...]
    # The locale the article is read for, the fallback chain behind it, and where the title
    # came from.
    language: str
    chain: tuple[str, ...]
    title_locale: str
    title_stale: bool = False

    def snippets(self) -> list[Snippet]:
        """Every benefit as a snippet; none at all when the article has no precautions, since a
        claim never travels without its safety context."""
        if not self.precautions:
            return []
        return [Snippet(article=self, benefit=benefit) for benefit in self.benefits]

    def snippet(self, benefit_slug: str) -> Snippet | None:
        return next((s for s in self.snippets() if s.benefit.slug == benefit_slug), None)


@dataclass(frozen=True)
class Snippet:
    article: SyndicatedArticle
    benefit: SnippetItem

    @property
    def disclaimer_locale(self) -> str:
        """The first locale of the fallback chain we have the disclaimer in; else English."""
        return next((loc for loc in self.article.chain if loc in DISCLAIMERS), "en")

    @property
    def disclaimer(self) -> str:
        return DISCLAIMERS[self.disclaimer_locale]

    @property
    def url(self) -> str:
        """The canonical address of the benefit: its article, at the benefit's anchor."""
        return f"{self.article.url}#{self.benefit.slug}"

    @property
    def precautions(self) -> tuple[SnippetItem, ...]:
        return self.article.precautions


def syndicated_article(
    *,
    article: Article,
    author: Author,
    benefits: Sequence[ItemRow],
    precautions: Sequence[ItemRow],
    site_url: str,
    review: Review | None,
    view: LocaleView | None = None,
) -> SyndicatedArticle:
    """Assemble from rows the caller has already read with `include_drafts=False`, in the
    locale of `view` (by default the article's own), with the article's review (if any)."""
    view = view or LocaleView(base=article.locale)
    title = view.article_field("title", article.title)

    def item(list_name: str, row: ItemRow) -> SnippetItem:
        title = view.item_field(list_name, row.slug, "title", row.title)
        body = view.item_field(list_name, row.slug, "body", row.body)
        # Every kind that reaches a snippet (benefits, precautions) has citations.
        stored = getattr(row, "citations", None) or []
        citations = tuple(Citation.model_validate(c) for c in stored)
        return SnippetItem(
            row.slug, title.value, body.value, title.locale, body.locale, citations,
            title_stale=title.stale, body_stale=body.stale,
        )  # fmt: skip

    return SyndicatedArticle(
        slug=article.slug,
        title=title.value,
        headline=view.article_field("headline", article.headline).value,
        meta=seo.meta_of(article, view),
        url=article_url(site_url, article.slug),
        author_name=author.name,
        review=ReviewState.of(review, article.content_hash, utc_now().date()),
        published_at=article.published_at,
        updated_at=article.updated_at,
        benefits=tuple(item("benefits", b) for b in benefits),
        precautions=tuple(item("precautions", p) for p in precautions),
        language=view.locale,
        chain=view.chain,
        title_locale=title.locale,
        title_stale=title.stale,
    )


@dataclass(frozen=True)
class SyndicatedRows:
    """A public article's rows that its snippets are made of: its author, its published
    benefits and precautions in reading order, and its review (if any)."""

    article: Article
    author: Author
    benefits: Sequence[ItemRow]
    precautions: Sequence[ItemRow]
    review: Review | None

    def syndicated(self, *, site_url: str, view: LocaleView | None = None) -> SyndicatedArticle:
        return syndicated_article(
            article=self.article,
            author=self.author,
            benefits=self.benefits,
            precautions=self.precautions,
            site_url=site_url,
            review=self.review,
            view=view,
        )


async def read_syndicated_rows(session: ReadSession, *, slug: str) -> SyndicatedRows | None:
    """A published article by slug with what travels with its snippets, in one statement; None
    when there is no such public article. On PostgreSQL each round trip costs more than the
    rows; on SQLite each statement's ~100 us in SQLAlchemy costs more than the JSON."""
    if session.get_bind().dialect.name == "postgresql":
        return await _read_rows_at_once(session, slug)
    return await _read_rows_at_once_sqlite(session, slug)


async def read_syndicated_article(
    session: ReadSession, *, slug: str, site_url: str
) -> SyndicatedArticle | None:
    """A published article by slug as its snippets show it, in its own locale; None when
    there is no such public article."""
    rows = await read_syndicated_rows(session, slug=slug)
    return rows.syndicated(site_url=site_url) if rows else None


# PostgreSQL: the article and its author as columns, its public benefits and precautions and
# its approvals (with their reviewers) as JSON lists built by the database, in one statement.


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, sa.inspect(model).local_table)


_ARTICLES = _table(Article)
_AUTHORS = _table(Author)
_REVIEWS = _table(ArticleReview)
_REVIEWERS = _table(Reviewer)
_AUTHOR_PREFIX = "author__"


def _public_items(kind: ItemKind) -> sa.ScalarSelect[Any]:
    """The article's public items of `kind`, each a JSON object of its row, in reading order."""
    items = _table(ITEM_TABLES[kind])
    return (
        sa.select(
            sa.func.json_agg(
                aggregate_order_by(sa.literal_column(items.name), items.c.position), type_=JSON
            )
        )
        .where(items.c.article_id == _ARTICLES.c.id, item_is_public(items))
        .scalar_subquery()
    )


_APPROVALS = (
    sa.select(
        sa.func.json_agg(
            aggregate_order_by(
                sa.func.json_build_array(
                    sa.literal_column(_REVIEWS.name), sa.literal_column(_REVIEWERS.name)
                ),
                _REVIEWS.c.id,
            ),
            type_=JSON,
        )
    )
    .select_from(_REVIEWS.join(_REVIEWERS, _REVIEWERS.c.id == _REVIEWS.c.reviewer_id))
    .where(_REVIEWS.c.article_id == _ARTICLES.c.id, _REVIEWS.c.action == ReviewAction.APPROVED)
    .scalar_subquery()
)

_SYNDICATED_ROWS: Any = (
    sa.select(
        _ARTICLES,
        *(column.label(_AUTHOR_PREFIX + column.name) for column in _AUTHORS.c),
        _public_items(BENEFIT).label("benefits"),
        _public_items(PRECAUTION).label("precautions"),
        _APPROVALS.label("approvals"),
    )
    .join_from(_ARTICLES, _AUTHORS, _AUTHORS.c.id == _ARTICLES.c.author_id)
    .where(_ARTICLES.c.slug == sa.bindparam("slug"), article_is_public(sa.bindparam("now")))
)


async def _read_rows_at_once(session: ReadSession, slug: str) -> SyndicatedRows | None:
    result = await session.exec(_SYNDICATED_ROWS, params={"slug": slug, "now": utc_now()})
    row = result.first()
    if row is None:
        return None
    fields = row._mapping
    # A plain row of the author's table, as `cms.reads` returns them: an ORM instance costs more.
    author = SimpleNamespace(**{c.name: fields[_AUTHOR_PREFIX + c.name] for c in _AUTHORS.c})
    approvals = [
        (ArticleReview.model_validate(review), Reviewer.model_validate(reviewer))
        for review, reviewer in fields["approvals"] or ()
    ]
    return SyndicatedRows(
        article=cast(Article, row),
        author=cast(Author, author),
        benefits=_item_rows(BENEFIT, fields["benefits"]),
        precautions=_item_rows(PRECAUTION, fields["precautions"]),
        review=reviews_of(approvals).get(row.id),
    )


def _item_rows(kind: ItemKind, objects: list[dict[str, Any]] | None) -> list[ItemRow]:
    """Rows of the JSON objects `_public_items` made, as `reads.every_item_by_article_ids`
    returns them (JSON columns are lists already; every other column is text, number or bool)."""
    return [cast(ItemRow, SimpleNamespace(item_kind=kind, **item)) for item in objects or ()]


# SQLite: the same in one statement, each list a JSON array of JSON objects of its rows. SQLite
# before 3.44 cannot order inside an aggregate, so the lists are put in order once read.


def _json_value(column: sa.Column[Any]) -> Any:
    """A column as `_item_rows` and `model_validate` read it from JSON: JSON columns nested,
    booleans as booleans, timestamps as ISO text in UTC (SQLite keeps them without an offset)."""
    if isinstance(column.type, sa.JSON):
        return sa.func.json(column)
    if isinstance(column.type, sa.Boolean):
        return sa.case((column, sa.func.json("true")), else_=sa.func.json("false"))
    if isinstance(column.type, UTCDateTime):
        return sa.type_coerce(column, sa.String).concat("+00:00")
    return column


def _json_object(table: sa.Table) -> Any:
    pairs: list[Any] = [(sa.literal_column(f"'{c.name}'"), _json_value(c)) for c in table.c]
    return sa.func.json_object(*(part for pair in pairs for part in pair))


def _public_items_sqlite(kind: ItemKind) -> sa.ScalarSelect[Any]:
    items = _table(ITEM_TABLES[kind])
    return (
        sa.select(sa.func.json_group_array(_json_object(items)))
        .where(items.c.article_id == _ARTICLES.c.id, item_is_public(items))
        .scalar_subquery()
    )


_SYNDICATED_ROWS_SQLITE: Any = (
    sa.select(
        _ARTICLES,
        *(column.label(_AUTHOR_PREFIX + column.name) for column in _AUTHORS.c),
        _public_items_sqlite(BENEFIT).label(BENEFIT.list_name),
        _public_items_sqlite(PRECAUTION).label(PRECAUTION.list_name),
        sa.select(
            sa.func.json_group_array(
                sa.func.json_array(_json_object(_REVIEWS), _json_object(_REVIEWERS))
            )
        )
        .select_from(_REVIEWS.join(_REVIEWERS, _REVIEWERS.c.id == _REVIEWS.c.reviewer_id))
        .where(_REVIEWS.c.article_id == _ARTICLES.c.id, _REVIEWS.c.action == ReviewAction.APPROVED)
        .scalar_subquery()
        .label("approvals"),
    )
    .join_from(_ARTICLES, _AUTHORS, _AUTHORS.c.id == _ARTICLES.c.author_id)
    .where(_ARTICLES.c.slug == sa.bindparam("slug"), article_is_public(sa.bindparam("now")))
)


async def _read_rows_at_once_sqlite(session: ReadSession, slug: str) -> SyndicatedRows | None:
    result = await session.exec(_SYNDICATED_ROWS_SQLITE, params={"slug": slug, "now": utc_now()})
    row = result.first()
    if row is None:
        return None
    fields = row._mapping
    author = SimpleNamespace(**{c.name: fields[_AUTHOR_PREFIX + c.name] for c in _AUTHORS.c})
    approvals = sorted(
        (
            (ArticleReview.model_validate(review), Reviewer.model_validate(reviewer))
            for review, reviewer in orjson.loads(fields["approvals"])
        ),
        key=lambda approval: cast(int, approval[0].id),
    )

    def items(kind: ItemKind) -> list[ItemRow]:
        objects = sorted(orjson.loads(fields[kind.list_name]), key=lambda o: o["position"])
        return [cast(ItemRow, SimpleNamespace(item_kind=kind, **o)) for o in objects]

    return SyndicatedRows(
        article=cast(Article, row),
        author=cast(Author, author),
        benefits=items(BENEFIT),
        precautions=items(PRECAUTION),
        review=reviews_of(approvals).get(row.id),
    )

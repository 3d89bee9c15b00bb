"""Benefit snippets: one claim of an article, always with its precautions, attribution and
disclaimer.

A `Snippet` is the unit partners syndicate. It cannot be built without the article's precautions
and the medical disclaimer, and only published content is ever read into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from cms import seo, tree_reads
from cms.citations import Citation
from cms.content_model import BENEFIT, PRECAUTION
from cms.db import Reader, ReadSession, session_rows
from cms.locales import LocaleView
from cms.models import (
    Article,
    Author,
    ItemRow,
    utc_now,
)
from cms.reviews import Review, ReviewStatus, reviews_of, status_of

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


# What travels with a snippet.
_SYNDICATED = tree_reads.Parts(
    author=True, items=frozenset({BENEFIT.name, PRECAUTION.name}), approvals=True
)


async def read_syndicated_rows(read: Reader, *, dialect: str, slug: str) -> SyndicatedRows | None:
    """A published article by slug with what travels with its snippets, in one statement
    (`cms.tree_reads`); None when there is no such public article. A statement costs more than
    the rows: a round trip on PostgreSQL, ~100 us of SQLAlchemy on SQLite."""
    tree = await tree_reads.article_tree(read, dialect=dialect, slug=slug, parts=_SYNDICATED)
    if tree is None:
        return None
    assert tree.author is not None and tree.items is not None and tree.approvals is not None
    return SyndicatedRows(
        article=cast(Article, tree.article),
        author=cast(Author, tree.author),
        benefits=[item for item in tree.items if item.item_kind is BENEFIT],
        precautions=[item for item in tree.items if item.item_kind is PRECAUTION],
        review=reviews_of(tree.approvals).get(tree.article.id),
    )


async def read_syndicated_article(
    session: ReadSession, *, slug: str, site_url: str
) -> SyndicatedArticle | None:
    """A published article by slug as its snippets show it, in its own locale; None when
    there is no such public article."""
    dialect = session.get_bind().dialect.name
    rows = await read_syndicated_rows(session_rows(session), dialect=dialect, slug=slug)
    return rows.syndicated(site_url=site_url) if rows else None

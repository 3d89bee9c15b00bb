"""Benefit snippets over GraphQL: the one type partners syndicate, and the fields that return it.

`BenefitSnippet` has its precautions and disclaimer as non-null fields of the same object, so no
query can take a benefit away without them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from cms import aliases, snippets
from cms.citations import Citation
from cms.content_model import PRECAUTION
from cms.graphql.context import Info
from cms.graphql.items import (
    document_description,
    prose_field,
    prose_tree_field,
    structured_type,
    structured_values,
)
from cms.graphql.locales import LocaleArgument, Localized, requested_locale
from cms.graphql.pending import previewed_syndicated_article
from cms.graphql.types import ArticleVersion
from cms.jsonld import snippet_json_ld
from cms.locales import LocalizedText
from cms.reviews import ReviewStatus
from cms.snippet_html import labels_for, review_line, snippet_html

CitationType = structured_type(Citation)

__all__ = ["BenefitSnippet", "SnippetArticle", "SnippetPrecaution", "SnippetQuery"]


@strawberry.type(description="The article a snippet comes from: what attribution needs.")
class SnippetArticle(Localized):
    slug: str = strawberry.field(description="The article's slug.")
    title: str = strawberry.field(description="The article's title.")
    url: str = strawberry.field(description="The canonical address of the article.")
    author_name: str = strawberry.field(description="Who wrote the article; credit them.")
    reviewed_by: str | None = strawberry.field(
        description="Who medically reviewed the article's text as it is now, with their "
        "credentials; null unless `reviewStatus` is CURRENT."
    )
    last_reviewed: date | None = strawberry.field(
        description="When that review happened; null unless `reviewStatus` is CURRENT."
    )
    review_status: ReviewStatus = strawberry.field(
        description="Whether the text shown is the text a clinician reviewed."
    )
    review_line: str = strawberry.field(
        description='Show it with the snippet: "Medically reviewed by <name>, <credentials> on '
        '<date>." only when CURRENT, otherwise what is the case (e.g. "Not yet medically '
        'reviewed.").'
    )


@strawberry.type(description="A precaution that travels with every snippet of its article.")
class SnippetPrecaution(Localized):
    slug: str = strawberry.field(description="The precaution's slug.")
    title: str = strawberry.field(description=document_description(PRECAUTION.document, "title"))
    prose: strawberry.Private[dict[str, str]]
    body = prose_field("body", "Who should take care, and how.")
    body_tree = prose_tree_field("body", "Who should take care, and how.")
    citations: list[CitationType] = strawberry.field(  # type: ignore[valid-type]
        description="The sources of the precaution; show them (a Sources list)."
    )


@strawberry.type(
    description="One benefit of a published article, ready to show on another site. It always "
    "carries the article's precautions, a medical disclaimer and the attribution."
)
class BenefitSnippet(Localized):
    snippet: strawberry.Private[snippets.Snippet]
    slug: str = strawberry.field(description="The benefit's slug.")
    title: str = strawberry.field(description="The benefit's title.")
    url: str = strawberry.field(description="The canonical address of the benefit.")
    prose: strawberry.Private[dict[str, str]]
    body = prose_field("body", "What the benefit is and why.")
    body_tree = prose_tree_field("body", "What the benefit is and why.")
    article: SnippetArticle = strawberry.field(description="The article the benefit is from.")
    precautions: list[SnippetPrecaution] = strawberry.field(
        description="Every published precaution of the article; never empty."
    )
    disclaimer: str = strawberry.field(description="Show it with the benefit, always.")
    citations: list[CitationType] = strawberry.field(  # type: ignore[valid-type]
        description="The sources of the claim; show them (a Sources list)."
    )

    @classmethod
    def of(cls, snippet: snippets.Snippet) -> BenefitSnippet:
        article = snippet.article
        locale = article.language
        current = article.review.status is ReviewStatus.CURRENT
        return cls(
            snippet=snippet,
            slug=snippet.benefit.slug,
            title=snippet.benefit.title,
            url=snippet.url,
            prose={"body": snippet.benefit.body},
            article=SnippetArticle(
                slug=article.slug,
                title=article.title,
                url=article.url,
                author_name=article.author_name,
                reviewed_by=article.review.reviewer if current else None,
                last_reviewed=article.review.reviewed_on if current else None,
                review_status=article.review.status,
                review_line=review_line(article.review, labels_for(article.chain)[1], html=False),
                locale=locale,
                field_sources={
                    "title": LocalizedText("", article.title_locale, article.title_stale)
                },
            ),
            precautions=[
                SnippetPrecaution(
                    slug=p.slug,
                    title=p.title,
                    prose={"body": p.body},
                    citations=structured_values(Citation, p.citations),
                    locale=locale,
                    field_sources=_sources(p),
                )
                for p in snippet.precautions
            ],
            disclaimer=snippet.disclaimer,
            citations=structured_values(Citation, snippet.benefit.citations),
            locale=locale,
            field_sources={**_sources(snippet.benefit), "disclaimer": snippet.disclaimer_locale},
        )

    @strawberry.field(
        description="Ready-to-embed, sanitised HTML: the benefit, the precautions, the review, "
        "the disclaimer and an attribution link. Classes are prefixed with `bwk-`."
    )
    def html(self) -> str:
        return snippet_html(self.snippet)

    @strawberry.field(description="schema.org structured data (`MedicalWebPage`) of the snippet.")
    def json_ld(self) -> JSON:
        return cast(JSON, snippet_json_ld(self.snippet))


def _sources(item: snippets.SnippetItem) -> dict[str, LocalizedText]:
    """Where an item's title and body came from, and whether each is stale."""
    return {
        "title": LocalizedText("", item.title_locale, item.title_stale),
        "body": LocalizedText("", item.body_locale, item.body_stale),
    }


async def _syndicated(
    info: Info, slug: str, locale: str | None, version: ArticleVersion
) -> snippets.SyndicatedArticle | None:
    limit = info.context.snippet_limit
    if limit is not None:
        # Here, not on the raw request, is where a snippet read is certain (escaped field
        # names, GET, hash-only persisted queries alike); refused before anything is read.
        await limit()
    requested = requested_locale(locale)
    rows = await _syndicated_rows(info, slug)
    if rows is None:
        return None
    if version is ArticleVersion.PENDING and info.context.principal.authenticated:
        pending = await previewed_syndicated_article(info, rows.article, requested)
        if pending is not None:
            return pending
    view = await info.context.public_loaders.locale_view(rows.article, requested)
    return rows.syndicated(site_url=info.context.settings.site_url, view=view)


async def _syndicated_rows(info: Info, slug: str) -> snippets.SyndicatedRows | None:
    """The article and all that travels with it in one statement of its own, since a statement
    costs more than sharing reads with other fields of the query would save."""
    db = info.context.db
    dialect = db.dialect_name
    rows = await snippets.read_syndicated_rows(db.rows, dialect=dialect, slug=slug)
    if rows is None:
        # Only a miss pays for aliases: the slug may be one the article had before.
        canonical = await _canonical_slug(info, slug)
        if canonical:
            rows = await snippets.read_syndicated_rows(db.rows, dialect=dialect, slug=canonical)
    return rows


async def _canonical_slug(info: Info, slug: str) -> str | None:
    return await info.context.db.run(
        aliases.canonical_article_slug, slug=slug, include_drafts=False
    )


def _served(info: Info, served: list[snippets.Snippet]) -> list[BenefitSnippet]:
    info.context.served_snippets.extend((s.article.slug, s.benefit.slug) for s in served)
    return [BenefitSnippet.of(s) for s in served]


VersionArgument = Annotated[
    ArticleVersion,
    strawberry.argument(
        description="For editors (`content:read-drafts`, or a preview link for the article): "
        "the pending version of the article (the default, where it has one), its draft items "
        "left out, or the live one. The public always reads the live version."
    ),
]


@strawberry.type
class SnippetQuery:
    @strawberry.field(
        description="One benefit of a published article as a snippet; null when there is no such "
        "published benefit, or when the article has no precautions to go with it."
    )
    async def benefit_snippet(
        self,
        info: Info,
        article: Annotated[str, strawberry.argument(description="The article's slug.")],
        benefit: Annotated[str, strawberry.argument(description="The benefit's slug.")],
        locale: LocaleArgument = None,
        version: VersionArgument = ArticleVersion.PENDING,
    ) -> BenefitSnippet | None:
        syndicated = await _syndicated(info, article, locale, version)
        snippet = syndicated.snippet(benefit) if syndicated else None
        if snippet is None and syndicated is not None:
            # Only a miss pays for aliases: the benefit may have been renamed.
            canonical = await info.context.db.run(
                aliases.canonical_benefit,
                article=syndicated.slug,
                benefit=benefit,
                include_drafts=False,
            )
            snippet = syndicated.snippet(canonical[1]) if canonical else None
        return _served(info, [snippet])[0] if snippet else None

    @strawberry.field(
        description="Every benefit of a published article as a snippet, in reading order; empty "
        "when there is no such article or it has no precautions."
    )
    async def benefit_snippets(
        self,
        info: Info,
        article: Annotated[str, strawberry.argument(description="The article's slug.")],
        locale: LocaleArgument = None,
        version: VersionArgument = ArticleVersion.PENDING,
    ) -> list[BenefitSnippet]:
        syndicated = await _syndicated(info, article, locale, version)
        return _served(info, syndicated.snippets()) if syndicated else []

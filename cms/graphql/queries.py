"""The root Query: articles by slug, a paginated list, Relay's node lookup, the snippet fields
(`cms.graphql.snippets`) and the change feed (`cms.graphql.changes`)."""

from __future__ import annotations

import inspect
import re
from typing import Annotated

import strawberry
from strawberry import relay

from cms import aliases
from cms.documents import MAX_TAG_LENGTH, TAG_PATTERN
from cms.errors import BadUserInput
from cms.graphql.changes import ChangeQuery
from cms.graphql.context import Info
from cms.graphql.inputs import ArticleFilter
from cms.graphql.loaders import CountKey, page_key
from cms.graphql.locales import LocaleArgument, requested_locale
from cms.graphql.pagination import encode_cursor, page_request
from cms.graphql.reviews import ReviewerQuery
from cms.graphql.search import SearchQuery
from cms.graphql.snippets import SnippetQuery
from cms.graphql.types import Article, ArticleVersion, LocalizedNode

__all__ = ["ArticleConnection", "Query"]


@strawberry.type(description="A page of articles, ordered by slug.")
class ArticleConnection:
    edges: list[relay.Edge[Article]] = strawberry.field(
        description="The articles of this page, each with its cursor."
    )
    page_info: relay.PageInfo = strawberry.field(description="Where this page sits in the list.")
    tag: strawberry.Private[str | None] = None

    @strawberry.field(description="The articles of this page, without their cursors.")
    def nodes(self) -> list[Article]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many articles the whole list holds, across all pages.")
    async def total_count(self, info: Info) -> int:
        count: int = await info.context.loaders.article_count.load(CountKey(tag=self.tag))
        return count


@strawberry.type(description="Reads: articles, search, snippets, the changes feed and nodes.")
class Query(SnippetQuery, SearchQuery, ChangeQuery, ReviewerQuery):
    @strawberry.field(description="Any object by its global id; null when you may not see it.")
    async def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="A global id.")],
        locale: LocaleArgument = None,
    ) -> relay.Node | None:
        requested = requested_locale(locale)
        try:
            node_type = id.resolve_type(info)
        except relay.GlobalIDValueError:
            raise BadUserInput("Invalid node id.") from None
        if issubclass(node_type, LocalizedNode):
            (node,) = await node_type.resolve_localized(info, [id.node_id], requested)
            return node
        resolved = node_type.resolve_node(id.node_id, info=info, required=False)
        return await resolved if inspect.isawaitable(resolved) else resolved

    @strawberry.field(description="One article by slug; null when there is none you may see.")
    async def article(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The article's slug.")],
        locale: LocaleArgument = None,
        version: Annotated[
            ArticleVersion,
            strawberry.argument(
                description="For editors (`content:read-drafts`): the pending version (the "
                "default, where there is one) or the live one. The public always reads the "
                "live version."
            ),
        ] = ArticleVersion.PENDING,
    ) -> Article | None:
        requested = requested_locale(locale)
        row = await info.context.loaders.article_by_slug.load(slug)
        if row is None:
            # Only a miss pays for aliases: the slug may be one the article had before.
            canonical = await info.context.db.run(
                aliases.canonical_article_slug,
                slug=slug,
                include_drafts=info.context.include_drafts,
            )
            if canonical is not None:
                row = await info.context.loaders.article_by_slug.load(canonical)
        live = version is ArticleVersion.LIVE
        (article,) = await Article.for_locale(info, [row], requested, live=live)
        return article

    @strawberry.field(
        description="Articles ordered by slug, as a Relay connection with keyset cursors. "
        "Page forwards with `first`/`after`, backwards with `last`/`before`; at most 100 a page."
    )
    async def articles(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, forwards.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Start after this cursor.")
        ] = None,
        last: Annotated[
            int | None, strawberry.argument(description="Page size, backwards.")
        ] = None,
        before: Annotated[
            str | None, strawberry.argument(description="End before this cursor.")
        ] = None,
        filter: Annotated[
            ArticleFilter | None, strawberry.argument(description="Only matching articles.")
        ] = None,
        locale: LocaleArgument = None,
    ) -> ArticleConnection:
        context = info.context
        requested = requested_locale(locale)
        tag = filter.tag if filter is not None else None
        if tag is not None and not (len(tag) <= MAX_TAG_LENGTH and re.fullmatch(TAG_PATTERN, tag)):
            raise BadUserInput(
                f"`filter.tag` must be a tag: lower-case words joined by hyphens; got {tag!r}."
            )
        request = page_request(
            first=first, after=after, last=last, before=before,
            max_size=context.settings.max_page_size,
        )  # fmt: skip
        rows = await context.loaders.article_page.load(page_key(request, tag))
        has_more = len(rows) > request.size
        if has_more:
            rows = rows[1:] if request.from_end else rows[:-1]

        # The far side of the cursor is looked up, not guessed: page info is exact at both ends.
        beyond_cursor = False
        boundary = request.before if request.from_end else request.after
        if boundary is not None:
            bound = {"slug_at_least": boundary} if request.from_end else {"slug_at_most": boundary}
            beyond = CountKey(tag=tag, limit=1, **bound)
            beyond_cursor = await context.loaders.article_count.load(beyond) > 0
        articles = await Article.for_locale(info, list(rows), requested)
        edges = [
            relay.Edge(cursor=encode_cursor(row.slug), node=article)
            for row, article in zip(rows, articles, strict=True)
            if article is not None
        ]
        return ArticleConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=beyond_cursor if request.from_end else has_more,
                has_previous_page=has_more if request.from_end else beyond_cursor,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            tag=tag,
        )

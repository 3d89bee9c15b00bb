"""Full-text search over GraphQL: `search(query:)`, a ranked connection of articles with the part
that matched and a highlighted excerpt. The queries themselves are in `cms.search`."""

from __future__ import annotations

import enum
import html
import re
from typing import Annotated

import strawberry
from strawberry import relay

from cms import search
from cms.errors import BadUserInput
from cms.graphql import enums as enums  # registers the enums first
from cms.graphql.context import Info
from cms.graphql.locales import LocaleArgument, requested_locale
from cms.graphql.pagination import DEFAULT_PAGE_SIZE, decode_ranked_cursor, encode_ranked_cursor
from cms.graphql.types import Article
from cms.models import SearchPart
from cms.search_index import MATCH_END, MATCH_START

__all__ = ["ExcerptFormat", "SearchConnection", "SearchEdge", "SearchQuery"]

_MATCH = re.compile(f"{MATCH_START}(.*?){MATCH_END}", re.DOTALL)


@strawberry.enum(description="How an excerpt is returned.")
class ExcerptFormat(enum.Enum):
    HTML = strawberry.enum_value("html", description="Escaped text with `<mark>` around matches.")
    TEXT = strawberry.enum_value("text", description="Plain text, matches unmarked.")


def excerpt_html(marked: str) -> str:
    """The excerpt with every character escaped and each match in `<mark>`; no other markup."""
    parts: list[str] = []
    position = 0
    for match in _MATCH.finditer(marked):
        parts.append(html.escape(_unmarked(marked[position : match.start()])))
        parts.append(f"<mark>{html.escape(_unmarked(match.group(1)))}</mark>")
        position = match.end()
    parts.append(html.escape(_unmarked(marked[position:])))
    return "".join(parts)


def _unmarked(text: str) -> str:
    return text.replace(MATCH_START, "").replace(MATCH_END, "")


@strawberry.type(description="An article a search found, where it matched best, and how well.")
class SearchEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this edge.")
    node: Article = strawberry.field(description="The article found.")
    score: float = strawberry.field(
        description="Relevance, higher is better. Compare scores only within one result list."
    )
    part: SearchPart = strawberry.field(description="The part of the article that matched best.")
    part_slug: str | None = strawberry.field(
        description="The slug of that section, benefit, tip or precaution; null when the "
        "article's own title, headline and intro (or its conclusion) matched best."
    )
    marked_excerpt: strawberry.Private[str]

    @strawberry.field(
        description="A passage of the best-matching part around the matched words. In HTML, "
        "the text is escaped and each match is wrapped in `<mark>`; nothing else is markup. "
        "It comes from the text that matched, in the article's own locale, whatever `locale` "
        "the search asked for."
    )
    def excerpt(
        self,
        format: Annotated[
            ExcerptFormat, strawberry.argument(description="HTML (the default) or plain text.")
        ] = ExcerptFormat.HTML,
    ) -> str:
        if format is ExcerptFormat.TEXT:
            return _unmarked(self.marked_excerpt)
        return excerpt_html(self.marked_excerpt)


@strawberry.type(description="Articles matching a search, best first (ties by slug).")
class SearchConnection:
    edges: list[SearchEdge] = strawberry.field(
        description="The articles of this page, each with its cursor and where it matched."
    )
    page_info: relay.PageInfo = strawberry.field(description="Where this page sits in the list.")
    terms: strawberry.Private[list[str]]

    @strawberry.field(description="The articles of this page, without their cursors.")
    def nodes(self) -> list[Article]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many articles match, across all pages.")
    async def total_count(self, info: Info) -> int:
        if not self.terms:
            return 0
        context = info.context
        count: int = await context.db.run(
            search.count_search_hits, self.terms, include_drafts=context.include_drafts
        )
        return count


def _empty(terms: list[str]) -> SearchConnection:
    page_info = relay.PageInfo(
        has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
    )
    return SearchConnection(edges=[], page_info=page_info, terms=terms)


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Published articles (drafts too with `content:read-drafts`) whose title, "
        "headline, intro, sections, benefits, tips, precautions or conclusion hold every word "
        "of `query`, best match first. Words are matched by their stem (`walking` finds "
        "`walk`); punctuation and operators are ignored. At most 100 a page. The public "
        "searches the live text; editors search an article's pending version where it has "
        "one (and read it as the pending version)."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description="Words to look for.")],
        first: Annotated[
            int | None, strawberry.argument(description="Page size; 20 when left out.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Start after this cursor.")
        ] = None,
        locale: LocaleArgument = None,
    ) -> SearchConnection:
        context = info.context
        requested = requested_locale(locale)
        if not query.strip():
            raise BadUserInput("`query` must not be empty.")
        if len(query) > search.MAX_QUERY_LENGTH:
            raise BadUserInput(f"`query` must be at most {search.MAX_QUERY_LENGTH} characters.")
        size = DEFAULT_PAGE_SIZE if first is None else first
        if not 0 <= size <= context.settings.max_page_size:
            raise BadUserInput(
                f"`first` must be between 0 and {context.settings.max_page_size}; got {size}."
            )
        cursor = decode_ranked_cursor(after, "after") if after is not None else None
        terms = search.search_terms(query)
        if not terms:  # only punctuation or stop words: nothing can match
            return _empty(terms)
        include_drafts = context.include_drafts
        hits = await context.db.run(
            search.search_page, terms, after=cursor, limit=size + 1, include_drafts=include_drafts
        )
        has_next = len(hits) > size
        hits = hits[:size]
        has_previous = cursor is not None and bool(
            await context.db.run(
                search.search_page,
                terms,
                after=cursor,
                limit=1,
                include_drafts=include_drafts,
                at_or_before=True,
            )  # fmt: skip
        )
        excerpts = await context.db.run(search.search_excerpts, terms, hits)
        nodes = await Article.for_locale(info, [hit.article for hit in hits], requested)
        edges = [
            SearchEdge(
                cursor=encode_ranked_cursor(hit.score, hit.article.slug),
                node=node,
                score=hit.score,
                part=hit.part,
                part_slug=hit.part_slug or None,
                marked_excerpt=excerpts.get(hit.key, ""),
            )  # fmt: skip
            for hit, node in zip(hits, nodes, strict=True)
            if node is not None
        ]
        page_info = relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return SearchConnection(edges=edges, page_info=page_info, terms=terms)

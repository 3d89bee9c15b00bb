"""The GraphQL requests every benchmarked server answers, as the exact bytes sent over the wire.

One body per query, so wrk, the ceiling's lookup table and the in-process checks all send the same
bytes and the servers are compared on identical work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["HOT", "LIST", "SEARCH", "SNIPPET", "BENCH_QUERIES", "BenchQuery", "page_query"]

HOT_DOCUMENT = """
query Hot($slug: String!) {
  article(slug: $slug) {
    slug title headline intro(format: HTML)
    author { name bio }
    sections { slug title kind body(format: HTML) }
    benefits { slug title body(format: HTML) }
    nutritionTips { slug kind title body(format: HTML) }
    precautions { slug title body(format: HTML) }
    conclusion { title body(format: HTML) }
  }
}
"""

LIST_DOCUMENT = """
query List($first: Int!) {
  articles(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug title headline
      author { name }
      benefits { title }
      precautions { title }
    }
  }
}
"""

# A partner's read: one benefit with its precautions, attribution and disclaimer.
SNIPPET_DOCUMENT = """
query Snippet($article: String!, $benefit: String!) {
  benefitSnippet(article: $article, benefit: $benefit) {
    slug title url body(format: HTML) disclaimer
    article { title url authorName }
    precautions { slug title body(format: HTML) }
  }
}
"""

# Full-text search: ours only (the floor and the ceiling have none).
SEARCH_DOCUMENT = """
query Search($query: String!) {
  search(query: $query, first: 10) {
    totalCount
    edges { score part partSlug excerpt node { slug title } }
  }
}
"""

# No totalCount: counting 100,000 rows would cost the same on every page and hide what the
# measurement is about, the cost of reaching a page through its cursor.
PAGE_DOCUMENT = """
query Page($first: Int!, $after: String) {
  articles(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { slug title author { name } benefits { title body(format: HTML) } }
  }
}
"""


@dataclass(frozen=True)
class BenchQuery:
    name: str
    body: bytes

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = orjson.loads(self.body)
        return decoded


def _request(document: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": " ".join(document.split()), "variables": variables})


HOT = BenchQuery("hot", _request(HOT_DOCUMENT, {"slug": "back-walk"}))
LIST = BenchQuery("list", _request(LIST_DOCUMENT, {"first": 20}))
SNIPPET = BenchQuery(
    "snippet", _request(SNIPPET_DOCUMENT, {"article": "back-walk", "benefit": "stress-relief"})
)
SEARCH = BenchQuery("search", _request(SEARCH_DOCUMENT, {"query": "walking benefits"}))
BENCH_QUERIES: tuple[BenchQuery, ...] = (HOT, LIST, SNIPPET)


def page_query(name: str, *, first: int, after: str | None) -> BenchQuery:
    return BenchQuery(name, _request(PAGE_DOCUMENT, {"first": first, "after": after}))

"""Full-text search over articles: user text to safe terms, the best-ranked part of each matching
article, and excerpts with the matches marked.

SQLite answers with FTS5 (`bm25`, `snippet`), PostgreSQL with its text search (`ts_rank`,
`ts_headline`) over the GIN index; both rank a title match above a body match, stem English
words, ignore the same stop words and need every term to match. User text never reaches either
query language: it is cut into words first, so quotes, operators and `NEAR(` are just
punctuation. Scores are comparable only within one database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from cms.db import ReadSession
from cms.models import Article, PendingSearchDocument, SearchDocument, SearchPart
from cms.reads import visible_articles
from cms.search_index import MATCH_END, MATCH_START
from cms.visibility import item_is_public

__all__ = [
    "MAX_QUERY_LENGTH",
    "SearchHit",
    "count_search_hits",
    "search_excerpts",
    "search_page",
    "search_terms",
]

MAX_QUERY_LENGTH = 500
MAX_TERMS = 16
EXCERPT_WORDS = 24
ELLIPSIS = "…"
# Weights of a match in the title against one in the body.
_SQLITE_WEIGHTS = (10.0, 1.0)
# The generated tsvector column, GIN-indexed (cms.models.full_text_ddl); ranking reads it as stored.
_PG_VECTOR = "search_vector"

# PostgreSQL's `english` stop words, left out on SQLite too so a query means the same on both.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom this
    that these those am is are was were be been being have has had having do does did doing a an
    the and but if or because as until while of at by for with about against between into through
    during before after above below to from up down in out on off over under again further then
    once here there when where why how all any both each few more most other some such no nor not
    only own same so than too very s t can will just don should now""".split()
)
_WORD = re.compile(r"[^\W_]+")


def search_terms(query: str) -> list[str]:
    """The words of a query, lower-cased, stop words and repeats left out, at most 16."""
    words = (word for word in _WORD.findall(query.lower()) if word not in STOP_WORDS)
    return list(dict.fromkeys(words))[:MAX_TERMS]


@dataclass(frozen=True)
class SearchHit:
    """An article and its best-matching part; `pending` when that part is of the article's
    pending version (editors only)."""

    article: Article
    document_id: int
    part: SearchPart
    part_slug: str
    score: float
    pending: bool = False

    @property
    def key(self) -> tuple[bool, int]:
        """Which search document matched: ids are unique within the live or the pending ones."""
        return self.pending, self.document_id


@dataclass(frozen=True)
class _Index:
    """A table of search documents and its full-text index (`cms.models.full_text_ddl`)."""

    table: Any
    fts: str  # the FTS5 table on SQLite
    pending: bool


_LIVE = _Index(SearchDocument.__table__, "search_fts", pending=False)  # type: ignore[attr-defined]
# Editors search an article's pending version, where it has one, instead of its live text.
# (On SQLite it has an FTS5 index of its own, so its scores come from other statistics.)
_PENDING = _Index(PendingSearchDocument.__table__, "pending_search_fts", pending=True)  # type: ignore[attr-defined]


def _fts_query(terms: Sequence[str]) -> str:
    # Each term quoted: FTS5 reads it as a plain string, whatever it holds.
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _hits(dialect: str, terms: Sequence[str], include_drafts: bool, scored: bool = True) -> Any:
    """Every matching search document with its score, higher is better (0 unless `scored`).
    The public's are the live ones; editors' those of the pending version where there is one."""
    live = _index_hits(_LIVE, dialect, terms, include_drafts, scored)
    if not include_drafts:
        return live.subquery("hits")
    pending_articles = sa.select(_PENDING.table.c.article_id)
    live = live.where(_LIVE.table.c.article_id.not_in(pending_articles))
    pending = _index_hits(_PENDING, dialect, terms, include_drafts, scored)
    return sa.union_all(live, pending).subquery("hits")


def _index_hits(
    index: _Index, dialect: str, terms: Sequence[str], include_drafts: bool, scored: bool
) -> Any:
    table = index.table
    if dialect == "sqlite":
        fts = sa.table(index.fts, sa.column("rowid"))
        fts_name: Any = sa.literal_column(index.fts)
        score: Any = -sa.func.bm25(fts_name, *_SQLITE_WEIGHTS)
        source: Any = fts.join(table, table.c.id == fts.c.rowid)
        match = fts_name.op("MATCH")(_fts_query(terms))
    else:
        vector: Any = sa.literal_column(f"{table.name}.{_PG_VECTOR}")
        tsquery = sa.func.websearch_to_tsquery(
            sa.literal_column("'english'::regconfig"), " ".join(terms)
        )
        score = sa.cast(sa.func.ts_rank(vector, tsquery), sa.Float)
        source = table
        match = vector.op("@@")(tsquery)
    statement = (
        sa.select(
            table.c.article_id.label("article_id"),
            table.c.id.label("document_id"),
            table.c.part.label("part"),
            table.c.slug.label("part_slug"),
            (score if scored else sa.literal(0.0)).label("score"),
            sa.literal(index.pending).label("pending"),
        )
        .select_from(source)
        .where(match)
    )
    if not include_drafts:
        statement = statement.where(item_is_public(table))
    return statement


def _best_per_article(dialect: str, terms: Sequence[str], include_drafts: bool) -> Any:
    """One row per visible matching article: the article and its best part."""
    hits = _hits(dialect, terms, include_drafts)
    place = sa.func.row_number().over(
        partition_by=hits.c.article_id, order_by=(hits.c.score.desc(), hits.c.document_id)
    )
    return (
        visible_articles(include_drafts)
        .join(hits, hits.c.article_id == Article.id)
        .add_columns(
            hits.c.document_id,
            hits.c.part,
            hits.c.part_slug,
            hits.c.score,
            hits.c.pending,
            place.label("place"),
        )
        .subquery("best")
    )


def _dialect(session: ReadSession) -> str:
    return session.get_bind().dialect.name


async def search_page(
    session: ReadSession,
    terms: Sequence[str],
    *,
    after: tuple[float, str] | None,
    limit: int,
    include_drafts: bool,
    at_or_before: bool = False,
) -> list[SearchHit]:
    """Up to `limit` matching articles, best first, ties by slug, after the (score, slug)
    cursor. With `at_or_before`, the articles up to and including the cursor instead."""
    best = _best_per_article(_dialect(session), terms, include_drafts)
    article = aliased(Article, best)
    statement = sa.select(
        article, best.c.document_id, best.c.part, best.c.part_slug, best.c.score, best.c.pending
    )
    statement = statement.where(best.c.place == 1)
    if after is not None:
        score, slug = after
        beyond = sa.or_(best.c.score < score, sa.and_(best.c.score == score, best.c.slug > slug))
        statement = statement.where(sa.not_(beyond) if at_or_before else beyond)
    statement = statement.order_by(best.c.score.desc(), best.c.slug).limit(limit)
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return [
        SearchHit(article=row, document_id=document_id, part=SearchPart(part),
                  part_slug=part_slug, score=float(score), pending=bool(pending))
        for row, document_id, part, part_slug, score, pending in rows
    ]  # fmt: skip


async def count_search_hits(
    session: ReadSession, terms: Sequence[str], *, include_drafts: bool
) -> int:
    # No ranking needed to count: matching visible articles, each once.
    hits = _hits(_dialect(session), terms, include_drafts, scored=False)
    matched = visible_articles(include_drafts).where(
        col(Article.id).in_(sa.select(hits.c.article_id))
    )
    statement = select(sa.func.count()).select_from(matched.subquery())
    return int((await session.exec(statement)).one())


async def search_excerpts(
    session: ReadSession, terms: Sequence[str], hits: Sequence[SearchHit]
) -> dict[tuple[bool, int], str]:
    """A short passage of each hit's search document around its matches (by `SearchHit.key`),
    which are put between `MATCH_START` and `MATCH_END`; an ellipsis where the passage cuts
    the text. One statement."""
    read = [index for index in (_LIVE, _PENDING) if any(h.pending is index.pending for h in hits)]
    if not read:
        return {}
    params: dict[str, Any] = {
        f"ids{int(index.pending)}": [h.document_id for h in hits if h.pending is index.pending]
        for index in read
    }
    if _dialect(session) == "sqlite":
        sqlite_statement = sa.text(
            " UNION ALL ".join(
                f"SELECT {int(index.pending)}, rowid, "
                f"snippet({index.fts}, -1, :start, :end, :ellipsis, :words) FROM {index.fts} "
                f"WHERE {index.fts} MATCH :query AND rowid IN :ids{int(index.pending)}"
                for index in read
            )
        ).bindparams(*(sa.bindparam(name, expanding=True) for name in params))
        params |= {
            "start": MATCH_START,
            "end": MATCH_END,
            "ellipsis": ELLIPSIS,
            "words": EXCERPT_WORDS,
            "query": _fts_query(terms),
        }
        rows = (await session.exec(sqlite_statement, params=params)).all()  # type: ignore[call-overload]
        return {(bool(pending), document_id): excerpt for pending, document_id, excerpt in rows}
    documents = " UNION ALL ".join(
        f"SELECT {int(index.pending)} AS pending, id, body, title FROM {index.table.name} "
        f"WHERE id IN :ids{int(index.pending)}"
        for index in read
    )
    pg_statement = sa.text(
        "SELECT pending, id, source, ts_headline('english', source, q, :options) FROM "
        "(SELECT d.pending, d.id, q, CASE WHEN to_tsvector('english', d.body) @@ q THEN d.body "
        f"ELSE d.title END AS source FROM ({documents}) AS d, "
        "websearch_to_tsquery('english', :query) AS q) AS chosen"
    ).bindparams(*(sa.bindparam(name, expanding=True) for name in params))
    options = (
        f"StartSel={MATCH_START}, StopSel={MATCH_END}, "
        f"MaxWords={EXCERPT_WORDS}, MinWords={EXCERPT_WORDS // 2}, ShortWord=0"
    )
    params |= {"options": options, "query": " ".join(terms)}
    rows = (await session.exec(pg_statement, params=params)).all()  # type: ignore[call-overload]
    return {
        (bool(pending), document_id): _with_ellipses(source, excerpt)
        for pending, document_id, source, excerpt in rows
    }


def _with_ellipses(source: str, excerpt: str) -> str:
    """Mark where `ts_headline` cut the text, as FTS5's `snippet` does."""
    plain = excerpt.replace(MATCH_START, "").replace(MATCH_END, "").strip()
    text = source.strip()
    excerpt = excerpt.strip()
    if plain and not text.startswith(plain):
        excerpt = ELLIPSIS + excerpt
    if plain and not text.endswith(plain):
        excerpt += ELLIPSIS
    return excerpt

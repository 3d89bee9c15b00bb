"""A large catalogue of made-up articles, inserted in bulk, for measuring pagination at scale.

Rows go in through SQLAlchemy Core `executemany` in batches inside one transaction, bypassing the
ORM and `cms.content`'s per-article write path: 100,000 articles with their children would take
minutes one document at a time, and here they take seconds. Slugs are `article-000000` onwards, so
slug order (the API's order) is insertion order and the last page's cursor is known in advance.

    python -m bench.catalogue sqlite:///catalogue.db --articles 100000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from cms.db import create_engine, create_schema
from cms.models import (
    Article,
    ArticleStatus,
    Author,
    Benefit,
    NutritionTip,
    Precaution,
    Section,
    SectionKind,
    TipKind,
    utc_now,
)
from cms.settings import Settings

__all__ = ["article_slug", "generate_catalogue"]

BATCH = 5_000
AUTHORS = 50


def _table(model: type[SQLModel]) -> sa.Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


def article_slug(n: int) -> str:
    return f"article-{n:06d}"


async def _create_schema(database_url: str) -> None:
    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    try:
        await create_schema(engine)
    finally:
        await engine.dispose()


def _sync_url(database_url: str) -> str:
    url = sa.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _body(n: int, what: str) -> str:
    return (
        f"{what} number **{n}** of the generated catalogue. It reads like prose, with a "
        f"[link](https://example.org/{n}) and *emphasis*, so rendering it costs what real "
        "content costs.\n"
    )


def _article_rows(
    first_id: int, start: int, count: int, author_ids: list[int]
) -> Iterator[dict[str, Any]]:
    published_at = utc_now() - timedelta(days=1)
    for n in range(start, start + count):
        yield dict(
            id=first_id + n - start, slug=article_slug(n), title=f"Generated article {n}",
            headline=f"A generated article, number {n}", intro=_body(n, "Intro"),
            conclusion_title="In short", conclusion=_body(n, "Conclusion"),
            status=ArticleStatus.PUBLISHED, published_at=published_at, version=1,
            author_id=author_ids[n % len(author_ids)], created_at=published_at,
            updated_at=published_at,
        )  # fmt: skip


def _child_rows(article_id: int, n: int) -> dict[Any, list[dict[str, Any]]]:
    def row(position: int, slug: str, title: str, **extra: Any) -> dict[str, Any]:
        return dict(
            article_id=article_id, position=position, slug=slug, title=title,
            body=_body(n, title), is_draft=False, **extra,
        )  # fmt: skip

    return {
        _table(Section): [
            row(0, "overview", "Overview", kind=SectionKind.PROSE),
            row(1, "benefits", "Benefits", kind=SectionKind.BENEFITS),
        ],
        _table(Benefit): [row(i, f"benefit-{i}", f"Benefit {i}") for i in range(3)],
        _table(NutritionTip): [row(0, "water", "Water", kind=TipKind.HYDRATION)],
        _table(Precaution): [row(0, "ask-first", "Ask first")],
    }


def generate_catalogue(database_url: str, *, articles: int) -> int:
    """Append `articles` published articles (with 2 sections, 3 benefits, a tip and a precaution
    each) to the database at `database_url`, creating its tables if needed. Returns the count."""
    asyncio.run(_create_schema(database_url))
    engine = sa.create_engine(_sync_url(database_url))
    try:
        with engine.begin() as connection:
            author_id = connection.execute(sa.select(sa.func.max(_table(Author).c.id))).scalar()
            article_id = connection.execute(sa.select(sa.func.max(_table(Article).c.id))).scalar()
            first_author = (author_id or 0) + 1
            first_article = (article_id or 0) + 1
            now = utc_now()
            author_ids = list(range(first_author, first_author + AUTHORS))
            connection.execute(
                sa.insert(_table(Author)),
                [
                    dict(id=i, slug=f"generated-author-{i}", name=f"Author {i}",
                         bio=_body(i, "Bio"), created_at=now, updated_at=now)
                    for i in author_ids
                ],
            )  # fmt: skip
            for start in range(0, articles, BATCH):
                count = min(BATCH, articles - start)
                first_id = first_article + start
                connection.execute(
                    sa.insert(_table(Article)),
                    list(_article_rows(first_id, start, count, author_ids)),
                )
                children: dict[Any, list[dict[str, Any]]] = {}
                for offset in range(count):
                    for table, rows in _child_rows(first_id + offset, start + offset).items():
                        children.setdefault(table, []).extend(rows)
                for table, rows in children.items():
                    connection.execute(sa.insert(table), rows)
            if engine.dialect.name == "postgresql":
                # Ids were given explicitly, so the sequences must be told where they stand.
                for table in ("author", "article"):
                    connection.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
    finally:
        engine.dispose()
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", help="sqlite:///path.db or postgresql://user@host/db")
    parser.add_argument("--articles", type=int, default=100_000)
    arguments = parser.parse_args()
    started = time.perf_counter()
    count = generate_catalogue(arguments.database_url, articles=arguments.articles)
    print(f"{count} articles in {time.perf_counter() - started:.1f}s")  # noqa: T201


if __name__ == "__main__":
    main()

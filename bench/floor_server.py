"""The floor: the same API written the obvious way, to show what the CMS's design buys.

Strawberry types over SQLModel with one resolver and one query per relation (N+1 on lists), a new
session per resolver, and Markdown rendered and sanitised again on every request. It answers the
benchmark's queries with the same field names, shape and data as the CMS, nothing more.

Serve it with `uvicorn --factory bench.floor_server:create_app_from_env` (reads CMS_DATABASE_URL).
"""

from __future__ import annotations

import base64
import enum
import os
from typing import Any

import nh3
import strawberry
from markdown_it import MarkdownIt
from sqlalchemy import func
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, create_engine, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import Info

from cms import models
from cms.settings import Settings
from cms.snippets import DISCLAIMER

SITE_URL = Settings().site_url

__all__ = ["create_app_from_env", "create_floor_app", "sync_database_url"]

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}


@strawberry.enum
class TextFormat(enum.Enum):
    MARKDOWN = "markdown"
    HTML = "html"


@strawberry.enum
class SectionKind(enum.Enum):
    PROSE = "prose"
    BENEFITS = "benefits"
    NUTRITION = "nutrition"
    PRECAUTIONS = "precautions"


@strawberry.enum
class TipKind(enum.Enum):
    NUTRITION = "nutrition"
    HYDRATION = "hydration"


def render(markdown: str, format: TextFormat) -> str:
    if format is TextFormat.MARKDOWN:
        return markdown
    html = nh3.clean(
        _markdown.render(markdown),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return html.strip()


def _session(info: Info) -> Session:
    engine: Engine = info.context["engine"]
    return Session(engine)


def _visible(statement: Any) -> Any:
    return statement.where(
        col(models.Article.status) == models.ArticleStatus.PUBLISHED,
        col(models.Article.published_at) <= models.utc_now(),
    )


def _children(info: Info, model: type[models.ItemRow], article_id: int) -> list[Any]:
    with _session(info) as session:
        statement = (
            select(model)
            .where(col(model.article_id) == article_id, col(model.is_draft).is_(False))
            .order_by(col(model.position))
        )
        return list(session.exec(statement).all())


@strawberry.type
class Author:
    name: str
    bio_markdown: strawberry.Private[str]

    @strawberry.field
    def bio(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.bio_markdown, format)


@strawberry.type
class Section:
    slug: str
    title: str
    position: int
    kind: SectionKind
    body_markdown: strawberry.Private[str]

    @strawberry.field
    def body(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.body_markdown, format)


@strawberry.type
class Benefit:
    slug: str
    title: str
    position: int
    body_markdown: strawberry.Private[str]

    @strawberry.field
    def body(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.body_markdown, format)


@strawberry.type
class NutritionTip:
    slug: str
    title: str
    position: int
    kind: TipKind
    body_markdown: strawberry.Private[str]

    @strawberry.field
    def body(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.body_markdown, format)


@strawberry.type
class Precaution:
    slug: str
    title: str
    position: int
    body_markdown: strawberry.Private[str]

    @strawberry.field
    def body(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.body_markdown, format)


@strawberry.type
class Conclusion:
    title: str
    body_markdown: strawberry.Private[str]

    @strawberry.field
    def body(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.body_markdown, format)


@strawberry.type
class Article:
    row: strawberry.Private[models.Article]

    @strawberry.field
    def slug(self) -> str:
        return self.row.slug

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def headline(self) -> str:
        return self.row.headline

    @strawberry.field
    def intro(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.row.intro, format)

    @strawberry.field
    def author(self, info: Info) -> Author:
        with _session(info) as session:
            row = session.get_one(models.Author, self.row.author_id)
        return Author(name=row.name, bio_markdown=row.bio)

    @strawberry.field
    def sections(self, info: Info) -> list[Section]:
        return [
            Section(slug=row.slug, title=row.title, position=row.position,
                    kind=SectionKind(row.kind.value), body_markdown=row.body)
            for row in _children(info, models.Section, self._id)
        ]  # fmt: skip

    @strawberry.field
    def benefits(self, info: Info) -> list[Benefit]:
        return [
            Benefit(slug=row.slug, title=row.title, position=row.position, body_markdown=row.body)
            for row in _children(info, models.Benefit, self._id)
        ]

    @strawberry.field
    def nutrition_tips(self, info: Info, kind: TipKind | None = None) -> list[NutritionTip]:
        tips = [
            NutritionTip(slug=row.slug, title=row.title, position=row.position,
                         kind=TipKind(row.kind.value), body_markdown=row.body)
            for row in _children(info, models.NutritionTip, self._id)
        ]  # fmt: skip
        return [tip for tip in tips if kind is None or tip.kind == kind]

    @strawberry.field
    def precautions(self, info: Info) -> list[Precaution]:
        return [
            Precaution(slug=row.slug, title=row.title, position=row.position,
                       body_markdown=row.body)
            for row in _children(info, models.Precaution, self._id)
        ]  # fmt: skip

    @strawberry.field
    def conclusion(self) -> Conclusion | None:
        if not self.row.conclusion_title and not self.row.conclusion:
            return None
        return Conclusion(title=self.row.conclusion_title, body_markdown=self.row.conclusion)

    @property
    def _id(self) -> int:
        assert self.row.id is not None
        return self.row.id


@strawberry.type
class SnippetArticle:
    title: str
    url: str
    author_name: str


@strawberry.type
class BenefitSnippet:
    slug: str
    title: str
    url: str
    disclaimer: str
    article: SnippetArticle
    precautions: list[Precaution]
    body_markdown: strawberry.Private[str]

    @strawberry.field
    def body(self, format: TextFormat = TextFormat.MARKDOWN) -> str:
        return render(self.body_markdown, format)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class ArticleConnection:
    nodes: list[Article]
    page_info: PageInfo

    @strawberry.field
    def total_count(self, info: Info) -> int:
        with _session(info) as session:
            return int(session.exec(_visible(select(func.count(col(models.Article.id))))).one())


def _cursor(slug: str) -> str:
    return base64.urlsafe_b64encode(f"v1:slug:{slug}".encode()).decode().rstrip("=")


def _slug_of(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    return base64.urlsafe_b64decode(padded).decode().removeprefix("v1:slug:")


@strawberry.type
class Query:
    @strawberry.field
    def article(self, info: Info, slug: str) -> Article | None:
        with _session(info) as session:
            statement = _visible(select(models.Article).where(models.Article.slug == slug))
            row = session.exec(statement).first()
        return Article(row=row) if row else None

    @strawberry.field
    def benefit_snippet(self, info: Info, article: str, benefit: str) -> BenefitSnippet | None:
        with _session(info) as session:
            statement = _visible(select(models.Article).where(models.Article.slug == article))
            row = session.exec(statement).first()
            if row is None:
                return None
            author = session.get_one(models.Author, row.author_id)
            claim = session.exec(
                select(models.Benefit).where(
                    models.Benefit.article_id == row.id, models.Benefit.slug == benefit,
                    col(models.Benefit.is_draft).is_(False),
                )
            ).first()  # fmt: skip
        precautions = _children(info, models.Precaution, row.id) if claim else []
        if claim is None or not precautions:
            return None
        url = f"{SITE_URL}/articles/{row.slug}"
        return BenefitSnippet(
            slug=claim.slug, title=claim.title, url=f"{url}#{claim.slug}",
            disclaimer=DISCLAIMER, body_markdown=claim.body,
            article=SnippetArticle(title=row.title, url=url, author_name=author.name),
            precautions=[
                Precaution(slug=p.slug, title=p.title, position=p.position, body_markdown=p.body)
                for p in precautions
            ],
        )  # fmt: skip

    @strawberry.field
    def articles(self, info: Info, first: int = 20, after: str | None = None) -> ArticleConnection:
        after_slug = _slug_of(after) if after else None
        with _session(info) as session:
            statement = _visible(select(models.Article))
            if after_slug is not None:
                statement = statement.where(col(models.Article.slug) > after_slug)
            statement = statement.order_by(col(models.Article.slug)).limit(first + 1)
            rows = list(session.exec(statement).all())
            has_previous = False
            if after_slug is not None:
                before = _visible(select(models.Article.id)).where(
                    col(models.Article.slug) <= after_slug
                )
                has_previous = session.exec(before.limit(1)).first() is not None
        nodes = [Article(row=row) for row in rows[:first]]
        return ArticleConnection(
            nodes=nodes,
            page_info=PageInfo(
                has_next_page=len(rows) > first,
                has_previous_page=has_previous,
                start_cursor=_cursor(nodes[0].row.slug) if nodes else None,
                end_cursor=_cursor(nodes[-1].row.slug) if nodes else None,
            ),
        )


class _FloorGraphQL(GraphQL[dict[str, Any], None]):
    def __init__(self, engine: Engine) -> None:
        super().__init__(strawberry.Schema(query=Query), graphql_ide=None)
        self.engine = engine

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, Any]:
        return {"engine": self.engine}


def sync_database_url(url: str) -> str:
    """The CMS's plain URLs, with a synchronous driver (pysqlite, psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_floor_app(database_url: str) -> Starlette:
    engine = create_engine(sync_database_url(database_url))
    app = Starlette(routes=[Route("/graphql", _FloorGraphQL(engine), methods=["GET", "POST"])])
    app.state.engine = engine
    return app


def create_app_from_env() -> Starlette:
    return create_floor_app(os.environ["CMS_DATABASE_URL"])

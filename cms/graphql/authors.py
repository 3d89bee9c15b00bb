"""Authors over GraphQL: `authors`, `author(slug)`, `authorCreate` and `authorUpdate`.

An author is shared by the articles that name it, so only these mutations change one
(`cms.authors`); an update that reaches a public byline needs `content:publish`.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from pydantic import ValidationError

from cms import authors, models
from cms.access import Scope
from cms.documents import AuthorDocument, field_path, validation_problems
from cms.errors import ContentProblem, InvalidContent
from cms.graphql.context import Info
from cms.graphql.mutations import ContentError, VersionArgument, run_write
from cms.graphql.types import Article, Author

__all__ = ["AuthorMutations", "AuthorQuery"]

AuthorSlugArgument = Annotated[str, strawberry.argument(description="The author's slug.")]


@strawberry.input(description="A new author.")
class AuthorCreateInput:
    slug: str = strawberry.field(description="Stable, URL-safe identifier, unique.")
    name: str = strawberry.field(description="The name shown in bylines and attributions.")
    bio: str = strawberry.field(default="", description="A short biography, in Markdown.")


@strawberry.input(description="The fields of an author to change; those left out stay.")
class AuthorUpdateInput:
    name: str | None = strawberry.field(
        default=None, description="The name shown in bylines and attributions."
    )
    bio: str | None = strawberry.field(default=None, description="A short biography, Markdown.")


@strawberry.type(description="The author after the change, or why it was refused.")
class AuthorPayload:
    author: Author | None = strawberry.field(description="The author; null when refused.")
    affected_articles: list[Article] = strawberry.field(
        description="Every article whose byline the change reached (each got a new version, a "
        "revision and a change event); empty when refused or nothing changed."
    )
    errors: list[ContentError] = strawberry.field(description="Why the change was refused.")


def _document(data: dict[str, Any]) -> AuthorDocument:
    try:
        return AuthorDocument.model_validate(data)
    except ValidationError as error:
        raise InvalidContent(
            [ContentProblem("", field_path(loc), msg) for loc, msg in validation_problems(error)]
        ) from None


def _at_input(path: str) -> str | None:
    return f"input.{path}" if path and path != "slug" else "slug"


@strawberry.type
class AuthorQuery:
    @strawberry.field(description="Every author, by slug.")
    async def authors(self, info: Info) -> list[Author]:
        rows = await info.context.db.run(authors.list_authors)
        return [Author.from_row(row) for row in rows]

    @strawberry.field(description="The author with this slug; null when there is none.")
    async def author(self, info: Info, slug: AuthorSlugArgument) -> Author | None:
        row = await info.context.db.run(authors.get_author, slug)
        return Author.from_row(row) if row else None


@strawberry.type
class AuthorMutations:
    @strawberry.mutation(
        description="Create an author, for articles to reference by slug. Needs `content:write`."
    )
    async def author_create(
        self,
        info: Info,
        input: Annotated[AuthorCreateInput, strawberry.argument(description="The new author.")],
    ) -> AuthorPayload:
        info.context.principal.require(Scope.WRITE)
        data = {"slug": input.slug, "name": input.name, "bio": input.bio}

        async def operation(session: Any) -> models.Author:
            return await authors.create_author(session, _document(data))

        row, errors, _ = await run_write(
            info, operation, locate=lambda p: f"input.{p}" if p else None
        )
        return AuthorPayload(
            author=Author.from_row(row) if row else None, affected_articles=[], errors=errors
        )

    @strawberry.mutation(
        description="Change an author, and so the byline of every article naming it: each "
        "such article gets a new version, a revision and a change event (`affectedArticles`). "
        "Needs `content:write`, and `content:publish` when one of those articles is published."
    )
    async def author_update(
        self,
        info: Info,
        slug: AuthorSlugArgument,
        expected_version: VersionArgument,
        input: Annotated[
            AuthorUpdateInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> AuthorPayload:
        principal = info.context.principal
        principal.require(Scope.WRITE)
        actor = principal.name

        async def operation(session: Any) -> authors.AuthorUpdate:
            # Checked in the transaction that writes, so a publication meanwhile counts.
            if not principal.can(Scope.PUBLISH) and await authors.has_public_byline(session, slug):
                principal.require(Scope.PUBLISH)
            stored = await authors.get_author(session, slug)
            current = authors.author_document(stored) if stored else None
            data = {
                "slug": slug,
                "name": input.name if input.name is not None else (current.name if current else ""),
                "bio": input.bio if input.bio is not None else (current.bio if current else ""),
            }
            if current is None:
                data["name"] = data["name"] or slug
            return await authors.update_author(
                session, _document(data), expected_version=expected_version, actor=actor
            )

        update, errors, _ = await run_write(info, operation, locate=_at_input)
        if update is None:
            return AuthorPayload(author=None, affected_articles=[], errors=errors)
        return AuthorPayload(
            author=Author.from_row(update.author),
            affected_articles=[Article.from_row(row) for row in update.articles],
            errors=[],
        )

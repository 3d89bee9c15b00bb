"""Reviewers and medical reviews over GraphQL: the `Reviewer` and `Review` types, the
`reviewer` query, and the review mutations (`articleApproveReview`, ...)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Self

import strawberry

from cms import content, models, reviewers, reviews
from cms.access import Scope
from cms.documents import validate_model
from cms.errors import BadUserInput, Forbidden, NotFound
from cms.graphql import enums as enums  # registers the enums first
from cms.graphql.context import Info
from cms.graphql.inputs import provided_fields
from cms.graphql.mutations import ArticlePayload, ContentError, VersionArgument, run_write
from cms.graphql.types import Article
from cms.models import ArticleStatus, ReviewAction, utc_now
from cms.preview_links import MAX_EXPIRES_IN, sign_preview
from cms.reviewers import ReviewerDocument

__all__ = [
    "PreviewMutations",
    "Review",
    "ReviewEvent",
    "ReviewMutations",
    "Reviewer",
    "ReviewerQuery",
]


@strawberry.type(description="A clinician who medically reviews articles.")
class Reviewer:
    slug: str = strawberry.field(description="Stable, URL-safe identifier.")
    name: str = strawberry.field(description="The name shown in review lines.")
    credentials: str = strawberry.field(description="Qualifications, e.g. `MD`, `PT`, `RD`.")
    job_title: str = strawberry.field(description="e.g. `Consultant physiotherapist`.")
    specialty: str = strawberry.field(description="e.g. `Musculoskeletal medicine`.")
    registration_number: str | None = strawberry.field(
        description="Professional registration, e.g. `GMC 1234567`."
    )
    profile_url: str | None = strawberry.field(description="A public profile page.")
    version: int = strawberry.field(description="Increases with every change (`reviewerUpdate`).")

    @classmethod
    def from_row(cls, row: models.Reviewer) -> Self:
        return cls(
            slug=row.slug, name=row.name, credentials=row.credentials, job_title=row.job_title,
            specialty=row.specialty, registration_number=row.registration_number,
            profile_url=row.profile_url, version=row.version,
        )  # fmt: skip


@strawberry.type(description="An approval of an article's text by a reviewer.")
class Review:
    reviewer: Reviewer = strawberry.field(description="Who approved it.")
    version: int = strawberry.field(description="The article version they approved.")
    reviewed_on: date = strawberry.field(description="When they approved it.")
    next_review_due: date | None = strawberry.field(
        description="When the review runs out; the status is OVERDUE after it."
    )
    note: str = strawberry.field(description="The reviewer's note.")
    content_hash: str = strawberry.field(
        description="SHA-256 of the canonical JSON of the text approved (title, intro, every "
        "published item's text, conclusion); empty when unknown (a review from before 0012)."
    )

    @classmethod
    def of(cls, review: reviews.Review) -> Self:
        row = review.row
        assert row.reviewed_on is not None
        return cls(
            reviewer=Reviewer.from_row(review.reviewer), version=row.version,
            reviewed_on=row.reviewed_on, next_review_due=row.next_review_due, note=row.note,
            content_hash=row.content_hash,
        )  # fmt: skip


@strawberry.type(description="One step of an article's medical review.")
class ReviewEvent:
    action: ReviewAction = strawberry.field(description="What happened.")
    version: int = strawberry.field(description="The article version it happened at.")
    note: str = strawberry.field(description="What the reviewer or editor wrote.")
    actor: str = strawberry.field(description="The token that did it.")
    created_at: datetime = strawberry.field(description="When.")


@strawberry.type
class ReviewerQuery:
    @strawberry.field(description="A reviewer by slug; null when there is none.")
    async def reviewer(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The reviewer's slug.")],
    ) -> Reviewer | None:
        row = await info.context.db.run(reviewers.get_reviewer, slug)
        return Reviewer.from_row(row) if row else None


@strawberry.input(description="A reviewer's details.")
class ReviewerInput:
    slug: str = strawberry.field(description="Stable, URL-safe identifier.")
    name: str = strawberry.field(description="The name shown in review lines.")
    credentials: str = strawberry.field(description="Qualifications, e.g. `MD`, `PT`, `RD`.")
    job_title: str = strawberry.field(default="", description="e.g. `Physiotherapist`.")
    specialty: str = strawberry.field(default="", description="e.g. `Sports medicine`.")
    registration_number: str | None = strawberry.field(
        default=None, description="Professional registration, e.g. `GMC 1234567`."
    )
    profile_url: str | None = strawberry.field(
        default=None, description="A public profile page: an http(s) address."
    )


@strawberry.type(description="The reviewer after the edit, or why the edit was refused.")
class ReviewerPayload:
    reviewer: Reviewer | None = strawberry.field(description="Null when refused.")
    errors: list[ContentError] = strawberry.field(description="Why it was refused.")


ReviewerInputArgument = Annotated[
    ReviewerInput, strawberry.argument(description="The reviewer's details.")
]
SlugArgument = Annotated[str, strawberry.argument(description="The article's slug.")]
NoteArgument = Annotated[str, strawberry.argument(description="A note for the record.")]


def _reviewer_document(input: ReviewerInput) -> ReviewerDocument:
    return validate_model(ReviewerDocument, provided_fields(input))


async def _article_payload(info: Info, operation: Any) -> ArticlePayload:
    # Problems name the argument at fault (`reviewer`, `version`). The article reads as its
    # editors see it: its pending version while it has one.
    row, errors, warnings = await run_write(info, operation, lambda path: path or None)
    (article,) = await Article.for_locale(info, [row], None) if row else [None]
    return ArticlePayload(article=article, errors=errors, warnings=warnings)


async def _locked(session: Any, slug: str) -> models.Article:
    article = await content.locked_article(session, slug)
    if article is None:
        raise NotFound(f"No article {slug!r}.")
    return article


@strawberry.type
class ReviewMutations:
    @strawberry.mutation(description="Add a reviewer. Needs `content:write`.")
    async def reviewer_create(self, info: Info, input: ReviewerInputArgument) -> ReviewerPayload:
        info.context.principal.require(Scope.WRITE)

        async def operation(session: Any) -> models.Reviewer:
            return await reviewers.create_reviewer(session, _reviewer_document(input))

        row, errors, _ = await run_write(info, operation)
        return ReviewerPayload(reviewer=Reviewer.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Change a reviewer (every field; the slug stays). Needs `content:write`, "
        "and `content:publish` when they approved a published article (its review shows them)."
    )
    async def reviewer_update(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The reviewer's slug.")],
        expected_version: VersionArgument,
        input: ReviewerInputArgument,
    ) -> ReviewerPayload:
        principal = info.context.principal
        principal.require(Scope.WRITE)

        async def operation(session: Any) -> models.Reviewer:
            # Checked in the transaction that writes, so an approval meanwhile counts.
            if not principal.can(Scope.PUBLISH) and any(
                article.status is ArticleStatus.PUBLISHED
                for article in await reviewers.reviewed_articles(session, slug)
            ):
                principal.require(Scope.PUBLISH)
            document = _reviewer_document(input).model_copy(update={"slug": slug})
            return await reviewers.update_reviewer(
                session, document, expected_version=expected_version
            )

        row, errors, _ = await run_write(info, operation)
        return ReviewerPayload(reviewer=Reviewer.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Ask for a medical review of the article as it is now. Needs `content:write`."
    )
    async def article_submit_for_review(
        self, info: Info, slug: SlugArgument, note: NoteArgument = ""
    ) -> ArticlePayload:
        info.context.principal.require(Scope.WRITE)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            article = await _locked(session, slug)
            await reviews.record_review_step(
                session, article=article, action=ReviewAction.SUBMITTED, note=note, actor=actor
            )
            return article

        return await _article_payload(info, operation)

    @strawberry.mutation(
        description="Approve `version` of the article medically, as `reviewer`: the review "
        "covers exactly that text (its hash), and reads CURRENT while the live text is it. "
        "Needs `content:review`."
    )
    async def article_approve_review(
        self,
        info: Info,
        slug: SlugArgument,
        version: Annotated[int, strawberry.argument(description="The version you reviewed.")],
        reviewer: Annotated[str, strawberry.argument(description="The reviewer's slug.")],
        note: NoteArgument = "",
    ) -> ArticlePayload:
        info.context.principal.require(Scope.REVIEW)
        actor = info.context.principal.name
        interval = info.context.settings.review_interval_days

        async def operation(session: Any) -> models.Article:
            article = await _locked(session, slug)
            await reviews.approve_review(
                session, article=article, version=version, reviewer_slug=reviewer, note=note,
                actor=actor, interval_days=interval,
            )  # fmt: skip
            return article

        return await _article_payload(info, operation)

    @strawberry.mutation(
        description="Send the article back to its editors with what to change. Needs "
        "`content:review`."
    )
    async def article_request_changes(
        self, info: Info, slug: SlugArgument, note: NoteArgument
    ) -> ArticlePayload:
        info.context.principal.require(Scope.REVIEW)
        actor = info.context.principal.name

        async def operation(session: Any) -> models.Article:
            article = await _locked(session, slug)
            await reviews.record_review_step(
                session, article=article, action=ReviewAction.CHANGES_REQUESTED, note=note,
                actor=actor,
            )  # fmt: skip
            return article

        return await _article_payload(info, operation)


@strawberry.type(description="A signed, expiring link to one article's current version.")
class PreviewLink:
    url: str = strawberry.field(
        description="Opens the article as its next publication would show it, read-only; "
        "anyone with the link can read it until it expires."
    )
    expires_at: datetime = strawberry.field(description="When the link stops working.")


@strawberry.type
class PreviewMutations:
    @strawberry.mutation(
        description="A link for a reviewer without an account to read the article's current "
        "(not yet public) version. Needs `content:review` or `content:publish`."
    )
    async def article_preview_link(
        self,
        info: Info,
        slug: SlugArgument,
        expires_in: Annotated[
            int,
            strawberry.argument(description="Seconds until the link expires; at most 14 days."),
        ] = 86400,
    ) -> PreviewLink:
        principal = info.context.principal
        principal.require(Scope.READ_DRAFTS)
        if not (principal.can(Scope.REVIEW) or principal.can(Scope.PUBLISH)):
            raise Forbidden(
                f"Your token {principal.name!r} lacks the scope 'content:review' or "
                "'content:publish'."
            )
        if not 60 <= expires_in <= MAX_EXPIRES_IN.total_seconds():
            raise BadUserInput("expiresIn must be between 60 seconds and 14 days.")
        if await info.context.loaders.article_by_slug.load(slug) is None:
            raise NotFound(f"No article {slug!r}.")
        settings = info.context.settings
        expires_at = utc_now() + timedelta(seconds=expires_in)
        token = sign_preview(slug, expires_at, settings.preview_secret)
        base = settings.public_url or str(info.context.request.base_url).rstrip("/")
        return PreviewLink(url=f"{base}/preview/{token}", expires_at=expires_at)

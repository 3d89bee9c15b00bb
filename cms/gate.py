"""The content gate: the editorial rules of `cms.lint` run on every save of an article. Errors
refuse a save that would make content public (unless overridden, with a reason, recorded in the
revision); every other finding comes back as a warning. Called by `cms.content` for saves of
the live version and by `cms.working_copies` for saves of a pending one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import sqlalchemy as sa

from cms import reviews
from cms.db import WriteSession
from cms.documents import ArticleDocument, ReviewDocument
from cms.errors import ContentProblem, ContentRuleBroken, InvalidContent
from cms.lint import Finding, LintRules, Rule, Severity, check_document
from cms.models import Article, ArticleStatus, Revision, utc_now
from cms.settings import Settings

__all__ = [
    "RuleOverride",
    "WriteRules",
    "check_pending",
    "check_save",
    "check_scheduled",
    "gated_writes",
    "write_rules",
]


@dataclass(frozen=True)
class RuleOverride:
    """Publish despite these rules, for this reason (kept in the revision)."""

    rules: frozenset[Rule]
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            message = "an override needs a reason"
            raise InvalidContent([ContentProblem("", "override.reason", message)])


@dataclass(frozen=True)
class WriteRules:
    lint: LintRules = field(default_factory=LintRules)
    require_review: bool = False
    review_interval_days: int = 365


def write_rules(settings: Settings, *, warnings: bool = True) -> WriteRules:
    """The rules of `settings`; without `warnings` (a caller that drops them, such as
    `cms seed`) only the rules that can refuse a save run."""
    lint = LintRules(
        absolute_claims=settings.lint_absolute_claims,
        review_max_age_days=settings.review_interval_days,
        site_url=settings.site_url,
        warnings=warnings,
    )
    return WriteRules(
        lint=lint,
        require_review=settings.require_review,
        review_interval_days=settings.review_interval_days,
    )


@dataclass
class _Run:
    rules: WriteRules
    override: RuleOverride | None
    actor: str
    warnings: list[Finding] = field(default_factory=list)


_RUN: ContextVar[_Run | None] = ContextVar("cms_gate_run", default=None)


@contextmanager
def gated_writes(
    rules: WriteRules, *, override: RuleOverride | None = None, actor: str = "system"
) -> Iterator[list[Finding]]:
    """Saves inside use `rules` and `override`; yields the list their warnings are added to."""
    run = _Run(rules, override, actor)
    token = _RUN.set(run)
    try:
        yield run.warnings
    finally:
        _RUN.reset(token)


def check_pending(document: ArticleDocument) -> None:
    """Run on every save of a pending version: nothing public changes, so every finding, errors
    included, comes back as a warning; publishing it (`check_save`) is what the errors block."""
    run = _RUN.get()
    if run is not None:
        run.warnings.extend(check_document(document, run.rules.lint))


async def check_scheduled(
    session: WriteSession, article: Article, document: ArticleDocument, *, version: int
) -> None:
    """Run when a pending version is scheduled to go live (as `version`, already recorded):
    the rules of a publication, now, against the article's review as it stands."""
    run = _RUN.get() or _Run(WriteRules(), None, "system")
    assert article.id is not None
    review = await reviews.stored_review(session, article.id)
    content_hash = reviews.reviewable_hash(document)
    _judge(run, article.slug, document, review, content_hash, public=True)
    await _record_override(session, run, article.id, version)


def _judge(
    run: _Run,
    slug: str,
    document: ArticleDocument,
    review: ReviewDocument | None,
    content_hash: str,
    *,
    public: bool,
) -> None:
    """Refuse a `public` document that breaks an error rule not overridden; the other findings
    become warnings."""
    findings = check_document(document.model_copy(update={"review": review}), run.rules.lint)
    status = reviews.document_status(review, content_hash, utc_now().date())
    if public and run.rules.require_review and status is not reviews.ReviewStatus.CURRENT:
        findings.append(
            Finding(
                slug, None, "review", Rule.REVIEW_REQUIRED,
                f"publishing needs a current medical review of this version (the review is "
                f"{status.value.replace('_', ' ')}); CMS_REQUIRE_REVIEW is on",
            )
        )  # fmt: skip
    overridden = run.override.rules if run.override else frozenset()
    blocking = [
        f for f in findings if public and f.severity is Severity.ERROR and f.rule not in overridden
    ]
    if blocking:
        raise ContentRuleBroken(
            [ContentProblem("", f.field, f"[{f.rule}] {f.message}") for f in blocking],
            [f.rule.value for f in blocking],
        )
    run.warnings.extend(f for f in findings if f not in blocking)


async def check_save(
    session: WriteSession,
    article: Article,
    document: ArticleDocument,
    stored_review: ReviewDocument | None,
) -> None:
    """Run on every save, after its rows are written: record the review a seed file names and
    apply the rules to the saved document (`stored_review`: the review before the save)."""
    run = _RUN.get() or _Run(WriteRules(), None, "system")
    review = await reviews.sync_seeded_review(
        session, article, document, stored_review,
        interval_days=run.rules.review_interval_days, actor=run.actor,
    )  # fmt: skip
    public = document.status is ArticleStatus.PUBLISHED
    _judge(run, article.slug, document, review, article.content_hash, public=public)
    assert article.id is not None
    await _record_override(session, run, article.id, article.version)


async def _record_override(session: WriteSession, run: _Run, article_id: int, version: int) -> None:
    if run.override is not None:
        await session.exec(
            sa.update(Revision)
            .where(sa.column("article_id") == article_id, sa.column("version") == version)
            .values(override={"rules": sorted(run.override.rules), "reason": run.override.reason})
        )

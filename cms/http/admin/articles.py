"""The admin's pages of articles: list, create, edit with a preview, publish, schedule,
unpublish, archive, delete. Writes go through `cms.http.admin.edits`; a refused write shows the
form again with what was typed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cms.content import StoredArticle
from cms.content_model import ITEM_KINDS, ItemKind
from cms.errors import (
    CMSError,
    Conflict,
    ContentProblem,
    Forbidden,
    InvalidContent,
    InvalidTransition,
    NotFound,
)
from cms.http.admin import edits
from cms.http.admin.forms import (
    ARTICLE_FIELDS,
    FormField,
    Widget,
    article_data,
    article_values,
    errors_by_input,
    parse_publish_at,
    previews,
    typed,
)
from cms.http.admin.queries import (
    every_article,
    every_author,
    every_reviewer,
    live_review_status,
    the_article,
)
from cms.http.admin.site import page, redirect, render, site_of, status_label
from cms.models import ArticleStatus, ReviewAction, utc_now
from cms.workflow import ALLOWED_TRANSITIONS
from cms.working_copies import field_changes, has_pending

__all__ = [
    "REFUSALS",
    "SLUG_FIELD",
    "article_action",
    "article_routes",
    "expected_version",
    "refusal",
]

# What a refused write means for a form: it stays as typed, with the reason.
REFUSALS = (Forbidden, InvalidContent, Conflict, InvalidTransition, NotFound)
NEW_ARTICLE_FIELDS: tuple[FormField, ...] = (
    FormField("slug", "Slug", Widget.TEXT, "Lower-case words joined by hyphens, e.g. "
              "morning-stretches. It is the article's address and cannot change later."),
    ARTICLE_FIELDS[0],
    FormField("author", "Author", Widget.SELECT),
    ARTICLE_FIELDS[1],
    ARTICLE_FIELDS[2],
)  # fmt: skip
SLUG_FIELD = FormField(
    "slug", "Slug", Widget.TEXT, "Lower-case words joined by hyphens; it cannot change later."
)


def expected_version(form: Mapping[str, Any]) -> int:
    try:
        return int(form.get("expected_version", ""))
    except ValueError:
        message = "the form lost the version it was loaded at; reload the page"
        raise InvalidContent([ContentProblem("", "expected_version", message)]) from None


def _conflict_message(error: Conflict) -> str:
    return (
        f"Someone else saved this article while you were editing it (it is now at version "
        f"{error.current_version}). Your text is still in the form below. Open the article's "
        "history in another tab to see their change; saving this form again replaces their "
        "version with yours."
    )


def refusal(
    error: CMSError, inputs: tuple[FormField, ...], prefix: str = ""
) -> tuple[dict[str, str], list[str]]:
    """A refused write as messages: by input, and for the form as a whole."""
    if isinstance(error, InvalidContent):
        return errors_by_input(error.problems, [field.name for field in inputs], prefix)
    if isinstance(error, Conflict):
        return {}, [_conflict_message(error)]
    return {}, [error.message]


@page
async def article_list(request: Request) -> Response:
    articles = await every_article(site_of(request).database)
    return render(request, "articles.html", nav="articles", articles=articles)


@page
async def article_new(request: Request) -> Response:
    site = site_of(request)
    authors = await every_author(site.database)
    fields = (
        *NEW_ARTICLE_FIELDS[:2],
        FormField("author", "Author", Widget.SELECT, "", tuple(a.slug for a in authors)),
        *NEW_ARTICLE_FIELDS[3:],
    )
    labels = {author.slug: author.name for author in authors}
    if request.method == "GET":
        values = {field.name: "" for field in fields}
        return render(
            request, "new_article.html", nav="new", fields=fields, values=values, errors={},
            problems=[], labels=labels,
        )  # fmt: skip
    form = await request.form()
    values = typed(form, fields)
    data: dict[str, Any] = {name: values[name] for name in ("slug", "title", "headline", "intro")}
    author = next((a for a in authors if a.slug == values["author"]), None)
    try:
        if author is None:
            message = "choose one of the authors"
            raise InvalidContent([ContentProblem("", "author", message)])
        data["author"] = {"slug": author.slug, "name": author.name, "bio": author.bio}
        await edits.create_article(site.database, request.state.principal, data)
    except Conflict:
        errors: dict[str, str] = {"slug": "An article with this slug exists already."}
        problems: list[str] = []
    except REFUSALS as error:
        errors, problems = refusal(error, fields)
    else:
        return redirect(request, f"/articles/{values['slug']}", "Created, as a draft.")
    return render(
        request, "new_article.html", 400, nav="new", fields=fields, values=values,
        errors=errors, problems=problems, labels=labels,
    )  # fmt: skip


def _moves(stored: StoredArticle, kind: ItemKind) -> list[dict[str, Any]]:
    """The kind's items, each with the order of the list after moving it up or down."""
    items = stored.working_document.items(kind)
    slugs = [item.slug for item in items]
    rows = []
    for index, item in enumerate(items):
        up = down = None
        if index > 0:
            up = [*slugs[: index - 1], slugs[index], slugs[index - 1], *slugs[index + 1 :]]
        if index < len(items) - 1:
            down = [*slugs[:index], slugs[index + 1], slugs[index], *slugs[index + 2 :]]
        rows.append({"item": item, "up": up, "down": down})
    return rows


def _status_actions(stored: StoredArticle) -> list[edits.StatusAction]:
    """The buttons that can change the article's status; publishing a live article is
    offered only for its pending changes."""
    article = stored.article
    allowed = ALLOWED_TRANSITIONS[article.status]
    live = (
        article.status is ArticleStatus.PUBLISHED
        and (article.published_at is None or article.published_at <= utc_now())
        and not has_pending(stored.pending)
    )
    return [
        action
        for action in edits.ACTIONS.values()
        if action.target in allowed and not (live and action.target is ArticleStatus.PUBLISHED)
    ]


async def _article_page(
    request: Request,
    stored: StoredArticle,
    values: dict[str, str],
    *,
    status: int = 200,
    version: int | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    preview: bool = False,
) -> Response:
    return render(
        request,
        "article.html",
        status,
        nav="articles",
        stored=stored,
        article=stored.article,
        fields=ARTICLE_FIELDS,
        values=values,
        version=version if version is not None else stored.version,
        errors=errors or {},
        problems=problems or [],
        previews=previews(ARTICLE_FIELDS, values) if preview else None,
        kinds=[(kind, _moves(stored, kind)) for kind in ITEM_KINDS],
        actions=_status_actions(stored),
        review_status=await live_review_status(site_of(request).database, stored.article),
        reviewers=await every_reviewer(site_of(request).database),
        review_actions=ReviewAction,
        review_labels=_REVIEW_LABELS,
        pending_changes=field_changes(stored.document, stored.working_document)
        if has_pending(stored.pending)
        else [],
        status_label=status_label(stored.article),
    )


@page
async def article_edit(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]
    stored = await the_article(site.database, slug)
    if request.method == "GET":
        return await _article_page(request, stored, article_values(stored.working_document))
    form = await request.form()
    values = typed(form, ARTICLE_FIELDS)
    if form.get("action") == "preview":
        return await _article_page(
            request, stored, values, version=expected_version(form), preview=True
        )
    try:
        version = expected_version(form)
        changes = article_data(values)
        article = await edits.change_article(
            site.database, request.state.principal, slug=slug, expected_version=version,
            change=lambda document: {**document.model_dump(), **changes},
        )  # fmt: skip
    except REFUSALS as error:
        errors, problems = refusal(error, ARTICLE_FIELDS)
        # After a conflict, the page shows the article as stored now, and saving again is
        # based on that version (the message says so).
        if isinstance(error, Conflict):
            stored = await the_article(site.database, slug)
        version = stored.version
        return await _article_page(
            request, stored, values, status=error.status, version=version, errors=errors,
            problems=problems,
        )  # fmt: skip
    # The version saved: the pending version's, when the article is live.
    saved = (await the_article(site.database, article.slug)).version
    return redirect(
        request, f"/articles/{slug}",
        "Nothing had changed." if saved == version else f"Saved as version {saved}.",
    )  # fmt: skip


async def _refused_action(request: Request, slug: str, error: CMSError) -> Response:
    """An action of the article page refused: the page again, with the reason on top."""
    stored = await the_article(site_of(request).database, slug)
    if isinstance(error, InvalidContent):
        messages = [p.message for p in error.problems]
    elif isinstance(error, Conflict):
        messages = [
            f"Someone saved this article meanwhile (it is now at version "
            f"{error.current_version}): nothing was done. Check the page and try again."
        ]
    else:
        messages = [error.message]
    values = article_values(stored.working_document)
    return await _article_page(request, stored, values, status=error.status, problems=messages)


async def article_action(
    request: Request, run: Callable[[FormData], Awaitable[tuple[str, str]]]
) -> Response:
    """A button of the article page: `run` it, then go where it says with what it did;
    refused, the page again with the reason."""
    form = await request.form()
    try:
        path, done = await run(form)
    except REFUSALS as error:
        return await _refused_action(request, request.path_params["slug"], error)
    return redirect(request, path, done)


@page
async def article_status(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]

    async def run(form: FormData) -> tuple[str, str]:
        action = edits.ACTIONS.get(str(form.get("action", "")))
        if action is None:
            raise NotFound("No such action.")
        publish_at = None
        if action.name == "scheduled":
            text = str(form.get("publish_at", ""))
            publish_at = parse_publish_at(text)
            if text and publish_at is None:
                message = "not a date and time, e.g. 2026-12-01T09:00"
                raise InvalidContent([ContentProblem("", "publish_at", message)])
        article = await edits.set_status(
            site.database, request.state.principal, action, slug=slug,
            expected_version=expected_version(form), publish_at=publish_at,
        )  # fmt: skip
        return f"/articles/{slug}", f"The article is {status_label(article)}."

    return await article_action(request, run)


@page
async def article_delete(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]

    async def run(form: FormData) -> tuple[str, str]:
        if form.get("confirm") != "yes":
            message = "tick the box to confirm the deletion"
            raise InvalidContent([ContentProblem("", "confirm", message)])
        await edits.delete_article(
            site.database,
            request.state.principal,
            slug=slug,
            expected_version=expected_version(form),
        )
        return "/articles", f"Deleted {slug!r}. Its revisions are kept."

    return await article_action(request, run)


@page
async def article_review(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]

    async def run(form: FormData) -> tuple[str, str]:
        try:
            action = ReviewAction(str(form.get("action", "")))
        except ValueError:
            raise NotFound("No such action.") from None
        await edits.review_step(
            site.database, request.state.principal, slug=slug, action=action,
            note=str(form.get("note", "")), reviewer=str(form.get("reviewer", "")),
            version=expected_version(form), interval_days=site.settings.review_interval_days,
        )  # fmt: skip
        return f"/articles/{slug}", _REVIEW_DONE[action]

    return await article_action(request, run)


_REVIEW_LABELS = {
    "current": "medically reviewed",
    "changed_since_review": "changed since its medical review",
    "overdue": "medical review overdue",
    "never": "not yet medically reviewed",
}
_REVIEW_DONE = {
    ReviewAction.SUBMITTED: "Submitted for medical review.",
    ReviewAction.APPROVED: "Approved: the review covers this version's text.",
    ReviewAction.CHANGES_REQUESTED: "Sent back to the editors with your note.",
}


@page
async def article_discard(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]

    async def run(form: FormData) -> tuple[str, str]:
        await edits.discard_pending(
            site.database, request.state.principal, slug=slug,
            expected_version=expected_version(form),
        )  # fmt: skip
        return f"/articles/{slug}", "The unpublished changes were discarded."

    return await article_action(request, run)


def article_routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    return [
        Route("/articles", article_list),
        Route("/new", article_new, methods=both),
        Route("/articles/{slug}", article_edit, methods=both),
        Route("/articles/{slug}/status", article_status, methods=["POST"]),
        Route("/articles/{slug}/delete", article_delete, methods=["POST"]),
        Route("/articles/{slug}/discard", article_discard, methods=["POST"]),
        Route("/articles/{slug}/review", article_review, methods=["POST"]),
    ]

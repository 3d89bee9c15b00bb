"""The admin's history pages: an article's revisions, what each changed (a unified diff of the
two versions as seed files, escaped by the template), and restoring one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cms.errors import CMSError, Conflict, Forbidden, InvalidContent, NotFound
from cms.http.admin import edits
from cms.http.admin.queries import revision_pair, revisions_of, the_article
from cms.http.admin.site import page, redirect, render, site_of
from cms.revisions import diff_revisions, snapshot_of
from cms.seed_files import dump_document

__all__ = ["history_routes"]


@page
async def revisions(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]
    stored = await the_article(site.database, slug)
    assert stored.article.id is not None
    rows = await revisions_of(site.database, stored.article.id)
    return render(request, "revisions.html", nav="articles", article=stored.article, rows=rows)


def _diff_lines(text: str) -> list[tuple[str, str]]:
    """Each line of a unified diff with what it is: added, removed, a hunk header or context."""
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    lines = []
    for line in text.splitlines():
        kind = "file" if line.startswith(("+++", "---")) else kinds.get(line[:1], "context")
        lines.append((kind, line))
    return lines


async def _diff_page(request: Request, status: int = 200, problem: str | None = None) -> Response:
    site, slug = site_of(request), request.path_params["slug"]
    try:
        version = int(request.path_params["version"])
    except ValueError:
        raise NotFound("There is no such version.") from None
    stored = await the_article(site.database, slug)
    assert stored.article.id is not None
    old, new = await revision_pair(site.database, stored.article.id, version)
    if old is None:
        added = dump_document(snapshot_of(new)).splitlines()
        lines = [("added", f"+{line}") for line in added]
    else:
        lines = _diff_lines(diff_revisions(old, new))
    return render(
        request, "diff.html", status, nav="articles", article=stored.article, revision=new,
        previous=old, lines=lines, problem=problem,
    )  # fmt: skip


@page
async def revision_diff(request: Request) -> Response:
    return await _diff_page(request)


@page
async def revision_restore(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]
    form = await request.form()
    try:
        expected = int(str(form.get("expected_version", "")))
        version = int(request.path_params["version"])
        await edits.restore_revision(
            site.database, request.state.principal, slug=slug, expected_version=expected,
            version=version,
        )  # fmt: skip
    except ValueError:
        return await _diff_page(request, 400, "The form lost its version; reload the page.")
    except Conflict as error:
        problem = (
            f"Someone saved the article meanwhile (it is now at version {error.current_version}):"
            " nothing was restored. Look at the history again, then restore."
        )
        return await _diff_page(request, error.status, problem)
    except (Forbidden, InvalidContent, NotFound) as error:
        return await _diff_page(request, error.status, _message(error))
    return redirect(request, f"/articles/{slug}", f"Restored the content of version {version}.")


def _message(error: CMSError) -> str:
    if isinstance(error, InvalidContent):
        return "; ".join(problem.message for problem in error.problems)
    return error.message


def history_routes() -> list[BaseRoute]:
    return [
        Route("/articles/{slug}/revisions", revisions),
        Route("/articles/{slug}/revisions/{version}", revision_diff),
        Route("/articles/{slug}/revisions/{version}/restore", revision_restore, methods=["POST"]),
    ]

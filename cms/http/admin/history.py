"""The admin's history pages: an article's revisions, what each changed (a unified diff of the
two versions as seed files, escaped by the template), and restoring one."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

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
    return render(
        request, "revisions.html", nav="articles", article=stored.article, rows=rows,
        version=stored.version,
    )  # fmt: skip


Segment = tuple[str, bool]  # text, and whether it is what changed within its line
Line = tuple[str, list[Segment]]  # added, removed, hunk, file or context


def _diff_lines(text: str) -> list[Line]:
    """Each line of a unified diff with what it is: added, removed, a hunk header or context.
    A run of removed lines followed by as many added ones is a change of those lines: the
    words that differ are marked, so that one changed word in a paragraph can be found."""
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    plain = [
        ("file" if line.startswith(("+++", "---")) else kinds.get(line[:1], "context"), line)
        for line in text.splitlines()
    ]
    lines: list[Line] = []
    index = 0
    while index < len(plain):
        removed = _run(plain, index, "removed")
        added = _run(plain, index + len(removed), "added")
        if removed and len(removed) == len(added):
            pairs = [_marked(old, new) for old, new in zip(removed, added, strict=True)]
            lines += [("removed", old) for old, _ in pairs] + [("added", new) for _, new in pairs]
            index += 2 * len(removed)
        else:
            kind, line = plain[index]
            lines.append((kind, [(line, False)]))
            index += 1
    return lines


def _run(lines: list[tuple[str, str]], start: int, kind: str) -> list[str]:
    run = []
    for each_kind, line in lines[start:]:
        if each_kind != kind:
            break
        run.append(line)
    return run


def _marked(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """The two versions of a line, split into words that stayed and words that changed."""
    before, after = re.split(r"(\s+)", old[1:]), re.split(r"(\s+)", new[1:])
    old_parts: list[Segment] = [(old[0], False)]
    new_parts: list[Segment] = [(new[0], False)]
    for op, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        changed = op != "equal"
        if i2 > i1:
            old_parts.append(("".join(before[i1:i2]), changed))
        if j2 > j1:
            new_parts.append(("".join(after[j1:j2]), changed))
    return _joined(old_parts), _joined(new_parts)


def _joined(parts: list[Segment]) -> list[Segment]:
    """Changed words separated only by spaces as one change; neighbours of a kind merged."""
    flags = [
        changed
        or (
            not text.strip()
            and 0 < index < len(parts) - 1
            and parts[index - 1][1]
            and parts[index + 1][1]
        )
        for index, (text, changed) in enumerate(parts)
    ]
    joined: list[Segment] = []
    for (text, _), changed in zip(parts, flags, strict=True):
        if joined and joined[-1][1] == changed:
            joined[-1] = (joined[-1][0] + text, changed)
        elif text:
            joined.append((text, changed))
    return joined


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
        lines: list[Line] = [("added", [(f"+{line}", False)]) for line in added]
    else:
        lines = _diff_lines(diff_revisions(old, new))
    return render(
        request, "diff.html", status, nav="articles", article=stored.article, revision=new,
        previous=old, lines=lines, problem=problem, version=stored.version,
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

"""The admin's translation pages: an article's translations by locale, and a form per locale
with one input for each text of the article (left empty, readers of that locale get the
original). Inputs are named by their path in the translation document, e.g.
`benefits.stress-relief.body`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cms.content import StoredArticle
from cms.content_model import ITEM_KINDS, Role
from cms.db import Database
from cms.errors import ContentProblem, Forbidden, InvalidContent, NotFound
from cms.http.admin import edits
from cms.http.admin.forms import FormField, Widget, typed
from cms.http.admin.queries import the_article
from cms.http.admin.site import page, redirect, render, site_of
from cms.locales import canonical_locale
from cms.pending_translations import pending_translations_by_article_ids, working_translations
from cms.reads import translations_by_article_ids

__all__ = ["translation_routes"]

_ORIGINAL = 160  # characters of the original shown beside each input


def _fields(stored: StoredArticle) -> list[FormField]:
    """Each translatable text of the article as an input, described by its original text."""
    document = stored.working_document

    def text(name: str, label: str, widget: Widget, original: str) -> FormField:
        # The original beside the input, as its description (read out with it).
        shown = original if len(original) <= _ORIGINAL else original[:_ORIGINAL].rstrip() + "…"
        return FormField(name, label, widget, f"Original: {shown}" if shown else "")

    fields = [
        text("title", "Title", Widget.TEXT, document.title),
        text("headline", "Headline", Widget.TEXT, document.headline),
        text("intro", "Introduction", Widget.MARKDOWN, document.intro),
    ]
    for kind in ITEM_KINDS:
        for item in document.items(kind):
            for name, role in kind.text_fields.items():
                widget = Widget.MARKDOWN if role is Role.PROSE else Widget.TEXT
                label = f"{kind.label.capitalize()} “{item.title}”: {name}"
                original = getattr(item, name)
                fields.append(text(f"{kind.list_name}.{item.slug}.{name}", label, widget, original))
    if document.conclusion is not None:
        fields.append(
            text("conclusion.title", "Conclusion heading", Widget.TEXT, document.conclusion.title)
        )
        fields.append(
            text("conclusion.body", "Conclusion", Widget.MARKDOWN, document.conclusion.body)
        )
    return fields


def _flat(overlay: dict[str, Any], prefix: str = "") -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in overlay.items():
        if isinstance(value, dict):
            values.update(_flat(value, f"{prefix}{key}."))
        else:
            values[f"{prefix}{key}"] = str(value)
    return values


def _nested(values: dict[str, str]) -> dict[str, Any]:
    """The inputs that hold text, as a translation document's fields."""
    data: dict[str, Any] = {}
    for path, value in values.items():
        if not value.strip():
            continue
        *parents, name = path.split(".")
        at = data
        for parent in parents:
            at = at.setdefault(parent, {})
        at[name] = value
    return data


async def _locales(database: Database, article_id: int) -> dict[str, dict[str, Any]]:
    """The translations editors edit: a published article's pending ones over the live ones."""
    async with database.read_session() as session:
        live = await translations_by_article_ids(session, [article_id])
        pending = await pending_translations_by_article_ids(session, [article_id])
    working = working_translations({row.locale: row for row in live}, pending)
    return {locale: row.document for locale, row in working.items()}


@page
async def translations(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]
    stored = await the_article(site.database, slug)
    assert stored.article.id is not None
    locales = await _locales(site.database, stored.article.id)
    wanted = request.query_params.get("locale")
    error = None
    if wanted is not None:
        locale = canonical_locale(wanted)
        if locale is not None and locale != stored.article.locale:
            return redirect(request, f"/articles/{slug}/translations/{locale}")
        error = (
            f"{wanted!r} is the article's own locale"
            if locale == stored.article.locale
            else "not a locale: type a BCP 47 tag such as de or de-AT"
        )
    return render(
        request, "translations.html", 400 if error else 200, nav="articles",
        article=stored.article, locales=sorted(locales), error=error, typed_locale=wanted or "",
    )  # fmt: skip


@page
async def translation_edit(request: Request) -> Response:
    site, slug = site_of(request), request.path_params["slug"]
    locale = canonical_locale(request.path_params["locale"])
    if locale is None:
        raise NotFound("That is not a locale.")
    stored = await the_article(site.database, slug)
    assert stored.article.id is not None
    specs = _fields(stored)
    exists = locale in (locales := await _locales(site.database, stored.article.id))
    errors: dict[str, str] = {}
    problems: list[str] = []
    status = 200
    if request.method == "GET":
        values = _flat(locales.get(locale, {}))
    else:
        form = await request.form()
        values = typed(form, specs)
        data = {"translation_of": slug, "locale": locale, **_nested(values)}
        try:
            if form.get("action") == "delete":
                await edits.delete_translation(
                    site.database, request.state.principal, slug=slug, locale=locale
                )
                return redirect(request, f"/articles/{slug}/translations", f"Deleted {locale}.")
            if len(data) == 2:
                message = "translates nothing: fill in at least one text"
                raise InvalidContent([ContentProblem("", "", message)])
            await edits.save_translation(site.database, request.state.principal, data)
        except (Forbidden, InvalidContent, NotFound) as error:
            status = error.status
            names = {spec.name for spec in specs}
            for problem in getattr(error, "problems", []):
                if problem.field in names:
                    errors[problem.field] = problem.message
                else:
                    problems.append(f"{problem.field}: {problem.message}".lstrip(": "))
            if not isinstance(error, InvalidContent):
                problems.append(error.message)
        else:
            return redirect(request, f"/articles/{slug}/translations/{locale}", "Saved.")
    return render(
        request, "translation.html", status, nav="articles", article=stored.article,
        locale=locale, exists=exists, specs=specs, values=values, errors=errors,
        problems=problems,
    )  # fmt: skip


def translation_routes() -> list[BaseRoute]:
    return [
        Route("/articles/{slug}/translations", translations),
        Route("/articles/{slug}/translations/{locale}", translation_edit, methods=["GET", "POST"]),
    ]

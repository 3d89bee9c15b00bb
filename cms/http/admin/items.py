"""The admin's pages of an article's items: add, edit with a preview, remove and reorder, for
every item kind of `cms.content_model` (the inputs follow from each kind's document)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cms.content import StoredArticle
from cms.content_model import ItemKind, item_kind
from cms.errors import Conflict, NotFound
from cms.http.admin import edits
from cms.http.admin.articles import (
    REFUSALS,
    SLUG_FIELD,
    article_action,
    expected_version,
    refusal,
)
from cms.http.admin.forms import item_data, item_fields, item_values, previews, typed
from cms.http.admin.queries import the_article
from cms.http.admin.site import page, redirect, render, site_of
from cms.items import ItemEdit

__all__ = ["item_routes"]


def _kind(request: Request) -> ItemKind:
    try:
        return item_kind(request.path_params["kind"])
    except KeyError:
        raise NotFound("An article has no such list.") from None


def _item_page(
    request: Request,
    stored: StoredArticle,
    kind: ItemKind,
    values: dict[str, str],
    *,
    item: str | None,
    status: int = 200,
    version: int | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    preview: bool = False,
) -> Response:
    fields = item_fields(kind)
    return render(
        request,
        "item.html",
        status,
        nav="articles",
        article=stored.article,
        kind=kind,
        item=item,
        slug_field=SLUG_FIELD,
        fields=fields,
        values=values,
        version=version if version is not None else stored.article.version,
        errors=errors or {},
        problems=problems or [],
        previews=previews(fields, values) if preview else None,
    )


@page
async def item_edit(request: Request) -> Response:
    """An item's form; `new` as the item's slug adds one."""
    site, slug, kind = site_of(request), request.path_params["slug"], _kind(request)
    item = request.path_params.get("item")
    stored = await the_article(site.database, slug)
    fields = item_fields(kind)
    if request.method == "GET":
        if item is None:
            values = {field.name: "" for field in (SLUG_FIELD, *fields)}
        else:
            found = next((i for i in stored.document.items(kind) if i.slug == item), None)
            if found is None:
                raise NotFound(f"The article has no {kind.label} {item!r}.")
            values = item_values(kind, found.model_dump())
        return _item_page(request, stored, kind, values, item=item)
    form = await request.form()
    values = typed(form, fields if item else (SLUG_FIELD, *fields))
    if form.get("action") == "preview":
        return _item_page(
            request, stored, kind, values, item=item, version=expected_version(form), preview=True
        )
    edit = ItemEdit(kind)
    principal = request.state.principal
    try:
        version = expected_version(form)
        data = item_data(kind, values)
        if item is None:
            data["slug"] = values["slug"]
            await edits.add_article_item(
                site.database, principal, edit, slug=slug, expected_version=version, values=data
            )
        else:
            await edits.change_article_item(
                site.database, principal, edit, slug=slug, expected_version=version, item=item,
                values=data,
            )  # fmt: skip
    except REFUSALS as error:
        prefix = f"{kind.list_name}[{edit.index}]." if edit.index is not None else ""
        inputs = (SLUG_FIELD, *fields)
        errors, problems = refusal(error, inputs, prefix)
        if isinstance(error, Conflict):
            stored = await the_article(site.database, slug)
        version = stored.article.version
        return _item_page(
            request, stored, kind, values, item=item, status=error.status, version=version,
            errors=errors, problems=problems,
        )  # fmt: skip
    label = kind.label.capitalize()
    return redirect(request, f"/articles/{slug}", f"{label} “{values['title']}” saved.")


@page
async def item_delete(request: Request) -> Response:
    site, slug, kind = site_of(request), request.path_params["slug"], _kind(request)
    item = request.path_params["item"]

    async def run(form: FormData) -> tuple[str, str]:
        await edits.remove_article_item(
            site.database, request.state.principal, kind, slug=slug,
            expected_version=expected_version(form), item=item,
        )  # fmt: skip
        return f"/articles/{slug}", f"Removed the {kind.label} {item!r}."

    return await article_action(request, run)


@page
async def items_reorder(request: Request) -> Response:
    site, slug, kind = site_of(request), request.path_params["slug"], _kind(request)

    async def run(form: FormData) -> tuple[str, str]:
        await edits.reorder_article_items(
            site.database, request.state.principal, kind, slug=slug,
            expected_version=expected_version(form), slugs=[str(s) for s in form.getlist("slugs")],
        )  # fmt: skip
        return f"/articles/{slug}#{kind.list_name}", "Order saved."

    return await article_action(request, run)


def item_routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    return [
        Route("/articles/{slug}/new/{kind}", item_edit, methods=both),
        Route("/articles/{slug}/order/{kind}", items_reorder, methods=["POST"]),
        Route("/articles/{slug}/items/{kind}/{item}", item_edit, methods=both),
        Route("/articles/{slug}/items/{kind}/{item}/delete", item_delete, methods=["POST"]),
    ]

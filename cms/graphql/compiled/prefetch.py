"""Reading ahead: each `article` and `articles` root field of a plan is read with
what its selection needs (author, items, translations, the count) in one statement
(`cms.tree_reads`), and the request's loaders are primed with the rows. The resolvers then run
as always and find every row they ask for already loaded, so nothing is read twice and no value
is made another way: what is not read ahead is simply read by its loader, as before. On SQLite
too: a statement costs ~100 us of SQLAlchemy there, more than the JSON it saves building."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cms import tree_reads
from cms.content_model import ITEM_KINDS
from cms.errors import CMSError
from cms.graphql.compiled.plan import Arguments, Field, Selection
from cms.graphql.context import Context
from cms.graphql.loaders import CountKey, Loaders, page_key
from cms.graphql.locales import requested_locale
from cms.graphql.pagination import page_request

__all__ = ["prefetch"]

_ROOTS = ("article", "articles")
_AUTHOR = frozenset({"author", "json_ld"})
_TRANSLATIONS = frozenset({"available_locales", "translation_versions"})


async def prefetch(plan: Selection, context: Context, arguments: Arguments) -> None:
    """Prime `context.loaders` for the plan's root fields; public callers only."""
    if context.include_drafts or context.principal.article is not None:
        return
    names = [field.field.python_name if field.field is not None else None for field in plan.fields]
    every_kind = any(name not in _ROOTS for name in names)
    for field, name in zip(plan.fields, names, strict=True):
        if name not in _ROOTS:
            continue
        given = arguments.of(field)
        try:
            if name == "article":
                await _article(field, given, context, every_kind)
            else:
                await _articles(field, given, context, every_kind)
        except CMSError:
            # Refused arguments: the resolver refuses them the same way, with no read ahead.
            continue


def _article_fields(selection: Selection | None) -> Iterator[str]:
    """The fields selected of every `Article` within a selection, at any depth (`related`)."""
    if selection is None:
        return
    for field in selection.fields:
        if selection.typename == "Article" and field.field is not None:
            yield field.field.python_name
        yield from _article_fields(field.selection)


def _parts(
    field: Field, *, locale: str | None, every_kind: bool, count: bool = False
) -> tree_reads.Parts:
    names = set(_article_fields(field.selection))
    # Only the kinds some `Article` of the response lists; the others are primed empty, which
    # no field reads: JSON-LD and snippets (other root fields) read every kind.
    every_kind = every_kind or "json_ld" in names
    kinds = frozenset(kind.name for kind in ITEM_KINDS if every_kind or kind.list_name in names)
    return tree_reads.Parts(
        author=bool(names & _AUTHOR),
        items=kinds,
        translations=locale is not None or bool(names & _TRANSLATIONS),
        count=count,
    )


async def _article(
    field: Field, arguments: dict[str, Any], context: Context, every_kind: bool
) -> None:
    slug = arguments.get("slug")
    if not isinstance(slug, str):
        return
    locale = requested_locale(arguments.get("locale"))
    parts = _parts(field, locale=locale, every_kind=every_kind)
    db = context.db
    tree = await tree_reads.article_tree(db.rows, dialect=db.dialect_name, slug=slug, parts=parts)
    if tree is not None:
        context.loaders.article_by_slug.prime(slug, tree.article)
        _prime(context.loaders, tree)


async def _articles(
    field: Field, arguments: dict[str, Any], context: Context, every_kind: bool
) -> None:
    locale = requested_locale(arguments.get("locale"))
    request = page_request(
        first=arguments.get("first"), after=arguments.get("after"), last=arguments.get("last"),
        before=arguments.get("before"), max_size=context.settings.max_page_size,
    )  # fmt: skip
    filter = arguments.get("filter")
    tag = getattr(filter, "tag", None) if filter is not None else None
    counted = field.selection is not None and any(
        child.field is not None and child.field.python_name == "total_count"
        for child in field.selection.fields
    )
    key = page_key(request, tag)
    page = await tree_reads.page_tree(
        context.db.rows, dialect=context.db.dialect_name, after_slug=key.after_slug,
        before_slug=key.before_slug, limit=key.limit, from_end=key.from_end, tag=tag,
        parts=_parts(field, locale=locale, every_kind=every_kind, count=counted),
    )  # fmt: skip
    loaders = context.loaders
    loaders.article_page.prime(key, [tree.article for tree in page.articles])
    if page.count is not None:
        loaders.article_count.prime(CountKey(tag=tag), page.count)
    for tree in page.articles:
        _prime(loaders, tree)


def _prime(loaders: Loaders, tree: tree_reads.ArticleTree) -> None:
    article_id = tree.article.id
    if tree.author is not None:
        loaders.author_by_id.prime(tree.author.id, tree.author)
    if tree.items is not None:
        grouped: dict[Any, list[Any]] = {kind: [] for kind in ITEM_KINDS}
        for item in tree.items:
            grouped[item.item_kind].append(item)
        loaders.items_by_article_id.prime(article_id, grouped)
    if tree.translations is not None:
        by_locale = {row.locale: row for row in tree.translations}
        loaders.translations_by_article_id.prime(article_id, by_locale)

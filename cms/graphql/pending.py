"""What an editor previews of a published article's pending version beyond its own fields: its
author, and the syndicated article its JSON-LD and benefit snippets are built from. Editors'
reads only; the public never reaches this module."""

from __future__ import annotations

from typing import Any

from cms import authors, models, working_copies
from cms.content_model import BENEFIT, PRECAUTION, ItemKind
from cms.documents import ArticleDocument
from cms.graphql.context import Info
from cms.locales import LocaleView
from cms.snippets import SyndicatedArticle, syndicated_article

__all__ = ["pending_author", "pending_syndicated_article", "previewed_syndicated_article"]


async def pending_author(
    info: Info, live_author_id: int, document: ArticleDocument
) -> models.Author:
    """The author the pending version names: the stored author of that slug (an article only
    references its author), else, for one not stored yet, as the document gives it (id 0)."""
    live = await info.context.loaders.author_by_id.load(live_author_id)
    if live is not None and live.slug == document.author.slug:
        return live
    stored = await info.context.db.run(authors.get_author, document.author.slug)
    if stored is not None:
        return stored
    given = document.author
    return models.Author(id=0, slug=given.slug, name=given.name, bio=given.bio)


async def pending_syndicated_article(
    info: Info, row: Any, document: ArticleDocument, *, view: LocaleView
) -> SyndicatedArticle:
    """The pending version as it would be syndicated once published: `row` is the article row
    as the pending version makes it (`cms.working_copies.pending_article_row`); its draft items
    are left out, as they stay private after publication."""
    loaders = info.context.loaders
    live = await loaders.items_by_article_id.load(row.id)

    def items(kind: ItemKind) -> list[Any]:
        rows = working_copies.pending_item_rows(kind, row.id, live[kind], document)
        return [item for item in rows if not item.is_draft]

    return syndicated_article(
        article=row,
        author=await pending_author(info, row.author_id, document),
        benefits=items(BENEFIT),
        precautions=items(PRECAUTION),
        site_url=info.context.settings.site_url,
        review=await loaders.review_by_article_id.load(row.id),
        view=view,
    )


async def previewed_syndicated_article(
    info: Info, row: models.Article, requested: str | None
) -> SyndicatedArticle | None:
    """The pending version of the public article `row` as syndicated, read for `requested`,
    when the caller may preview it and it has one; else None."""
    assert row.id is not None
    if not info.context.principal.may_preview(row.slug):
        return None
    version = await info.context.loaders.pending_by_article_id.load(row.id)
    document = working_copies.pending_document(version)
    if version is None or document is None:
        return None
    pending_row = working_copies.pending_article_row(row, document, version)
    view = await info.context.loaders.locale_view(pending_row, requested)
    return await pending_syndicated_article(info, pending_row, document, view=view)

"""The page a preview link opens (`/preview/{token}`): one article's not-yet-public version (the
pending version of a published article, else the draft) in the embed page's layout, read-only,
never cached or indexed."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cms import content
from cms.db import Database, as_async_session
from cms.documents import ArticleDocument
from cms.errors import CMSError
from cms.models import utc_now
from cms.preview_links import preview_principal, verify_preview
from cms.reviews import reviewable_hash, reviews_by_article_ids
from cms.settings import Settings
from cms.snippet_html import EMBED_CSS, labels_for, review_line, sources_html
from cms.snippets import ReviewState, SnippetItem
from cms.text import to_html
from cms.working_copies import has_pending

__all__ = ["preview_page", "preview_routes"]

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}
_CSS = EMBED_CSS + ".bwk-preview__banner{background:#eef4ff;padding:8px 12px;margin:0 0 12px}\n"
_POLICY = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _items(document: ArticleDocument, list_name: str) -> tuple[SnippetItem, ...]:
    items = getattr(document, list_name)
    return tuple(
        SnippetItem(i.slug, i.title, i.body, document.locale, document.locale, tuple(i.citations))
        for i in items
        if not i.draft
    )


def preview_page(
    document: ArticleDocument, version: int, review: ReviewState, *, pending: bool = False
) -> str:
    """The article as its next publication would show it (`pending`: the pending changes of a
    published article): intro, benefits, precautions, sources, conclusion and the truthful
    review line of that text."""
    _, labels = labels_for((document.locale,))
    state = "pending changes" if pending else escape(document.status.value)
    benefits, precautions = _items(document, "benefits"), _items(document, "precautions")

    def entries(items: tuple[SnippetItem, ...]) -> str:
        return "".join(
            f'<li id="{escape(i.slug)}"><strong>{escape(i.title)}</strong>{to_html(i.body)}</li>'
            for i in items
        )

    conclusion = (
        f"<h3>{escape(document.conclusion.title)}</h3>{to_html(document.conclusion.body)}"
        if document.conclusion
        else ""
    )
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(document.locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>Preview: {escape(document.title)}</title><style>{_CSS}</style></head>"
        f'<body><main><article class="bwk-snippet bwk-preview">'
        f'<p class="bwk-preview__banner" role="note">Preview of version {version} '
        f"({state}); not public yet.</p>"
        f'<h2 class="bwk-snippet__title">{escape(document.title)}</h2>'
        f'<div class="bwk-snippet__body">{to_html(document.intro)}</div>'
        f'<section aria-label="Benefits"><h3>Benefits</h3><ul>{entries(benefits)}</ul></section>'
        f'<section class="bwk-snippet__precautions" aria-label="{escape(labels.precautions)}">'
        f'<h3 class="bwk-snippet__precautions-title">{escape(labels.precautions)}</h3>'
        f'<ul class="bwk-snippet__precaution-list">{entries(precautions)}</ul></section>'
        f"{conclusion}"
        f"{sources_html(benefits + precautions, labels, '')}"
        f'<p class="bwk-snippet__review">{review_line(review, labels, html=True)}</p>'
        "</article></main></body></html>\n"
    )


def preview_routes(settings: Settings, database: Database) -> list[Route]:
    async def page(request: Request) -> Response:
        try:
            token = request.path_params["token"]
            principal = preview_principal(verify_preview(token, settings.preview_secret, utc_now()))
            assert principal.article is not None
            async with database.read_session() as session:
                stored = await content.stored_article(
                    as_async_session(session), principal.article, lock=False
                )
                if stored is None:
                    return _message("This article no longer exists.", 404)
                assert stored.article.id is not None
                found = await reviews_by_article_ids(session, [stored.article.id])
        except CMSError as error:
            return _message(error.message, error.status)
        # The not-yet-public version: the pending one of a published article, else the draft.
        document, pending = stored.working_document, has_pending(stored.pending)
        review = ReviewState.of(
            found.get(stored.article.id), reviewable_hash(document), utc_now().date()
        )
        html = preview_page(document, stored.version, review, pending=pending)
        return HTMLResponse(html, headers={**_HEADERS, "Content-Security-Policy": _POLICY})

    return [Route("/preview/{token}", page, methods=["GET"])]


def _message(text: str, status: int) -> Response:
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Preview</title>'
        f'</head><body><p role="alert">{escape(text)}</p></body></html>\n'
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)

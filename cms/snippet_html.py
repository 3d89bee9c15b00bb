"""Ready-to-embed markup of a snippet, and the standalone page that frames one.

Every title and name is escaped; every body goes through `cms.text.to_html` (raw HTML in
Markdown is shown as text, tags are allow-listed). No script is ever emitted except the JSON-LD
data block, which is escaped so that no content can close it. Classes carry the `bwk-` prefix so
they cannot collide with a partner's own styles.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from cms.snippets import Snippet
from cms.text import to_html

__all__ = ["EMBED_CSS", "SNIPPET_CSS", "embed_document", "json_script", "snippet_html"]

SNIPPET_CSS = """\
.bwk-snippet{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;\
border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:0;max-width:40em}
.bwk-snippet__title{font-size:1.25em;margin:0 0 .5em}
.bwk-snippet__body p,.bwk-snippet__precaution p{margin:0 0 .5em}
.bwk-snippet__precautions{background:#fff8e6;border-left:4px solid #b35900;padding:8px 12px;\
margin:12px 0}
.bwk-snippet__precautions-title{font-size:1em;margin:0 0 .25em}
.bwk-snippet__precaution-list{margin:0;padding-left:1.25em}
.bwk-snippet__review,.bwk-snippet__disclaimer,.bwk-snippet__attribution{font-size:.875em;\
margin:.5em 0 0}
.bwk-snippet__disclaimer{color:#444}
.bwk-snippet__attribution a{color:#0550ae}
"""
EMBED_CSS = SNIPPET_CSS + "body{margin:0}\n"


def snippet_html(snippet: Snippet) -> str:
    """An `<article>` fragment: heading, body, the list of precautions, the review, the
    disclaimer and an attribution link. Safe to insert into any page."""
    article = snippet.article
    precautions = "".join(
        f'<li class="bwk-snippet__precaution"><strong class="bwk-snippet__precaution-title">'
        f"{escape(p.title)}</strong>{to_html(p.body)}</li>"
        for p in snippet.precautions
    )
    if article.reviewed_by and article.last_reviewed:
        review = (
            f"Medically reviewed by {escape(article.reviewed_by)} on "
            f'<time datetime="{article.last_reviewed.isoformat()}">'
            f"{article.last_reviewed:%d %B %Y}</time>."
        )
    elif article.reviewed_by:
        review = f"Medically reviewed by {escape(article.reviewed_by)}."
    else:
        review = "Not yet medically reviewed."
    return (
        f'<article class="bwk-snippet" lang="en">'
        f'<h2 class="bwk-snippet__title">{escape(snippet.benefit.title)}</h2>'
        f'<div class="bwk-snippet__body">{to_html(snippet.benefit.body)}</div>'
        f'<section class="bwk-snippet__precautions" aria-label="Precautions">'
        f'<h3 class="bwk-snippet__precautions-title">Precautions</h3>'
        f'<ul class="bwk-snippet__precaution-list">{precautions}</ul></section>'
        f'<p class="bwk-snippet__review">{review}</p>'
        f'<p class="bwk-snippet__disclaimer" role="note">{escape(snippet.disclaimer)}</p>'
        f'<p class="bwk-snippet__attribution">From '
        f'<a href="{escape(snippet.url)}" rel="noopener noreferrer" target="_blank">'
        f"{escape(article.title)}</a> by {escape(article.author_name)}</p>"
        f"</article>"
    )


def json_script(data: Any) -> str:
    """JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` are escaped, so
    content can never end the block early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def embed_document(snippet: Snippet, *, oembed_url: str, json_ld: dict[str, Any]) -> str:
    """The standalone page served to iframes: the snippet, its styles and its structured data,
    with oEmbed discovery links."""
    title = f"{snippet.benefit.title} – {snippet.article.title}"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<link rel="canonical" href="{escape(snippet.url)}">'
        f'<link rel="alternate" type="application/json+oembed" href="{escape(oembed_url)}" '
        f'title="{escape(title)}">'
        f"<style>{EMBED_CSS}</style>"
        f'<script type="application/ld+json">{json_script(json_ld)}</script>'
        f"</head><body><main>{snippet_html(snippet)}</main></body></html>\n"
    )

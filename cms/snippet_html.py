"""Ready-to-embed markup of a snippet, and the standalone page that frames one.

Every title and name is escaped; every body goes through `cms.text.to_html` (raw HTML in
Markdown is shown as text, tags are allow-listed). No content ever reaches a script: the JSON-LD
data block is escaped so that nothing can close it, and the pages' one script is a constant.
Classes carry the `bwk-` prefix so they cannot collide with a partner's own styles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from cms.citations import Citation, citation_url
from cms.reviews import ReviewStatus
from cms.snippets import ReviewState, Snippet, SnippetItem
from cms.text import to_html, to_text

__all__ = [
    "EMBED_CSS",
    "FRAME_SCRIPT",
    "LABELS",
    "SNIPPET_CSS",
    "embed_document",
    "error_document",
    "estimated_height",
    "json_script",
    "snippet_html",
]

SNIPPET_CSS = """\
.bwk-snippet{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;\
border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:0;max-width:40em}
.bwk-snippet__title{font-size:1.25em;margin:0 0 .5em}
.bwk-snippet__body p,.bwk-snippet__precaution p{margin:0 0 .5em}
.bwk-snippet__precautions{background:#fff8e6;border-left:4px solid #b35900;padding:8px 12px;\
margin:12px 0}
.bwk-snippet__precautions-title{font-size:1em;margin:0 0 .25em}
.bwk-snippet__precaution-list{margin:0;padding-left:1.25em}
.bwk-snippet__sources-title{font-size:.875em;margin:12px 0 .25em}
.bwk-snippet__source-list{margin:0;padding-left:1.5em;font-size:.875em}
.bwk-snippet__source a{color:#0550ae}
.bwk-snippet__review,.bwk-snippet__disclaimer,.bwk-snippet__attribution{font-size:.875em;\
margin:.5em 0 0}
.bwk-snippet__disclaimer{color:#444}
.bwk-snippet__attribution a{color:#0550ae}
"""
EMBED_CSS = (
    SNIPPET_CSS
    + "body{margin:0}\n"
    + "main>[role=alert]{font:16px/1.5 system-ui,sans-serif;color:#8a1c1c;background:#fff;\
border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:0}\n"
)
# The page's one script: it tells the page that frames it how tall the content is (and again
# whenever that changes, or when asked), so `/embed-resize.js` there can size the iframe.
FRAME_SCRIPT = (
    '(()=>{"use strict";if(parent===window)return;const b=document.body;'
    'const post=()=>parent.postMessage({type:"bwk-embed-height",'
    'height:Math.ceil(b.getBoundingClientRect().height)},"*");'
    "new ResizeObserver(post).observe(b);"
    'addEventListener("message",(e)=>{if(e.source===parent&&e.data&&'
    'e.data.type==="bwk-embed-measure")post();});})();'
)


@dataclass(frozen=True)
class _Labels:
    precautions: str
    sources: str
    reviewed_by_on: str  # {name}, {date}
    changed_since_review: str  # {date}
    review_overdue: str  # {date}
    not_reviewed: str
    attribution: str  # {title}, {author}
    date_format: str


# The snippet's own words, in the languages we have them in; others fall back to English.
LABELS = {
    "en": _Labels(
        precautions="Precautions",
        sources="Sources",
        reviewed_by_on="Medically reviewed by {name} on {date}.",
        changed_since_review="Updated since its medical review on {date}.",
        review_overdue="Medical review overdue since {date}.",
        not_reviewed="Not yet medically reviewed.",
        attribution="From {title} by {author}",
        date_format="%d %B %Y",
    ),
    "de": _Labels(
        precautions="Vorsichtsmaßnahmen",
        sources="Quellen",
        reviewed_by_on="Medizinisch geprüft von {name} am {date}.",
        changed_since_review="Seit der medizinischen Prüfung am {date} geändert.",
        review_overdue="Medizinische Prüfung seit {date} überfällig.",
        not_reviewed="Noch nicht medizinisch geprüft.",
        attribution="Aus {title} von {author}",
        date_format="%d.%m.%Y",
    ),
}


def labels_for(chain: tuple[str, ...]) -> tuple[str, _Labels]:
    """The snippet's own words in the first locale of `chain` we have them in, else English."""
    ui = next((locale for locale in chain if locale in LABELS), "en")
    return ui, LABELS[ui]


def review_line(review: ReviewState, labels: _Labels, *, html: bool) -> str:
    """The one truthful sentence about the review: who reviewed the text as it is now, or that
    it changed since, or that the review is overdue, or that there was none. With `html`, escaped
    and with `<time>` elements."""

    def day(value: date | None) -> str:
        assert value is not None
        text = value.strftime(labels.date_format)
        return f'<time datetime="{value.isoformat()}">{text}</time>' if html else text

    name = escape(review.reviewer) if html else review.reviewer
    if review.status is ReviewStatus.CURRENT:
        return labels.reviewed_by_on.format(name=name, date=day(review.reviewed_on))
    if review.status is ReviewStatus.CHANGED_SINCE_REVIEW:
        return labels.changed_since_review.format(date=day(review.reviewed_on))
    if review.status is ReviewStatus.OVERDUE:
        return labels.review_overdue.format(date=day(review.next_review_due))
    return labels.not_reviewed


def sources_html(items: tuple[SnippetItem, ...], labels: _Labels, lang: str) -> str:
    """A "Sources" list of the items' citations (each once, in order); empty without any."""
    seen: list[Citation] = []
    for item in items:
        seen.extend(c for c in item.citations if c not in seen)
    if not seen:
        return ""
    entries = "".join(f'<li class="bwk-snippet__source">{_citation_html(c)}</li>' for c in seen)
    return (
        f'<section class="bwk-snippet__sources" aria-label="{escape(labels.sources)}">'
        f'<h3 class="bwk-snippet__sources-title"{lang}>{escape(labels.sources)}</h3>'
        f'<ol class="bwk-snippet__source-list">{entries}</ol></section>'
    )


def _citation_html(citation: Citation) -> str:
    details = ", ".join(
        escape(part)
        for part in (citation.publisher, str(citation.year) if citation.year else None)
        if part
    )
    link = (
        f'<a href="{escape(citation_url(citation))}" rel="noopener noreferrer" '
        f'target="_blank">{escape(citation.title)}</a>'
    )
    return f"{link}. {details}." if details else f"{link}."


def _lang(locale: str, around: str) -> str:
    """A `lang` attribute where an element's language differs from the one around it."""
    return f' lang="{escape(locale)}"' if locale != around else ""


def snippet_html(snippet: Snippet) -> str:
    """An `<article>` fragment: heading, body, the list of precautions, the review, the
    disclaimer and an attribution link. Safe to insert into any page. Its `lang` is the locale
    the snippet was read for; every part written in another locale (not translated yet, so
    fallen back) carries its own `lang`."""
    article = snippet.article
    language = article.language
    ui, labels = labels_for(article.chain)
    ui_lang = _lang(ui, language)
    precautions = "".join(
        f'<li class="bwk-snippet__precaution"{_lang(p.body_locale, language)}>'
        f'<strong class="bwk-snippet__precaution-title"{_lang(p.title_locale, p.body_locale)}>'
        f"{escape(p.title)}</strong>{to_html(p.body)}</li>"
        for p in snippet.precautions
    )
    review = review_line(article.review, labels, html=True)
    benefit = snippet.benefit
    sources = sources_html((benefit, *snippet.precautions), labels, ui_lang)
    link = (
        f'<a href="{escape(snippet.url)}" rel="noopener noreferrer" target="_blank"'
        f"{_lang(article.title_locale, ui)}>{escape(article.title)}</a>"
    )
    attribution = labels.attribution.format(title=link, author=escape(article.author_name))
    return (
        f'<article class="bwk-snippet" lang="{escape(language)}">'
        f'<h2 class="bwk-snippet__title"{_lang(benefit.title_locale, language)}>'
        f"{escape(benefit.title)}</h2>"
        f'<div class="bwk-snippet__body"{_lang(benefit.body_locale, language)}>'
        f"{to_html(benefit.body)}</div>"
        f'<section class="bwk-snippet__precautions" aria-label="{escape(labels.precautions)}">'
        f'<h3 class="bwk-snippet__precautions-title"{ui_lang}>{escape(labels.precautions)}</h3>'
        f'<ul class="bwk-snippet__precaution-list">{precautions}</ul></section>'
        f"{sources}"
        f'<p class="bwk-snippet__review"{ui_lang}>{review}</p>'
        f'<p class="bwk-snippet__disclaimer" role="note"'
        f"{_lang(snippet.disclaimer_locale, language)}>{escape(snippet.disclaimer)}</p>"
        f'<p class="bwk-snippet__attribution"{ui_lang}>{attribution}</p>'
        f"</article>"
    )


def json_script(data: Any) -> str:
    """JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` are escaped, so
    content can never end the block early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def embed_document(snippet: Snippet, *, oembed_url: str, json_ld: dict[str, Any]) -> str:
    """The standalone page served to iframes: the snippet, its styles and its structured data,
    with oEmbed discovery links; its title and description are the article's for search engines."""
    title = f"{snippet.benefit.title} – {snippet.article.meta.title}"
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(snippet.article.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<meta name="description" content="{escape(snippet.article.meta.description)}">'
        f'<link rel="canonical" href="{escape(snippet.url)}">'
        f'<link rel="alternate" type="application/json+oembed" href="{escape(oembed_url)}" '
        f'title="{escape(title)}">'
        f"<style>{EMBED_CSS}</style>"
        f'<script type="application/ld+json">{json_script(json_ld)}</script>'
        f"</head><body><main>{snippet_html(snippet)}</main>"
        f"<script>{FRAME_SCRIPT}</script></body></html>\n"
    )


def error_document(message: str) -> str:
    """A page that says, in one sentence a reader understands, why the snippet is not shown;
    what an iframe shows instead of an error envelope. Styled and sized like the snippet."""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Not available</title>"
        f"<style>{EMBED_CSS}</style></head>"
        f'<body><main><p role="alert">{escape(message)}</p></main>'
        f"<script>{FRAME_SCRIPT}</script></body></html>\n"
    )


# The box model of SNIPPET_CSS in px, for `estimated_height`.
_SNIPPET_FRAME = 34  # border 1 + padding 16, on each side
_SNIPPET_MAX_TEXT = 640  # max-width 40em
_PRECAUTIONS_INDENT = 48  # border 4 + padding 12 + 12, list padding 20
_PRECAUTIONS_FRAME = 68  # margin 12 + 12, padding 8 + 8, heading 24 + 4
# An average character as wide as DejaVu Sans's (wider than most system-ui fonts), bold wider.
_CHAR_EM, _BOLD_EM = 0.56, 0.64


def _lines(text: str, width: float, font_px: float, *, em: float = _CHAR_EM) -> int:
    """Lines `text` takes when wrapped at word boundaries in `width` px (estimated)."""
    per_line = max(1, int(width // (font_px * em)))
    lines = 0
    for block in text.split("\n"):
        lines += 1
        used = 0
        for word in block.split():
            if used and used + 1 + len(word) > per_line:
                lines += 1
                used = len(word)
            else:
                used += (1 if used else 0) + len(word)
            while used > per_line:  # a word longer than a line
                lines += 1
                used -= per_line
    return lines


def _paragraphs(markdown: str) -> list[str]:
    return [block for block in to_text(markdown).split("\n\n") if block.strip()]


def estimated_height(snippet: Snippet, width: int) -> int:
    """The height in px the embed page needs at `width` px wide, erring tall: what an iframe
    that no script resizes must be given so that nothing is cut off."""
    text = min(width - _SNIPPET_FRAME, _SNIPPET_MAX_TEXT)
    inner = text - _PRECAUTIONS_INDENT
    height = _SNIPPET_FRAME + _lines(snippet.benefit.title, text, 20, em=_BOLD_EM) * 30 + 10
    height += sum(_lines(block, text, 16) * 24 + 8 for block in _paragraphs(snippet.benefit.body))
    height += _PRECAUTIONS_FRAME
    for precaution in snippet.precautions:
        height += _lines(precaution.title, inner, 16, em=_BOLD_EM) * 24
        height += sum(_lines(block, inner, 16) * 24 + 8 for block in _paragraphs(precaution.body))
    article = snippet.article
    _, labels = labels_for(article.chain)
    review = labels.reviewed_by_on.format(name=article.review.reviewer, date="00 September 0000")
    citations = {c for item in (snippet.benefit, *snippet.precautions) for c in item.citations}
    if citations:
        height += (
            7
            + 21
            + sum(
                _lines(f"{c.title}. {c.publisher or ''}, {c.year or ''}.", text - 24, 14) * 21
                for c in citations
            )
        )
    attribution = labels.attribution.format(title=article.title, author=article.author_name)
    for small in (review, snippet.disclaimer, attribution):
        height += 7 + _lines(small, text, 14) * 21
    return height

"""Prose formats: Markdown as stored, sanitised HTML, and plain text.

Rendering is pure and deterministic, so results are memoised: a body is rendered once per
process, not once per request.
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["UNSTORABLE_TEXT", "TextFormat", "storable", "render", "to_html", "to_text"]

# What no text may hold, since no database stores it: C0 control characters but tab, newline
# and carriage return (NUL among them), and UTF-16 surrogates on their own.
UNSTORABLE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def storable(text: str) -> str:
    """`text`, or ValueError when it holds what no text may hold (a validator of documents)."""
    if UNSTORABLE_TEXT.search(text):
        raise ValueError("holds a NUL or another control character, which text may not contain")
    return text


# CommonMark with raw HTML disabled: HTML typed into a body is shown as text, never passed through.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")

_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}
_BLOCK_SEPARATOR = "\n\n"


class TextFormat(enum.Enum):
    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"


@lru_cache(maxsize=8192)
def to_html(markdown: str) -> str:
    """Markdown to HTML that is safe to insert into any page: a fixed tag allow-list, http(s) and
    mailto links only, `rel="noopener noreferrer nofollow"` on every link."""
    rendered = _markdown.render(markdown)
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


@lru_cache(maxsize=8192)
def to_text(markdown: str) -> str:
    """Markdown to plain text: the words a reader sees, blocks separated by a blank line."""
    blocks = [_inline_text(token) for token in _markdown.parse(markdown) if token.type == "inline"]
    return _BLOCK_SEPARATOR.join(block for block in blocks if block)


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def render(markdown: str, text_format: TextFormat) -> str:
    if text_format is TextFormat.HTML:
        return to_html(markdown)
    if text_format is TextFormat.TEXT:
        return to_text(markdown)
    return markdown

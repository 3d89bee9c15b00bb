"""Ready-to-embed markup: well formed, namespaced, accessible, and inert whatever the content."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import session_scope
from cms.snippets import DISCLAIMER
from tests.conftest import GraphQL
from tests.xss import PAYLOADS, xss_document

pytestmark = pytest.mark.anyio

HTML = """
query Html($article: String!) { benefitSnippets(article: $article) { html body(format: TEXT) } }
"""

_VOID = {"br", "hr", "img", "meta", "link", "input"}
_ALLOWED_TAGS = {
    "article", "h2", "h3", "div", "section", "ul", "li", "p", "strong", "a", "time", "em",
    "code", "br", "blockquote", "pre", "ol", "hr",
}  # fmt: skip


class _Markup(HTMLParser):
    """Records tags, attributes and text; fails on a closing tag that closes nothing open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Markup:
    markup = _Markup()
    markup.feed(html)
    markup.close()
    assert markup.open == []
    return markup


async def test_snippet_html_is_well_formed_namespaced_and_attributed(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(HTML, {"article": "back-walk"})
    html = body["data"]["benefitSnippets"][0]["html"]
    markup = _parse(html)
    classes = {c for _, attrs in markup.tags for c in (attrs.get("class") or "").split()}
    assert classes and all(c.startswith("bwk-") for c in classes)
    assert [tag for tag, _ in markup.tags if tag in {"h2", "h3", "ul"}] == ["h2", "h3", "ul"]
    assert [tag for tag, _ in markup.tags].count("li") == 3
    (link,) = [attrs for tag, attrs in markup.tags if tag == "a"]
    assert link == {
        "href": "http://127.0.0.1:8000/articles/back-walk#stress-relief",
        "rel": "noopener noreferrer",
        "target": "_blank",
    }
    text = "".join(markup.text)
    assert "Pregnancy" in text and DISCLAIMER in text and "Not yet medically reviewed." in text


async def test_payloads_in_content_are_shown_as_text_in_snippet_html(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(session, xss_document())
    body = await graphql(HTML, {"article": "xss"})
    snippets = body["data"]["benefitSnippets"]
    assert len(snippets) == len(PAYLOADS)
    for snippet in snippets:
        markup = _parse(snippet["html"])
        for tag, attrs in markup.tags:
            assert tag in _ALLOWED_TAGS, tag
            assert not any(name.startswith("on") or name == "srcdoc" for name in attrs), attrs
            assert not (attrs.get("href") or "").startswith("javascript:"), attrs
        text = "".join(markup.text)
        assert PAYLOADS[0] in text and PAYLOADS[1] in text and PAYLOADS[2] in text

"""Prose as data: Markdown as a flat list of typed nodes, each naming its parent by index, for
apps that render without HTML.

The tree is built from markdown-it tokens and holds only paragraphs, headings, lists and their
items, emphasis, strong, inline code, line breaks, text and links; everything else is unwrapped
(block quotes), turned into those (code blocks, table rows, image alt text) or dropped (raw
HTML, rules). Text is only ever text. A link keeps its words; it becomes a link node only for an
http(s) address, classified as an article or a benefit of this CMS, or external.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from cms.content_model import SLUG_PATTERN
from cms.snippets import article_url

__all__ = ["MAX_DEPTH", "LinkKind", "Node", "NodeKind", "Sites", "to_tree"]

# Deeper containers are unwrapped into their ancestor at this depth (their blocks separated by a
# space): a client recursing over the tree has a known bound, whatever the Markdown nests.
MAX_DEPTH = 12

# Raw HTML is recognised (so that it can be dropped whole), never rendered.
_markdown = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


class NodeKind(enum.Enum):
    PARAGRAPH = "paragraph"
    HEADING = "heading"
    LIST = "list"
    LIST_ITEM = "list_item"
    TEXT = "text"
    EMPHASIS = "emphasis"
    STRONG = "strong"
    CODE = "code"
    LINE_BREAK = "line_break"
    LINK = "link"


class LinkKind(enum.Enum):
    ARTICLE = "article"
    BENEFIT = "benefit"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Node:
    """One node; `parent` is the index of its parent in the list, None at the top."""

    kind: NodeKind
    parent: int | None
    text: str = ""  # TEXT and CODE
    level: int = 0  # HEADING: 1 to 6
    ordered: bool = False  # LIST
    start: int = 1  # LIST: the first number of an ordered list
    href: str = ""  # LINK: an absolute http(s) URL, or `#benefit` within the same article
    link_kind: LinkKind | None = None
    article_slug: str | None = None  # ARTICLE and BENEFIT links; None: the same article
    benefit_slug: str | None = None  # BENEFIT links


@dataclass(frozen=True)
class Sites:
    """Where links count as this CMS's own: the public site (`/articles/{slug}`) and the API
    (`/embed/{article}/{benefit}`, when its address is known)."""

    site_url: str
    public_url: str | None = None


_CONTAINERS = {
    "paragraph_open": NodeKind.PARAGRAPH,
    "heading_open": NodeKind.HEADING,
    "bullet_list_open": NodeKind.LIST,
    "ordered_list_open": NodeKind.LIST,
    "list_item_open": NodeKind.LIST_ITEM,
    "tr_open": NodeKind.PARAGRAPH,
    "em_open": NodeKind.EMPHASIS,
    "strong_open": NodeKind.STRONG,
}
_CELL_SEPARATOR = "\t"
_UNSAFE_IN_URLS = re.compile(r"[\x00-\x20\x7f]")
_SLUG = re.compile(SLUG_PATTERN)


@lru_cache(maxsize=8192)
def to_tree(markdown: str, sites: Sites) -> tuple[Node, ...]:
    """The nodes of `markdown` in document order (a parent before its children)."""
    builder = _Builder(sites)
    for token in _markdown.parse(markdown):
        if token.type == "inline":
            builder.inline(token.children or [])
        else:
            builder.token(token)
    return tuple(builder.nodes)


class _Builder:
    def __init__(self, sites: Sites) -> None:
        self.sites = sites
        self.nodes: list[Node] = []
        # One entry per open token: the node it opened, or None when it was unwrapped.
        self.stack: list[int | None] = []
        self.depth = 0
        self.cells = 0  # cells opened in the current table row

    @property
    def parent(self) -> int | None:
        return next((index for index in reversed(self.stack) if index is not None), None)

    def token(self, token: Token) -> None:
        if token.nesting == 1:
            self.open(token)
        elif token.nesting == -1:
            self.close()
        elif token.type in ("fence", "code_block"):
            paragraph = self.add(Node(NodeKind.PARAGRAPH, self.parent))
            self.add(Node(NodeKind.CODE, paragraph, text=token.content.rstrip("\n")))
        # html_block, hr and anything else of no nesting is dropped.

    def inline(self, children: list[Token]) -> None:
        for child in children:
            if child.type == "text":
                self.text(child.content)
            elif child.type == "softbreak":
                self.text(" ")
            elif child.type == "hardbreak":
                self.add(Node(NodeKind.LINE_BREAK, self.parent))
            elif child.type == "code_inline":
                self.add(Node(NodeKind.CODE, self.parent, text=child.content))
            elif child.type == "image":
                self.text(child.content)  # its alt text
            elif child.type == "link_open":
                self.link(child)
            elif child.nesting == 1:
                self.open(child)
            elif child.nesting == -1:
                self.close()
            # html_inline and anything else is dropped.

    def open(self, token: Token) -> None:
        if token.type == "tr_open":
            self.cells = 0
        elif token.type in ("th_open", "td_open"):
            if self.cells:
                self.text(_CELL_SEPARATOR)
            self.cells += 1
        kind = _CONTAINERS.get(token.type)
        if kind is None or self.depth >= MAX_DEPTH:
            if kind is not None and token.block and self._ends_in_a_word():
                self.text(" ")
            self.stack.append(None)
            return
        if kind is NodeKind.HEADING:
            node = Node(kind, self.parent, level=int(token.tag[1]))
        elif token.type == "ordered_list_open":
            node = Node(kind, self.parent, ordered=True, start=int(token.attrGet("start") or 1))
        else:
            node = Node(kind, self.parent)
        self.stack.append(self.add(node))
        self.depth += 1

    def close(self) -> None:
        if not self.stack:
            return
        index = self.stack.pop()
        if index is None:
            return
        self.depth -= 1
        if index == len(self.nodes) - 1:
            self.nodes.pop()  # a container left empty (its content was dropped)

    def link(self, token: Token) -> None:
        href = token.attrGet("href")
        node = _link(href if isinstance(href, str) else "", self.parent, self.sites)
        if node is None or self.depth >= MAX_DEPTH:
            self.stack.append(None)  # the words stay, the link goes
            return
        self.stack.append(self.add(node))
        self.depth += 1

    def text(self, text: str) -> None:
        if not text:
            return
        if self.nodes and self.nodes[-1].kind is NodeKind.TEXT:
            last = self.nodes[-1]
            if last.parent == self.parent:
                self.nodes[-1] = Node(NodeKind.TEXT, last.parent, text=last.text + text)
                return
        self.add(Node(NodeKind.TEXT, self.parent, text=text))

    def _ends_in_a_word(self) -> bool:
        last = self.nodes[-1] if self.nodes else None
        return last is not None and last.kind is NodeKind.TEXT and not last.text.endswith(" ")

    def add(self, node: Node) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1


def _link(href: str, parent: int | None, sites: Sites) -> Node | None:
    """A link node for `href`, or None when it is dropped (not http(s), or malformed)."""
    if _UNSAFE_IN_URLS.search(href):
        return None  # browsers drop tabs and newlines: `jav\tascript:` would become a scheme
    try:
        url = urlsplit(href)
        url.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if not url.scheme and not url.netloc and not url.path and url.fragment:
        if not _slugs("same-article", unquote(url.fragment)):
            return None  # an anchor that cannot be a benefit
        return Node(
            NodeKind.LINK,
            parent,
            href=f"#{url.fragment}",
            link_kind=LinkKind.BENEFIT,
            benefit_slug=unquote(url.fragment),
        )
    if not url.scheme and not url.netloc:
        # Relative links are read as from an article page of the site.
        url = urlsplit(urljoin(f"{sites.site_url}/articles/", href))
    if url.scheme not in ("http", "https") or not url.hostname:
        return None
    target = _own_target(url.geturl(), sites)
    if target is None:
        return Node(NodeKind.LINK, parent, href=url.geturl(), link_kind=LinkKind.EXTERNAL)
    article, benefit = target
    canonical = article_url(sites.site_url, article)
    return Node(
        NodeKind.LINK,
        parent,
        href=f"{canonical}#{benefit}" if benefit else canonical,
        link_kind=LinkKind.BENEFIT if benefit else LinkKind.ARTICLE,
        article_slug=article,
        benefit_slug=benefit,
    )


def _own_target(href: str, sites: Sites) -> tuple[str, str | None] | None:
    """(article, benefit or None) when `href` is an article or embed URL of this CMS; the
    scheme is not compared, since a proxy in front may terminate TLS."""
    url = urlsplit(href)
    for base in (sites.site_url, sites.public_url):
        if base is None:
            continue
        origin = urlsplit(base)
        if url.netloc.lower() != origin.netloc.lower():
            continue
        path = url.path.removeprefix(origin.path.rstrip("/"))
        parts = [unquote(part) for part in path.split("/")]
        fragment = unquote(url.fragment)
        if len(parts) == 3 and parts[1] == "articles" and _slugs(parts[2], fragment):
            return parts[2], fragment or None
        if len(parts) == 4 and parts[1] == "embed" and _slugs(parts[2], parts[3]) and parts[3]:
            return parts[2], parts[3]
    return None


def _slugs(article: str, benefit: str) -> bool:
    """Whether these can be an article's and (when given) a benefit's slug."""
    return bool(_SLUG.match(article)) and (not benefit or bool(_SLUG.match(benefit)))

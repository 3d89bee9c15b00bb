"""Prose as a typed tree (`cms.rich_text`) over GraphQL: `RichText`, a flat list of nodes that
name their parent by index, each node type implementing `RichTextNode`."""

from __future__ import annotations

from collections.abc import Callable

import strawberry

from cms import rich_text
from cms.graphql import enums as enums  # registers the enums first
from cms.rich_text import NodeKind

__all__ = ["RICH_TEXT_TYPES", "RichText", "RichTextNode", "rich_text_of"]


@strawberry.interface(
    description="A node of a prose tree. Its type (`__typename`) says what it is; `parent` "
    "places it in the tree."
)
class RichTextNode:
    parent: int | None = strawberry.field(
        description="The index, in `RichText.nodes`, of the node holding this one; null for a "
        "block at the top level. A parent always comes before its children, which are in "
        "reading order."
    )


@strawberry.type(description="A paragraph: holds inline nodes.")
class RichTextParagraph(RichTextNode):
    pass


@strawberry.type(description="A heading: holds inline nodes.")
class RichTextHeading(RichTextNode):
    level: int = strawberry.field(description="1 (most important) to 6.")


@strawberry.type(description="A list: holds `RichTextListItem`s.")
class RichTextList(RichTextNode):
    ordered: bool = strawberry.field(description="Numbered (true) or bulleted (false).")
    start: int = strawberry.field(description="The number of the first item, when ordered.")


@strawberry.type(description="An item of a list: holds paragraphs and lists.")
class RichTextListItem(RichTextNode):
    pass


@strawberry.type(description="Words, to show as they are (never markup).")
class RichTextText(RichTextNode):
    text: str = strawberry.field(description="Plain text; may hold tabs between table cells.")


@strawberry.type(description="Emphasised inline nodes (usually italic).")
class RichTextEmphasis(RichTextNode):
    pass


@strawberry.type(description="Strongly emphasised inline nodes (usually bold).")
class RichTextStrong(RichTextNode):
    pass


@strawberry.type(description="Code, in a monospace font; a code block is a paragraph of one.")
class RichTextCode(RichTextNode):
    text: str = strawberry.field(description="The code, as plain text (may hold newlines).")


@strawberry.type(description="A line break within a paragraph.")
class RichTextLineBreak(RichTextNode):
    pass


@strawberry.type(
    description="A link around inline nodes. Only http(s) links are links; any other keeps its "
    "words and loses the link."
)
class RichTextLink(RichTextNode):
    href: str = strawberry.field(
        description="An absolute http(s) URL (an article's or benefit's canonical URL for "
        "ARTICLE and BENEFIT), or `#benefit-slug` for a benefit of the same article."
    )
    kind: rich_text.LinkKind = strawberry.field(
        description="What the link addresses: open ARTICLE and BENEFIT links in the app."
    )
    article_slug: str | None = strawberry.field(
        description="The article an ARTICLE or BENEFIT link addresses; null for EXTERNAL links "
        "and for a benefit of the same article."
    )
    benefit_slug: str | None = strawberry.field(
        description="The benefit a BENEFIT link addresses; null otherwise."
    )


@strawberry.type(
    description="Prose as data, for apps that render without HTML: every node in document "
    "order, each naming its parent by index. Rebuild the tree in one pass; it is at most "
    f"{rich_text.MAX_DEPTH} levels deep."
)
class RichText:
    nodes: list[RichTextNode] = strawberry.field(
        description="The nodes, a parent before its children."
    )


_TYPES: dict[NodeKind, Callable[[rich_text.Node], RichTextNode]] = {
    NodeKind.PARAGRAPH: lambda n: RichTextParagraph(parent=n.parent),
    NodeKind.HEADING: lambda n: RichTextHeading(parent=n.parent, level=n.level),
    NodeKind.LIST: lambda n: RichTextList(parent=n.parent, ordered=n.ordered, start=n.start),
    NodeKind.LIST_ITEM: lambda n: RichTextListItem(parent=n.parent),
    NodeKind.TEXT: lambda n: RichTextText(parent=n.parent, text=n.text),
    NodeKind.EMPHASIS: lambda n: RichTextEmphasis(parent=n.parent),
    NodeKind.STRONG: lambda n: RichTextStrong(parent=n.parent),
    NodeKind.CODE: lambda n: RichTextCode(parent=n.parent, text=n.text),
    NodeKind.LINE_BREAK: lambda n: RichTextLineBreak(parent=n.parent),
    NodeKind.LINK: lambda n: RichTextLink(
        parent=n.parent,
        href=n.href,
        kind=n.link_kind or rich_text.LinkKind.EXTERNAL,
        article_slug=n.article_slug,
        benefit_slug=n.benefit_slug,
    ),
}
# Every implementation, for the schema (none is reachable from a field's declared type).
RICH_TEXT_TYPES: tuple[type, ...] = (
    RichTextParagraph,
    RichTextHeading,
    RichTextList,
    RichTextListItem,
    RichTextText,
    RichTextEmphasis,
    RichTextStrong,
    RichTextCode,
    RichTextLineBreak,
    RichTextLink,
)


def rich_text_of(markdown: str, sites: rich_text.Sites) -> RichText:
    return RichText(nodes=[_TYPES[node.kind](node) for node in rich_text.to_tree(markdown, sites)])

"""Prose as a typed tree (`bodyTree`, `introTree`, ...): the seed article's real prose, links
classified by what they address, and hostile Markdown reduced to the allowed nodes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import session_scope
from cms.rich_text import MAX_DEPTH
from tests.conftest import GraphQL
from tests.documents import article_document

pytestmark = pytest.mark.anyio

NODES = """
fragment Tree on RichText {
  nodes {
    __typename parent
    ... on RichTextHeading { level }
    ... on RichTextList { ordered start }
    ... on RichTextText { text }
    ... on RichTextCode { text }
    ... on RichTextLink { href kind articleSlug benefitSlug }
  }
}
"""

SEED_TREES = (
    NODES
    + """
query Seed {
  article(slug: "back-walk") {
    intro(format: TEXT) introTree { ...Tree }
    benefits { slug body(format: TEXT) bodyTree { ...Tree } }
    author { bioTree { ...Tree } }
    conclusion { bodyTree { ...Tree } }
  }
  benefitSnippet(article: "back-walk", benefit: "stress-relief") {
    bodyTree { ...Tree } precautions { bodyTree { ...Tree } }
  }
}
"""
)

BENEFIT_TREE = (
    NODES
    + """
query Benefit($slug: String!) { article(slug: $slug) { benefits { bodyTree { ...Tree } } } }
"""
)


def _compact(nodes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each node as (type without the prefix, parent, its other fields in order)."""
    return [
        (n["__typename"].removeprefix("RichText"), n["parent"], *list(n.values())[2:])
        for n in nodes
    ]


async def _benefit_tree(engine: AsyncEngine, graphql: GraphQL, body: str) -> list[tuple[Any, ...]]:
    async with session_scope(engine) as session:
        await content.save_article_document(
            session, article_document(slug="hostile", benefit_body=body)
        )
    answer = await graphql(BENEFIT_TREE, {"slug": "hostile"})
    assert "errors" not in answer, answer
    return _compact(answer["data"]["article"]["benefits"][0]["bodyTree"]["nodes"])


async def test_the_seed_prose_is_a_paragraph_of_its_plain_text(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql(SEED_TREES)
    assert "errors" not in body, body
    article = body["data"]["article"]
    assert _compact(article["introTree"]["nodes"]) == [
        ("Paragraph", None),
        ("Text", 0, article["intro"]),
    ]
    assert len(article["benefits"]) == 7
    for benefit in article["benefits"]:
        assert _compact(benefit["bodyTree"]["nodes"]) == [
            ("Paragraph", None),
            ("Text", 0, benefit["body"]),
        ], benefit["slug"]
    for tree in (
        article["author"]["bioTree"],
        article["conclusion"]["bodyTree"],
        body["data"]["benefitSnippet"]["bodyTree"],
        *(p["bodyTree"] for p in body["data"]["benefitSnippet"]["precautions"]),
    ):
        kinds = [node["__typename"] for node in tree["nodes"]]
        assert kinds[0] == "RichTextParagraph" and set(kinds) <= {
            "RichTextParagraph",
            "RichTextText",
        }


async def test_structure_becomes_typed_nodes(engine: AsyncEngine, graphql: GraphQL) -> None:
    markdown = (
        "## Why\n\nWalk *slowly* and **gently**, with `care`  \nthen rest.\n\n"
        "3. three\n4. four\n\n- one\n  - nested\n\n> quoted\n\n```\nx < y\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n\n![A back walk](walk.png)"
    )
    assert await _benefit_tree(engine, graphql, markdown) == [
        ("Heading", None, 2),
        ("Text", 0, "Why"),
        ("Paragraph", None),
        ("Text", 2, "Walk "),
        ("Emphasis", 2),
        ("Text", 4, "slowly"),
        ("Text", 2, " and "),
        ("Strong", 2),
        ("Text", 7, "gently"),
        ("Text", 2, ", with "),
        ("Code", 2, "care"),
        ("LineBreak", 2),
        ("Text", 2, "then rest."),
        ("List", None, True, 3),
        ("ListItem", 13),
        ("Paragraph", 14),
        ("Text", 15, "three"),
        ("ListItem", 13),
        ("Paragraph", 17),
        ("Text", 18, "four"),
        ("List", None, False, 1),
        ("ListItem", 20),
        ("Paragraph", 21),
        ("Text", 22, "one"),
        ("List", 21, False, 1),
        ("ListItem", 24),
        ("Paragraph", 25),
        ("Text", 26, "nested"),
        ("Paragraph", None),
        ("Text", 28, "quoted"),
        ("Paragraph", None),
        ("Code", 30, "x < y"),
        ("Paragraph", None),  # a table row, its cells separated by tabs
        ("Text", 32, "a\tb"),
        ("Paragraph", None),
        ("Text", 34, "1\t2"),
        ("Paragraph", None),  # the rule is dropped; an image is its alt text
        ("Text", 36, "A back walk"),
    ]


async def test_links_are_classified_by_what_they_address(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    site = "http://127.0.0.1:8000"
    markdown = (
        f"[a]({site}/articles/back-walk) [b](/articles/back-walk#stress-relief) "
        f"[c]({site}/embed/back-walk/better-sleep) [d](#detox) [e](other-article) "
        "[f](https://example.org/x?y=1) [g](mailto:care@example.org) [h](/about)"
    )
    assert await _benefit_tree(engine, graphql, markdown) == [
        ("Paragraph", None),
        ("Link", 0, f"{site}/articles/back-walk", "ARTICLE", "back-walk", None),
        ("Text", 1, "a"),
        ("Text", 0, " "),
        (
            "Link", 0, f"{site}/articles/back-walk#stress-relief", "BENEFIT", "back-walk",
            "stress-relief",
        ),
        ("Text", 4, "b"),
        ("Text", 0, " "),
        (
            "Link", 0, f"{site}/articles/back-walk#better-sleep", "BENEFIT", "back-walk",
            "better-sleep",
        ),
        ("Text", 7, "c"),
        ("Text", 0, " "),
        ("Link", 0, "#detox", "BENEFIT", None, "detox"),
        ("Text", 10, "d"),
        ("Text", 0, " "),
        ("Link", 0, f"{site}/articles/other-article", "ARTICLE", "other-article", None),
        ("Text", 13, "e"),
        ("Text", 0, " "),
        ("Link", 0, "https://example.org/x?y=1", "EXTERNAL", None, None),
        ("Text", 16, "f"),
        ("Text", 0, " g "),  # mailto: is not http(s): the words stay, the link goes
        ("Link", 0, f"{site}/about", "EXTERNAL", None, None),
        ("Text", 19, "h"),
    ]  # fmt: skip


async def test_hostile_markdown_keeps_only_text(engine: AsyncEngine, graphql: GraphQL) -> None:
    markdown = (
        '<script>alert("block")</script>\n\n'
        "Hi <img src=x onerror=alert(1)><b>there</b> "
        "[js](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) "
        "[vb](VBScript:msgbox) [obf](jav&#x09;ascript:alert(1)) <a href='javascript:x'>a</a>\n\n"
        "<div onclick=alert(1)>\n\nblock html\n\n</div>"
    )
    nodes = await _benefit_tree(engine, graphql, markdown)
    assert {node[0] for node in nodes} == {"Paragraph", "Text", "Link"}
    # Only an http(s) URL is ever a link: the encoded tab makes this one a path on the site.
    links = [node[2:] for node in nodes if node[0] == "Link"]
    assert links == [
        ("http://127.0.0.1:8000/articles/jav%09ascript:alert(1)", "EXTERNAL", None, None)
    ]
    # Raw HTML is gone, tags and the script block's content alike; what markdown-it would not
    # read as a link is words, shown as they are.
    assert [node[2] for node in nodes if node[0] == "Text"] == [
        "Hi there [js](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) "
        "[vb](VBScript:msgbox) ",
        "obf",
        " a",
        "block html",
    ]


async def test_deep_nesting_is_flattened_at_the_depth_limit(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    markdown = "".join(f"{'  ' * level}- item {level}\n" for level in range(40))
    markdown += "\n" + "> " * 100 + "deep quote\n\n" + "*" * 300 + "x" + "*" * 300
    nodes = await _benefit_tree(engine, graphql, markdown)

    def depth(index: int) -> int:
        parent = nodes[index][1]
        return 1 if parent is None else 1 + depth(parent)

    assert max(depth(i) for i in range(len(nodes))) == MAX_DEPTH + 1  # text under the deepest
    assert all(node[1] is None or node[1] < i for i, node in enumerate(nodes))
    texts = [node[2] for node in nodes if node[0] == "Text"]
    assert texts[: MAX_DEPTH // 3] == [f"item {level}" for level in range(MAX_DEPTH // 3)]


async def test_a_tree_adds_nothing_to_the_query_cost(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    plain = "{ articles(first: 20) { nodes { benefits { body } } } }"
    tree = NODES + "{ articles(first: 20) { nodes { benefits { body bodyTree { ...Tree } } } } }"
    costs = []
    for query in (plain, tree):
        response = await client.post("/graphql", json={"query": query})
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        costs.append(response.json()["extensions"]["cost"]["requested"])
    assert costs == [20 + 20 * 10, 20 + 20 * 10]

"""Text no database stores (NUL, other control characters) is refused wherever it comes in,
with the same answer on SQLite and PostgreSQL, and nothing is written."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.documents import validate_document
from cms.errors import ContentProblem, InvalidContent
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document

pytestmark = pytest.mark.anyio

BY_SLUG = "query($slug: String!) { article(slug: $slug) { title } }"
SNIPPET = """
query($benefit: String!) {
  benefitSnippet(article: "back-walk", benefit: $benefit) { title }
}
"""
TRANSLATE = """
mutation($input: ArticleTranslationInput!) {
  articleTranslationSave(slug: "back-walk", locale: "de", expectedVersion: 1, input: $input) {
    errors { field message }
  }
}
"""


def _refused(where: str) -> dict[str, object]:
    return {
        "data": None,
        "errors": [
            {
                "message": f"The {where} holds a NUL or another control character, which text "
                "may not contain.",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }


@pytest.mark.parametrize("text", ["back\x00walk", "back\x1bwalk"])
async def test_a_variable_with_unstorable_text_is_bad_user_input(
    seeded: AsyncEngine, graphql: GraphQL, text: str
) -> None:
    body = await graphql(BY_SLUG, {"slug": text})
    assert {k: v for k, v in body.items() if k != "extensions"} == _refused("variable `slug`")


async def test_a_lone_surrogate_is_refused_as_malformed_json(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    body = b'{"query": "%s", "variables": {"slug": "back\\ud800walk"}}' % BY_SLUG.encode()
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_literal_with_a_nul_is_bad_user_input(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    body = await graphql('{ article(slug: "back\\u0000walk") { title } }')
    assert {k: v for k, v in body.items() if k != "extensions"} == _refused("argument `slug`")


async def test_snippet_arguments_are_checked_too(seeded: AsyncEngine, graphql: GraphQL) -> None:
    body = await graphql(SNIPPET, {"benefit": "stress\x00relief"})
    assert {k: v for k, v in body.items() if k != "extensions"} == _refused("variable `benefit`")


async def test_a_translation_with_a_nul_is_refused_and_nothing_is_stored(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    body = await graphql(TRANSLATE, {"input": {"title": "Rücken\x00"}}, token=token)
    assert {k: v for k, v in body.items() if k != "extensions"} == _refused(
        "variable `input.title`"
    )
    read = await graphql('{ article(slug: "back-walk", locale: "de") { title } }')
    assert "\x00" not in read["data"]["article"]["title"]


async def test_tabs_and_newlines_are_text() -> None:
    document = article_document(slug="tabs")
    data = document.model_dump(mode="json")
    data["intro"] = "Line one\n\tLine two\r\n"
    assert validate_document(data).intro == "Line one\n\tLine two"


def test_a_document_with_a_control_character_names_the_field() -> None:
    data = article_document(slug="nul").model_dump(mode="json")
    data["benefits"][0]["title"] = "Stress\x00"
    with pytest.raises(InvalidContent) as refused:
        validate_document(data)
    assert refused.value.problems == [
        ContentProblem(
            "",
            "benefits[0].title",
            "holds a NUL or another control character, which text may not contain",
        )
    ]

"""Limits on what one anonymous request may make the server do: nesting, document size, parses,
cache entries, time."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

READ = '{ article(slug: "back-walk") { title } }'


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [300, 2000])
async def test_deeply_nested_variables_are_a_bad_request(
    client: httpx.AsyncClient, levels: int
) -> None:
    body = '{"query": "{ __typename }", "variables": {"a": ' + _nested(levels) + "}}"
    posted = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    got = await client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"a": ' + _nested(levels) + "}"},
    )
    for response in (posted, got):
        assert response.status_code == 400, response.text
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]

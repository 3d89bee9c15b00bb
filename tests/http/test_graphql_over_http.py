"""GraphQL over HTTP, as the spec says, and document limits refused before any database work."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.http import create_app
from cms.settings import Settings

pytestmark = pytest.mark.anyio

GRAPHQL_RESPONSE = "application/graphql-response+json"
READ = '{ article(slug: "back-walk") { title } }'


async def test_the_graphql_response_media_type_is_served_when_accepted(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/graphql", json={"query": READ}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    legacy = await client.post("/graphql", json={"query": READ})
    assert legacy.headers["content-type"].startswith("application/json")
    assert response.json() == legacy.json()


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ nope }", "GRAPHQL_VALIDATION_FAILED"), ("{ article(slug: ", "GRAPHQL_PARSE_FAILED")],
)
async def test_a_request_error_is_400_without_data_for_graphql_response_json(
    seeded: AsyncEngine, client: httpx.AsyncClient, query: str, code: str
) -> None:
    strict = await client.post(
        "/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert [e["extensions"]["code"] for e in strict.json()["errors"]] == [code]
    legacy = await client.post("/graphql", json={"query": query})
    assert legacy.status_code == 200
    assert [e["extensions"]["code"] for e in legacy.json()["errors"]] == [code]


async def test_a_mutation_over_get_is_refused_and_changes_nothing(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    mutation = 'mutation { articleDelete(slug: "back-walk", expectedVersion: 1) { deletedSlug } }'
    response = await client.get("/graphql", params={"query": mutation})
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    still = await client.post("/graphql", json={"query": READ})
    assert still.json()["data"]["article"] == {"title": "Back Walk Benefits"}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"not json", "application/json", 400, "BAD_REQUEST"),
        (b'[{"query": "{ __typename }"}]', "application/json", 400, "BAD_REQUEST"),
        (b'"{ __typename }"', "application/json", 400, "BAD_REQUEST"),
        (b'{"query": 1}', "application/json", 400, "BAD_REQUEST"),
        (
            b'{"query": "{ __typename }", "operationName": 5}',
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json", 400, "BAD_REQUEST"),
        (b"{ __typename }", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
async def test_malformed_requests_are_client_errors_with_a_code(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    response = await client.post("/graphql", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]


async def test_a_request_without_a_query_is_a_client_error(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await client.post("/graphql", json={"variables": {}})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("settings_update", "query", "code"),
    [
        ({"max_query_depth": 1}, '{ article(slug: "x") { author { name } } }', "QUERY_TOO_DEEP"),
        (
            {"max_query_aliases": 3},
            "{ a: __typename b: __typename c: __typename d: __typename }",
            "TOO_MANY_ALIASES",
        ),
        ({"max_query_tokens": 20}, "{ " + "__typename " * 30 + "}", "TOO_MANY_TOKENS"),
        (
            {"introspection": False},
            '{ __type(name: "Article") { name } }',
            "INTROSPECTION_DISABLED",
        ),
    ],
)
async def test_document_limits_are_refused_with_a_code_and_no_database_work(
    engine: AsyncEngine,
    settings: Settings,
    sql_statements: list[str],
    settings_update: dict[str, object],
    query: str,
    code: str,
) -> None:
    app = create_app(settings.model_copy(update=settings_update), engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as c:
        response = await c.post(
            "/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE}
        )
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    assert sql_statements == []


async def test_a_subscription_over_http_is_refused_with_a_code(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    subscription = "subscription { contentChanged { slug } }"
    response = await client.post("/graphql", json={"query": subscription})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_NOT_OVER_HTTP"


def _global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def _change_cursor(revision: str) -> str:
    return base64.urlsafe_b64encode(f"v1:change:{revision}".encode()).decode().rstrip("=")


NODE = "query Node($id: ID!) { node(id: $id) { id } }"
CHANGES = "query Changes($since: String) { changes(since: $since) { endCursor } }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (NODE, {"id": _global_id("Article", "9" * 30)}),
        (NODE, {"id": _global_id("Benefit", "-1")}),
        (CHANGES, {"since": _change_cursor("9" * 30)}),
    ],
    ids=["huge node id", "negative node id", "huge change cursor"],
)
async def test_out_of_range_ids_and_cursors_are_bad_input(
    seeded: AsyncEngine, client: httpx.AsyncClient, query: str, variables: dict[str, str]
) -> None:
    """Beyond what the database can hold: bad input, not a fault."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error

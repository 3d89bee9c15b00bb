"""Hostile input: thousands of generated valid queries and garbage bodies. The API must always
answer, never with a 5xx, and never with internals (tracebacks, SQL, file paths).

Bounded for CI (the `ci` Hypothesis profile's examples each, SQLite); `HYPOTHESIS_PROFILE=long`
runs more, and `bench/fuzz.py` the long version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from cms.db import create_engine, create_schema, dispose_engine
from cms.graphql.schema import schema_sdl
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings
from tests.conftest import SEED_DIR
from tests.live_server import live_server

LEAKS = ("Traceback", "sqlalchemy", "SELECT ", "/work/", ".py", "psycopg", "sqlite3")
_ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# The number of examples comes from the Hypothesis profile (tests/conftest.py).
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "cms.db"
    app_settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{path}", webhooks_dispatch=False, _env_file=None
    )

    async def prepare() -> None:
        engine = create_engine(app_settings)
        await create_schema(engine)
        await seed_database(engine, [SEED_DIR])
        await dispose_engine(engine)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, prepare()).result()
    with live_server(create_app(app_settings)) as url, httpx.Client(base_url=url) as http:
        yield http


def _assert_sound(status: int, text: str, sent: str) -> None:
    assert status < 500, text
    for leak in LEAKS:
        # What the client sent may be echoed back (`Invalid locale 'psycopg'`): not a leak.
        assert leak not in text or leak in sent, text


@FUZZ
@given(query=queries(schema_sdl()))
def test_generated_queries_never_fail_the_server(client: httpx.Client, query: str) -> None:
    response = client.post("/graphql", json={"query": query})
    _assert_sound(response.status_code, response.text, query)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions"]),
            st.one_of(st.none(), _ints, st.text(max_size=50), st.lists(_ints)),
        ).map(lambda d: __import__("orjson").dumps(d)),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/graphql-response+json",
            "text/plain",
            "multipart/form-data",
        ]
    ),
)
def test_garbage_bodies_never_fail_the_server(
    client: httpx.Client, body: bytes, content_type: str
) -> None:
    response = client.post("/graphql", content=body, headers={"Content-Type": content_type})
    _assert_sound(response.status_code, response.text, body.decode("latin-1"))

"""Trusted documents: operations sent by their `documentId` from a manifest (graphql-codegen's
`persisted-documents.json`), and `CMS_TRUSTED_DOCUMENTS=only` refusing everything else, over
POST, GET and the websocket. `trusted-documents.json` is the manifest the client example in
`clients/typescript` generates (`tests/test_typed_client.py` checks that it still is)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import Database, session_scope
from cms.http import create_app
from cms.settings import Settings
from tests.documents import article_document
from tests.graphql_ws import Subscriber, wait_for_subscribers
from tests.live_server import live_server

pytestmark = pytest.mark.anyio

MANIFEST_FILE = Path(__file__).with_name("trusted-documents.json")
MANIFEST: dict[str, str] = orjson.loads(MANIFEST_FILE.read_bytes())


def _id(operation: str) -> str:
    """The `documentId` of the manifest's operation named `operation`."""
    (found,) = (key for key, text in MANIFEST.items() if f" {operation}(" in text)
    return found


ARTICLE = _id("ArticleWithItems")
SNIPPET = _id("BenefitSnippet")
CHANGED = _id("ContentChanged")
UNLISTED = '{ article(slug: "back-walk") { title } }'
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _settings(settings: Settings, mode: str, manifest: Path | None = MANIFEST_FILE) -> Settings:
    values = {
        **settings.model_dump(),
        "webhooks_dispatch": False,
        "trusted_documents": mode,
        "trusted_documents_file": manifest,
    }
    return Settings(**values, _env_file=None)


@pytest.fixture
async def app_for(
    seeded: AsyncEngine, database: Database, settings: Settings
) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    def make(mode: str) -> httpx.AsyncClient:
        manifest = MANIFEST_FILE if mode != "off" else None
        app = create_app(_settings(settings, mode, manifest), database)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t.test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_a_trusted_document_runs_by_its_document_id(app_for: Any) -> None:
    client = app_for("allow")
    posted = await client.post(
        "/graphql", json={"documentId": ARTICLE, "variables": {"slug": "back-walk"}}
    )
    assert posted.status_code == 200, posted.text
    article = posted.json()["data"]["article"]
    assert article["title"] == "Back Walk Benefits"
    assert [b["slug"] for b in article["benefits"]][:1] == ["stress-relief"]
    variables = orjson.dumps({"article": "back-walk", "benefit": "stress-relief"}).decode()
    got = await client.get("/graphql", params={"documentId": SNIPPET, "variables": variables})
    assert got.status_code == 200, got.text
    assert got.json()["data"]["benefitSnippet"]["article"]["slug"] == "back-walk"
    assert got.headers["cache-control"] == "public, max-age=0"


async def test_allow_runs_other_documents_too(app_for: Any) -> None:
    client = app_for("allow")
    sent = await client.post("/graphql", json={"query": UNLISTED})
    assert sent.json()["data"]["article"]["title"] == "Back Walk Benefits"
    # A manifest document's hash is known without registering it first (APQ's form of the id).
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": ARTICLE.removeprefix("sha256:")}}
    by_hash = await client.post(
        "/graphql", json={"extensions": persisted, "variables": {"slug": "back-walk"}}
    )
    assert by_hash.json()["data"]["article"]["slug"] == "back-walk"


async def test_only_refuses_every_document_not_in_the_manifest(app_for: Any) -> None:
    client = app_for("only")
    digest = hashlib.sha256(UNLISTED.encode()).hexdigest()
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    refused = [
        await client.post("/graphql", json={"query": UNLISTED}),
        await client.get("/graphql", params={"query": UNLISTED}),
        await client.post("/graphql", json={"query": UNLISTED, "extensions": apq}),
        await client.post("/graphql", json={"extensions": apq}),
        await client.post(
            "/graphql",
            json={
                "query": 'mutation { articleDelete(slug: "back-walk", expectedVersion: 1) '
                "{ errors { code } } }"
            },
        ),  # fmt: skip
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert {_code(r) for r in refused} == {"TRUSTED_DOCUMENT_REQUIRED"}
    assert all("data" not in r.json() for r in refused)
    # Nothing was registered on the way: the hash is still unknown.
    assert _code(await client.post("/graphql", json={"extensions": apq})) == (
        "TRUSTED_DOCUMENT_REQUIRED"
    )


async def test_only_runs_the_manifest_however_it_is_named(app_for: Any) -> None:
    client = app_for("only")
    variables = {"slug": "back-walk"}
    digest = ARTICLE.removeprefix("sha256:")
    answers = [
        await client.post("/graphql", json={"documentId": ARTICLE, "variables": variables}),
        await client.post("/graphql", json={"documentId": digest, "variables": variables}),
        await client.get(
            "/graphql",
            params={"documentId": ARTICLE, "variables": orjson.dumps(variables).decode()},
        ),
        await client.post(
            "/graphql",
            json={
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
                "variables": variables,
            },
        ),
        # The manifest's exact text is the same document.
        await client.post("/graphql", json={"query": MANIFEST[ARTICLE], "variables": variables}),
    ]
    assert [r.status_code for r in answers] == [200] * 5
    assert {r.json()["data"]["article"]["title"] for r in answers} == {"Back Walk Benefits"}


async def test_an_unknown_or_malformed_document_id_is_a_bad_request(app_for: Any) -> None:
    only, off = app_for("only"), app_for("off")
    unknown = await only.post("/graphql", json={"documentId": "sha256:" + "0" * 64})
    assert (unknown.status_code, _code(unknown)) == (400, "TRUSTED_DOCUMENT_NOT_FOUND")
    assert unknown.json()["errors"][0]["message"] == f"No trusted document sha256:{'0' * 64}."
    for bad in ("md5:abc", 12):
        malformed = await only.post("/graphql", json={"documentId": bad})
        assert (malformed.status_code, _code(malformed)) == (400, "BAD_REQUEST")
    both = await only.post("/graphql", json={"documentId": ARTICLE, "query": UNLISTED})
    assert (both.status_code, _code(both)) == (400, "BAD_REQUEST")
    not_taken = await off.post("/graphql", json={"documentId": ARTICLE})
    assert (not_taken.status_code, _code(not_taken)) == (400, "TRUSTED_DOCUMENT_NOT_FOUND")
    # With trusted documents off, everything runs as before.
    plain = await off.post(
        "/graphql", json={"query": UNLISTED}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert plain.json()["data"]["article"]["title"] == "Back Walk Benefits"


def test_a_mode_without_a_manifest_or_a_manifest_without_a_mode_fails_at_startup(
    settings: Settings,
) -> None:
    with pytest.raises(ValidationError, match="CMS_TRUSTED_DOCUMENTS=only needs"):
        _settings(settings, "only", None)
    with pytest.raises(ValidationError, match="CMS_TRUSTED_DOCUMENTS is off"):
        _settings(settings, "off")


async def test_a_manifest_whose_hash_does_not_match_fails_at_startup(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    forged = tmp_path / "manifest.json"
    forged.write_bytes(orjson.dumps({ARTICLE: UNLISTED}))
    with pytest.raises(ValueError, match="does not hash to it"):
        create_app(_settings(settings, "only", forged), database)
    forged.write_text("[]")
    with pytest.raises(ValueError, match="CMS_TRUSTED_DOCUMENTS_FILE=.*JSON object"):
        create_app(_settings(settings, "only", forged), database)


@pytest.fixture
def only_server(seeded: AsyncEngine, database: Database, settings: Settings) -> Iterator[str]:
    with live_server(create_app(_settings(settings, "only"))) as url:
        yield url


async def test_only_holds_on_the_websocket_too(only_server: str, seeded: AsyncEngine) -> None:
    async with Subscriber.connect(only_server) as subscriber:
        unlisted = "subscription { contentChanged { slug } }"
        await subscriber.subscribe(unlisted, id="unlisted")
        refused = await subscriber.receive()
        assert refused["type"] == "error" and refused["id"] == "unlisted"
        assert [e["extensions"]["code"] for e in refused["payload"]] == [
            "TRUSTED_DOCUMENT_REQUIRED"
        ]
        payload = {"documentId": CHANGED, "variables": {"slugs": ["fresh"]}}
        await subscriber.send({"id": "trusted", "type": "subscribe", "payload": payload})
        await wait_for_subscribers(only_server, 1)
        async with session_scope(seeded) as session:
            await content.save_article_document(session, article_document(slug="fresh"))
        change = (await subscriber.next())["contentChanged"]
        assert (change["type"], change["slug"]) == ("CREATED", "fresh")

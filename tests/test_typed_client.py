"""The typed client of docs/frontend.md, built as a frontend would build it: graphql-codegen's
client preset over `schema/schema.graphql` and the example's operations, then `tsc --noEmit`
(strict). Its persisted-documents manifest is the one the trusted-documents tests serve, and
the server runs it with `CMS_TRUSTED_DOCUMENTS=only`. Needs npm (see `tests/typescript_project`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database
from cms.http import create_app
from cms.settings import Settings
from tests.live_server import live_server
from tests.typescript_project import REPO, NodeProject

# Compiled with the example and run on Node 22 against a live server.
RUN_EXAMPLE = """import { allSlugs, articleOutline, snippetHtml } from "./example.js";
declare const process: { argv: string[] };
const endpoint = process.argv[2] ?? "";
const outline = await articleOutline(endpoint, "back-walk");
const slugs = await allSlugs(endpoint);
const snippet = await snippetHtml(endpoint, "back-walk", "stress-relief");
console.log(JSON.stringify({ outline, slugs, snippet }));
"""
FIXTURE_MANIFEST = REPO / "tests" / "http" / "trusted-documents.json"
VARIABLES = {
    "ArticleWithItems": {"slug": "back-walk"},
    "ArticlesPage": {"first": 2},
    "BenefitSnippet": {"article": "back-walk", "benefit": "stress-relief"},
}


def _ok(completed: Any) -> str:
    output: str = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProject]:
    """The example after `graphql-codegen`: `src/gql/` written, manifest included."""
    project = NodeProject(tmp_path_factory.mktemp("typed-client"))
    _ok(project.run("graphql-codegen", "--config", "codegen.ts"))
    yield project


def test_codegen_output_compiles_under_strict_typescript(generated: NodeProject) -> None:
    assert (generated.path / "src" / "gql" / "graphql.ts").exists()
    _ok(generated.run("tsc", "--noEmit", "-p", "."))


def test_a_field_the_schema_lacks_does_not_compile(generated: NodeProject) -> None:
    wrong = generated.path / "src" / "wrong.ts"
    wrong.write_text(
        'import { request } from "./client.js";\n'
        'import { ArticleWithItems } from "./operations.js";\n'
        "export async function f(): Promise<unknown> {\n"
        '  const r = await request("/graphql", ArticleWithItems, { slug: "x" });\n'
        "  return r.ok ? r.data.article?.subtitle : null;\n"
        "}\n"
    )
    try:
        completed = generated.run("tsc", "--noEmit", "-p", ".")
    finally:
        wrong.unlink()
    assert completed.returncode != 0
    assert "TS2339" in completed.stdout and "subtitle" in completed.stdout, completed.stdout


def test_the_manifest_is_the_one_the_trusted_document_tests_serve(
    generated: NodeProject,
) -> None:
    manifest = orjson.loads(
        (generated.path / "src" / "gql" / "persisted-documents.json").read_bytes()
    )
    assert manifest == orjson.loads(FIXTURE_MANIFEST.read_bytes()), (
        "the example's operations changed: copy src/gql/persisted-documents.json to "
        "tests/http/trusted-documents.json"
    )


@pytest.mark.anyio
async def test_the_server_runs_the_generated_manifest_and_nothing_else(
    generated: NodeProject, seeded: AsyncEngine, database: Database, settings: Settings
) -> None:
    manifest_file = generated.path / "src" / "gql" / "persisted-documents.json"
    manifest: dict[str, str] = orjson.loads(manifest_file.read_bytes())
    only = settings.model_copy(
        update={"trusted_documents": "only", "trusted_documents_file": manifest_file}
    )
    app = create_app(only, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t.test"
    ) as client:
        answered = {}
        for document_id, text in manifest.items():
            name = text.split("(", 1)[0].split()[-1]
            if name not in VARIABLES:  # the subscription: over the websocket
                continue
            body = {"documentId": document_id, "variables": VARIABLES[name]}
            response = await client.post("/graphql", json=body)
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text
            answered[name] = response.json()["data"]
        refused = await client.post("/graphql", json={"query": "{ articles { totalCount } }"})
    assert set(answered) == set(VARIABLES)
    assert answered["ArticleWithItems"]["article"]["title"] == "Back Walk Benefits"
    assert answered["BenefitSnippet"]["benefitSnippet"]["article"]["slug"] == "back-walk"
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"


@pytest.mark.anyio
async def test_the_compiled_client_reads_a_server_that_runs_only_its_documents(
    generated: NodeProject, seeded: AsyncEngine, settings: Settings
) -> None:
    """End to end: the example compiled to JavaScript sends `documentId`s over real HTTP."""
    (generated.path / "src" / "run-example.ts").write_text(RUN_EXAMPLE)
    out = generated.path.parent / "compiled"
    _ok(
        generated.run("tsc", "-p", ".", "--noEmit", "false", "--rootDir", ".", "--outDir", str(out))
    )
    (out / "package.json").write_text('{"type": "module"}')
    manifest_file = generated.path / "src" / "gql" / "persisted-documents.json"
    only = settings.model_copy(
        update={
            "trusted_documents": "only",
            "trusted_documents_file": manifest_file,
            "webhooks_dispatch": False,
        }
    )
    with live_server(create_app(only)) as url:
        ran = generated.run_node(str(out / "src" / "run-example.js"), f"{url}/graphql")
    result = orjson.loads(_ok(ran).strip().splitlines()[-1])
    assert result["outline"][0] == "Back Walk Benefits (PUBLISHED) by Penci"
    assert "benefit stress-relief: Stress Relief" in result["outline"]
    assert "back-walk" in result["slugs"]
    assert result["snippet"].startswith('<article class="bwk-snippet"')

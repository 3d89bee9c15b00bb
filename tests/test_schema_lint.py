"""`schema/schema.graphql` passes graphql-schema-linter with the rules of
`clients/typescript/.graphql-schema-linterrc`: a description on every type, field, argument,
input field and enum value, and types named like Relay connections are Relay connections.
Needs npm (see `tests/typescript_project`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.typescript_project import CLIENT, REPO, NodeProject

RULES = {
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "input-object-values-have-descriptions",
    "enum-values-have-descriptions",
    "relay-connection-types-spec",
    "relay-connection-arguments-spec",
    "relay-page-info-spec",
}
# Breaks each rule above once.
UNDESCRIBED = '''
type Query {
  """Things."""
  things(size: Int): ThingConnection!
  """A kind."""
  kind: Kind!
  count: Int
  """Set it."""
  set(
    """Input."""
    input: Change!
  ): Int
}
type ThingConnection {
  """Nodes."""
  nodes: [String!]!
}
"""A kind."""
enum Kind { A }
"""A change."""
input Change { value: Int }
"""Page info."""
type PageInfo { """x""" x: Int }
'''


@pytest.fixture(scope="module")
def linter(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = NodeProject(tmp_path_factory.mktemp("schema-lint"))

    def lint(schema: Path) -> tuple[int, list[dict[str, Any]]]:
        completed = project.run(
            "graphql-schema-linter", "--format", "json",
            "--config-directory", str(project.path), str(schema),
        )  # fmt: skip
        report = orjson.loads(completed.stdout) if completed.stdout.strip() else {}
        assert "errors" in report, completed.stdout + completed.stderr
        return completed.returncode, report["errors"]

    return lint


def test_the_schema_passes_the_linter(linter: Any) -> None:
    status, errors = linter(REPO / "schema" / "schema.graphql")
    problems = [f"{e['location']['line']}: {e['message']} ({e['rule']})" for e in errors]
    assert (status, problems) == (0, [])


def test_the_linter_applies_every_configured_rule(linter: Any, tmp_path: Path) -> None:
    config = orjson.loads((CLIENT / ".graphql-schema-linterrc").read_bytes())
    assert set(config["rules"]) == RULES
    schema = tmp_path / "bad.graphql"
    schema.write_text(UNDESCRIBED)
    status, errors = linter(schema)
    assert status != 0
    assert {error["rule"] for error in errors} == RULES

"""The checked-in SDL is the public contract: it must equal the schema the server runs."""

from __future__ import annotations

from cms.graphql.schema import build_schema, schema_sdl
from cms.settings import Settings
from tests.conftest import REPO


def test_checked_in_schema_equals_the_running_schema() -> None:
    checked_in = (REPO / "schema" / "schema.graphql").read_text("utf-8")
    assert checked_in == schema_sdl(), "run: cms schema > schema/schema.graphql"


def test_the_served_schema_is_the_printed_one() -> None:
    served = build_schema(Settings(_env_file=None)).as_str() + "\n"  # type: ignore[call-arg]
    assert served == schema_sdl()

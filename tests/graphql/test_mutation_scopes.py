"""Scopes by effect: every mutation against every kind of caller, on a published article.

`content:write` edits but never changes what the public sees; `content:publish` (or `admin`)
is needed for whatever does. The list of mutations comes from the schema: a new mutation without
an entry here fails `test_every_mutation_has_a_scope_matrix_entry`.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.graphql.schema import build_schema
from cms.settings import Settings
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

OK, UNAUTHENTICATED, FORBIDDEN = "ok", "UNAUTHENTICATED", "FORBIDDEN"
CALLERS: dict[str, tuple[Scope, ...] | None] = {
    "anonymous": None,
    "read-drafts": (Scope.READ_DRAFTS,),
    "write": (Scope.WRITE,),
    "publish": (Scope.PUBLISH,),
    "admin": (Scope.ADMIN,),
}
ARTICLE = 'slug: "back-walk", expectedVersion: 1'
ITEM = 'article: "back-walk", expectedVersion: 1'
PAYLOAD = "errors { code }"
EDIT = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": OK,
        "publish": FORBIDDEN, "admin": OK}  # fmt: skip
PUBLISH = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": FORBIDDEN,
           "publish": OK, "admin": OK}  # fmt: skip
# Translations have no pending version: on a published article they need both scopes.
BOTH = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": FORBIDDEN,
        "publish": FORBIDDEN, "admin": OK}  # fmt: skip


def _items(kind: str, plural: str, slug: str, new: str) -> dict[str, Any]:
    return {
        f"{kind}Add": (f"{kind}Add({ITEM}, input: {new})", EDIT),
        f"{kind}Update": (f'{kind}Update({ITEM}, slug: "{slug}", input: {{title: "T"}})', EDIT),
        f"{kind}Delete": (f'{kind}Delete({ITEM}, slug: "{slug}")', EDIT),
        f"{plural}Reorder": (f'{plural}Reorder({ITEM}, slugs: ["{slug}"])', EDIT),
    }


MATRIX: dict[str, tuple[str, dict[str, str]]] = {
    "articleCreate": (
        'articleCreate(input: {slug: "new", title: "New", author: {slug: "a", name: "A"}})', EDIT
    ),
    "articleUpdate": (f'articleUpdate({ARTICLE}, input: {{title: "Changed"}})', EDIT),
    "articleDelete": (f"articleDelete({ARTICLE})", PUBLISH),
    "articlePublish": (f"articlePublish({ARTICLE})", PUBLISH),
    "articleUnpublish": (f"articleUnpublish({ARTICLE})", PUBLISH),
    "articleArchive": (f"articleArchive({ARTICLE})", PUBLISH),
    "articleUnarchive": (f"articleUnarchive({ARTICLE})", PUBLISH),
    "articleRestoreRevision": (f"articleRestoreRevision({ARTICLE}, version: 1)", EDIT),
    "articleDiscardPendingChanges": (f"articleDiscardPendingChanges({ARTICLE})", EDIT),
    **_items("section", "sections", "healing-benefits",
             '{slug: "s", title: "S"}'),
    **_items("benefit", "benefits", "stress-relief",
             '{slug: "b", title: "B", body: "Body."}'),
    **_items("nutritionTip", "nutritionTips", "balanced-diet",
             '{slug: "n", kind: NUTRITION, title: "N", body: "Body."}'),
    **_items("precaution", "precautions", "pregnancy",
             '{slug: "p", title: "P", body: "Body."}'),
    "articleTranslationSave": (
        'articleTranslationSave(slug: "back-walk", locale: "fr", input: {title: "Marche"})', BOTH
    ),
    "articleTranslationDelete": (
        'articleTranslationDelete(slug: "back-walk", locale: "de")', BOTH
    ),
}  # fmt: skip

PUBLIC_VIEW = """
{
  article(slug: "back-walk") {
    version title headline intro status publishedAt
    sections { id title body } benefits { id title body }
    nutritionTips { id title body } precautions { id title body }
  }
  de: article(slug: "back-walk", locale: "de") { title benefits { title } }
  fr: article(slug: "back-walk", locale: "fr") { title }
  articles(first: 10) { nodes { slug } }
}
"""


def _mutation_names() -> list[str]:
    schema = build_schema(Settings(_env_file=None))  # type: ignore[call-arg]
    mutation = schema._schema.mutation_type
    assert mutation is not None
    return sorted(mutation.fields)


def test_every_mutation_has_a_scope_matrix_entry() -> None:
    assert sorted(MATRIX) == _mutation_names()


def test_every_mutation_states_its_scope_in_its_description() -> None:
    schema = build_schema(Settings(_env_file=None))  # type: ignore[call-arg]
    mutation = schema._schema.mutation_type
    assert mutation is not None
    unstated = [
        name
        for name, field in mutation.fields.items()
        if "Needs `" not in (field.description or "")
    ]
    assert unstated == []


def _outcome(body: dict[str, Any]) -> str:
    if body.get("errors"):
        codes = {error["extensions"]["code"] for error in body["errors"]}
        assert len(codes) == 1, body
        return codes.pop()
    assert body["data"] is not None, body
    return OK


@pytest.mark.parametrize("name", _mutation_names())
async def test_each_caller_may_run_exactly_what_its_scopes_allow(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, name: str
) -> None:
    call, expected = MATRIX[name]
    field = call.split("(", 1)[0]
    document = f"mutation {{ {call} {{ {PAYLOAD} }} }}"
    assert field == name
    outcomes = {}
    for caller, scopes in CALLERS.items():  # in this order: the public-changing ones come last
        token = await make_token(*scopes) if scopes is not None else None
        public_before = await graphql(PUBLIC_VIEW)
        outcomes[caller] = _outcome(await graphql(document, token=token))
        public_after = await graphql(PUBLIC_VIEW)
        if caller in ("anonymous", "read-drafts", "write"):
            # Refused, or an edit: either way the public sees exactly what it saw.
            assert public_after == public_before, caller
    assert outcomes == expected

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
    "review": (Scope.REVIEW,),
    "publish": (Scope.PUBLISH,),
    "admin": (Scope.ADMIN,),
}
ARTICLE = 'slug: "back-walk", expectedVersion: 1'
ITEM = 'article: "back-walk", expectedVersion: 1'
PAYLOAD = "errors { code }"
EDIT = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": OK,
        "review": FORBIDDEN, "publish": FORBIDDEN, "admin": OK}  # fmt: skip
PUBLISH = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": FORBIDDEN,
           "review": FORBIDDEN, "publish": OK, "admin": OK}  # fmt: skip
# A rename, and an author or reviewer shared by the articles naming it, change what the public
# sees at once: on a published article these need both scopes.
BOTH = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": FORBIDDEN,
        "review": FORBIDDEN, "publish": FORBIDDEN, "admin": OK}  # fmt: skip
REVIEW = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN, "write": FORBIDDEN,
          "review": OK, "publish": FORBIDDEN, "admin": OK}  # fmt: skip
REVIEW_OR_PUBLISH = {"anonymous": UNAUTHENTICATED, "read-drafts": FORBIDDEN,
                     "write": FORBIDDEN, "review": OK, "publish": OK, "admin": OK}  # fmt: skip
REVIEWER = 'slug: "ada", name: "Ada Lovelace", credentials: "MD"'


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
        'articleTranslationSave(slug: "back-walk", locale: "fr", expectedVersion: 0, '
        'input: {title: "Marche"})', EDIT
    ),
    "articleTranslationDelete": (
        'articleTranslationDelete(slug: "back-walk", locale: "de")', EDIT
    ),
    "articleRename": (f'articleRename({ARTICLE}, newSlug: "back-walking")', BOTH),
    "authorCreate": ('authorCreate(input: {slug: "new-author", name: "New"})', EDIT),
    # `penci` is the byline of the published article.
    "authorUpdate": (
        'authorUpdate(slug: "penci", expectedVersion: 1, input: {name: "Changed"})', BOTH
    ),
    "reviewerCreate": (f"reviewerCreate(input: {{{REVIEWER}}})", EDIT),
    # `ada` approved the published article (`SETUP`): her name is in its public review.
    "reviewerUpdate": (
        'reviewerUpdate(slug: "ada", expectedVersion: 1, '
        'input: {slug: "ada", name: "Changed", credentials: "PT"})', BOTH
    ),
    "articleSubmitForReview": ('articleSubmitForReview(slug: "back-walk", note: "N")', EDIT),
    "articleApproveReview": (
        'articleApproveReview(slug: "back-walk", version: 1, reviewer: "ada")', REVIEW
    ),
    "articleRequestChanges": ('articleRequestChanges(slug: "back-walk", note: "N")', REVIEW),
    "articlePreviewLink": ('articlePreviewLink(slug: "back-walk")', REVIEW_OR_PUBLISH),
}  # fmt: skip
# Run as `admin` before the callers.
SETUP = {
    "reviewerUpdate": f"""mutation {{
      reviewerCreate(input: {{{REVIEWER}}}) {{ errors {{ code }} }}
      articleApproveReview(slug: "back-walk", version: 1, reviewer: "ada") {{ errors {{ code }} }}
    }}""",
    "articleApproveReview": f"mutation {{ reviewerCreate(input: {{{REVIEWER}}}) {{ {PAYLOAD} }} }}",
}
# What a mutation returns when it is not a payload with `errors`.
SELECTION = {"articlePreviewLink": "expiresAt"}

PUBLIC_VIEW = """
{
  article(slug: "back-walk") {
    version title headline intro status publishedAt author { name }
    reviewStatus review { reviewer { name credentials } }
    sections { id title body } benefits { id title body }
    nutritionTips { id title body } precautions { id title body }
  }
  de: article(slug: "back-walk", locale: "de") { title benefits { title } }
  fr: article(slug: "back-walk", locale: "fr") { title }
  articles(first: 10) { nodes { slug } }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """With preview links on, so that `articlePreviewLink` can succeed, and without the
    response cache, so that the public view is read afresh even after a write that forgets to
    bump the content revision."""
    return settings.model_copy(update={"preview_secret": "s" * 32, "response_cache": False})


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
    document = f"mutation {{ {call} {{ {SELECTION.get(name, PAYLOAD)} }} }}"
    assert field == name
    if name in SETUP:
        setup = await graphql(SETUP[name], token=await make_token(Scope.ADMIN))
        assert "errors" not in setup, setup
        assert all(payload["errors"] == [] for payload in setup["data"].values()), setup
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

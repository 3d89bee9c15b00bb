"""The editorial rules on every write: errors refuse whatever would make content public (naming
the rule and the field), other findings come back as warnings, an override needs a reason and is
kept in the revision."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms.access import Scope
from cms.db import session_scope
from cms.errors import ContentRuleBroken
from cms.models import Revision
from cms.seed import seed_database
from tests.conftest import SEED_DIR, GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

RESULT = """
  article { version status benefits { body(format: TEXT) } }
  errors { field message code rule }
  warnings { path rule severity message }
"""
BENEFIT_UPDATE = f"""
mutation Update($v: Int!, $body: String!, $override: RuleOverrideInput) {{
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {{body: $body}}, override: $override) {{ {RESULT} }}
}}
"""
CREATE = f"""
mutation Create($input: ArticleInput!) {{ articleCreate(input: $input) {{ {RESULT} }} }}
"""
PUBLISH = f"""
mutation Publish($override: RuleOverrideInput) {{
  articlePublish(slug: "miracle", expectedVersion: 1, override: $override) {{ {RESULT} }}
}}
"""
PUBLISH_BACK_WALK = f"""
mutation Publish($v: Int!, $override: RuleOverrideInput) {{
  articlePublish(slug: "back-walk", expectedVersion: $v, override: $override) {{ {RESULT} }}
}}
"""
SCHEDULE_BACK_WALK = f"""
mutation Schedule($v: Int!) {{
  articlePublish(slug: "back-walk", expectedVersion: $v, publishAt: "2999-01-01T00:00:00Z") {{
    {RESULT}
  }}
}}
"""
CLAIM = "Regular stretching cures neck pain completely."
MIRACLE = {
    "slug": "miracle",
    "title": "Miracle stretch",
    "author": {"slug": "penci", "name": "Penci"},
    "benefits": [
        {
            "slug": "neck",
            "title": "Neck",
            "body": "It cures neck pain. Guaranteed, 100% safe.",
            "citations": [{"title": "A trial", "pmid": "31234567"}],
        }
    ],
    "precautions": [{"slug": "pain", "title": "Pain", "body": "Stop if it hurts."}],
}


async def test_an_absolute_claim_never_goes_live(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    # The edit of the published article waits in its pending version: nothing public changes,
    # so the broken rule comes back as a warning (severity error).
    body = await graphql(BENEFIT_UPDATE, {"v": 1, "body": CLAIM}, token=token)
    edited = body["data"]["benefitUpdate"]
    assert (edited["article"]["version"], edited["errors"]) == (2, [])
    assert [w for w in edited["warnings"] if w["severity"] == "error"] == [
        {
            "path": "benefits[0].body",
            "rule": "absolute-claim",
            "severity": "error",
            "message": "absolute claim 'cures'; health content states what evidence supports, "
            "never certainty",
        }
    ]
    # Publishing it is what the rule refuses, naming the rule and the field.
    refused = (await graphql(PUBLISH_BACK_WALK, {"v": 2}, token=token))["data"]["articlePublish"]
    assert refused == {
        "article": None,
        "errors": [
            {
                "field": "benefits[0].body",
                "message": "[absolute-claim] absolute claim 'cures'; health content states what "
                "evidence supports, never certainty",
                "code": "CONTENT_RULE",
                "rule": "absolute-claim",
            }
        ],
        "warnings": [],
    }
    snippet = await graphql(
        '{ benefitSnippet(article: "back-walk", benefit: "stress-relief") { body(format: TEXT) '
        "article { reviewLine } } }"
    )
    assert CLAIM not in snippet["data"]["benefitSnippet"]["body"]
    version = await graphql('{ article(slug: "back-walk") { version } }')
    assert version["data"]["article"]["version"] == 1
    pending = await graphql(
        '{ article(slug: "back-walk") { version hasPendingChanges } }', token=token
    )
    assert pending["data"]["article"] == {"version": 2, "hasPendingChanges": True}
    # Nor can it be scheduled to go live later.
    later = (await graphql(SCHEDULE_BACK_WALK, {"v": 2}, token=token))["data"]["articlePublish"]
    assert [(e["code"], e["rule"], e["field"]) for e in later["errors"]] == [
        ("CONTENT_RULE", "absolute-claim", "benefits[0].body")
    ]
    # An override with a reason publishes it.
    override = {"rules": ["absolute-claim"], "reason": "Quoted from the trial's title."}
    published = await graphql(PUBLISH_BACK_WALK, {"v": 2, "override": override}, token=token)
    assert published["data"]["articlePublish"]["errors"] == []
    assert published["data"]["articlePublish"]["article"]["version"] == 3
    snippet = await graphql(
        '{ benefitSnippet(article: "back-walk", benefit: "stress-relief") { body(format: TEXT) } }'
    )
    assert CLAIM in snippet["data"]["benefitSnippet"]["body"]


async def test_a_draft_may_hold_what_a_publication_may_not_and_hears_about_it(
    penci: None, engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    created = (await graphql(CREATE, {"input": MIRACLE}, token=token))["data"]["articleCreate"]
    assert created["errors"] == []
    assert created["article"]["status"] == "DRAFT"
    found = {(w["path"], w["rule"], w["severity"]) for w in created["warnings"]}
    assert found >= {
        ("title", "absolute-claim", "error"),
        ("benefits[0].body", "absolute-claim", "error"),
        ("slug", "review-missing", "warning"),
    }
    refused = (await graphql(PUBLISH, token=token))["data"]["articlePublish"]
    assert refused["article"] is None
    assert [(e["field"], e["rule"]) for e in refused["errors"]] == [
        ("title", "absolute-claim"),
        ("benefits[0].body", "absolute-claim"),
        ("benefits[0].body", "absolute-claim"),
        ("benefits[0].body", "absolute-claim"),
    ]
    assert all(e["code"] == "CONTENT_RULE" for e in refused["errors"])


async def test_an_override_needs_a_known_rule_and_a_reason_and_is_recorded(
    penci: None, engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(CREATE, {"input": MIRACLE}, token=token)
    no_reason = {"rules": ["absolute-claim"], "reason": " "}
    body = (await graphql(PUBLISH, {"override": no_reason}, token=token))["data"]
    assert body["articlePublish"]["errors"] == [
        {
            "field": "override.reason",
            "message": "an override needs a reason",
            "code": "INVALID",
            "rule": None,
        }
    ]
    unknown = {"rules": ["absolute-claims"], "reason": "typo"}
    body = (await graphql(PUBLISH, {"override": unknown}, token=token))["data"]
    assert [e["field"] for e in body["articlePublish"]["errors"]] == ["override.rules"]
    reason = "Quoted from the trial's title, in quotation marks."
    override = {"rules": ["absolute-claim"], "reason": reason}
    published = (await graphql(PUBLISH, {"override": override}, token=token))["data"]
    assert published["articlePublish"]["errors"] == []
    assert published["articlePublish"]["article"]["status"] == "PUBLISHED"
    overridden = [w for w in published["articlePublish"]["warnings"] if w["severity"] == "error"]
    assert {w["rule"] for w in overridden} == {"absolute-claim"}
    async with session_scope(engine) as session:
        revisions = (
            await session.exec(
                select(Revision)
                .where(Revision.article_slug == "miracle")
                .order_by(col(Revision.version))
            )
        ).all()
    assert [(r.version, r.override) for r in revisions] == [
        (1, None),
        (2, {"rules": ["absolute-claim"], "reason": reason}),
    ]


async def test_warnings_name_unsourced_benefits_and_hard_prose(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    hard = (
        "Retrograde ambulation substantially modifies neuromuscular activation, preferentially "
        "recruiting quadriceps musculature while concomitantly attenuating patellofemoral "
        "compressive loading, thereby potentially facilitating rehabilitation following "
        "orthopaedic intervention in appropriately selected individuals with degenerative "
        "musculoskeletal conditions."
    )
    body = (await graphql(BENEFIT_UPDATE, {"v": 1, "body": hard}, token=token))["data"]
    result = body["benefitUpdate"]
    assert result["errors"] == []
    warnings = {(w["path"], w["rule"]): w for w in result["warnings"]}
    assert warnings[("benefits[0].body", "reading-level")]["severity"] == "warning"
    assert warnings[("benefits[0].body", "reading-level")]["message"].startswith("reads at grade ")
    assert warnings[("benefits[0].citations", "benefit-without-source")] == {
        "path": "benefits[0].citations",
        "rule": "benefit-without-source",
        "severity": "warning",
        "message": "benefit 'stress-relief' cites no source; every claim needs one",
    }


async def test_a_seed_file_cannot_publish_a_broken_rule(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    (tmp_path / "back-walk.yaml").write_text(
        text.replace("title: Back Walk Benefits", "title: Back Walk Cures Everything", 1), "utf-8"
    )
    with pytest.raises(ContentRuleBroken) as raised:
        await seed_database(engine, [tmp_path])
    assert raised.value.rules == ["absolute-claim"]
    assert [p.field for p in raised.value.problems] == ["title"]

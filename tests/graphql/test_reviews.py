"""Medical review bound to the text it covered: reviewers, approvals of a version, the review
status, and what snippets, embeds and JSON-LD may then say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyld import jsonld
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.db import Database
from cms.errors import InvalidContent
from cms.http.app import create_app
from cms.models import utc_now
from cms.seed import seed_database
from cms.seed_files import discover_seed_files, read_seed_files
from cms.settings import Settings
from tests.conftest import SEED_DIR, GraphQL, TokenFactory, without_cost

pytestmark = pytest.mark.anyio

REVIEWER_CREATE = """
mutation Create($input: ReviewerInput!) {
  reviewerCreate(input: $input) {
    reviewer { slug name credentials jobTitle specialty registrationNumber profileUrl version }
    errors { field message code }
  }
}
"""
REVIEWER_UPDATE = """
mutation Update($slug: String!, $v: Int!, $input: ReviewerInput!) {
  reviewerUpdate(slug: $slug, expectedVersion: $v, input: $input) {
    reviewer { name version } errors { field message code currentVersion }
  }
}
"""
PAYLOAD = "article { version reviewStatus } errors { field message code rule }"
APPROVE = f"""
mutation Approve($slug: String! = "back-walk", $version: Int!, $reviewer: String! = "ada") {{
  articleApproveReview(slug: $slug, version: $version, reviewer: $reviewer, note: "Checked.") {{
    {PAYLOAD}
  }}
}}
"""
BENEFIT_UPDATE = f"""
mutation Update($v: Int!, $body: String!) {{
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {{body: $body}}) {{ {PAYLOAD} }}
}}
"""
PUBLISH = f"""
mutation Publish($slug: String! = "back-walk", $v: Int!) {{
  articlePublish(slug: $slug, expectedVersion: $v) {{ {PAYLOAD} }}
}}
"""
RESTORE = f"""
mutation Restore($v: Int!, $version: Int!) {{
  articleRestoreRevision(slug: "back-walk", expectedVersion: $v, version: $version) {{
    {PAYLOAD}
  }}
}}
"""
STATE = """
{
  article(slug: "back-walk") {
    reviewStatus reviewedBy lastReviewed jsonLd
    review { reviewer { slug name credentials } version reviewedOn nextReviewDue note }
  }
  benefitSnippet(article: "back-walk", benefit: "stress-relief") {
    html article { reviewStatus reviewLine reviewedBy lastReviewed }
  }
}
"""
ADA = {
    "slug": "ada",
    "name": "Dr. Ada Example",
    "credentials": "MD",
    "jobTitle": "Physiatrist",
    "specialty": "Rehabilitation medicine",
    "registrationNumber": "GMC 1234567",
    "profileUrl": "https://example.org/ada",
}


async def _with_reviewer(graphql: GraphQL, make_token: TokenFactory) -> str:
    """Ada as a reviewer; returns a token with `content:review`."""
    body = await graphql(REVIEWER_CREATE, {"input": ADA}, token=await make_token(Scope.WRITE))
    assert body["data"]["reviewerCreate"]["errors"] == []
    return await make_token(Scope.REVIEW)


def _today() -> str:
    return utc_now().date().strftime("%d %B %Y")


async def test_the_seed_article_names_no_reviewer_and_says_so(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    state = (await graphql(STATE))["data"]
    assert state["article"]["reviewStatus"] == "NEVER"
    assert state["article"]["review"] is None
    assert state["benefitSnippet"]["article"]["reviewLine"] == "Not yet medically reviewed."
    assert "Not yet medically reviewed." in state["benefitSnippet"]["html"]
    assert {"reviewedBy", "lastReviewed"} & set(state["article"]["jsonLd"]) == set()


async def test_an_approved_version_is_current_and_named_everywhere(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    approved = (await graphql(APPROVE, {"version": 1}, token=token))["data"]
    assert approved["articleApproveReview"] == {
        "article": {"version": 1, "reviewStatus": "CURRENT"},
        "errors": [],
    }
    state = (await graphql(STATE))["data"]
    today = utc_now().date()
    line = f"Medically reviewed by Dr. Ada Example, MD on {_today()}."
    assert state["benefitSnippet"]["article"] == {
        "reviewStatus": "CURRENT",
        "reviewLine": line,
        "reviewedBy": "Dr. Ada Example, MD",
        "lastReviewed": today.isoformat(),
    }
    assert (
        f'<time datetime="{today.isoformat()}">{_today()}</time>'
        in (state["benefitSnippet"]["html"])
    )
    review = state["article"]["review"]
    assert review["reviewer"] == {"slug": "ada", "name": "Dr. Ada Example", "credentials": "MD"}
    assert (review["version"], review["reviewedOn"], review["note"]) == (
        1,
        today.isoformat(),
        "Checked.",
    )
    assert review["nextReviewDue"] == today.replace(year=today.year + 1).isoformat()
    page = state["article"]["jsonLd"]
    assert page["reviewedBy"] == {"@type": "Person", "name": "Dr. Ada Example, MD"}
    assert page["lastReviewed"] == today.isoformat()
    expanded = jsonld.expand(page, {"documentLoader": _offline_schema_org})
    assert expanded[0]["https://schema.org/reviewedBy"][0]["https://schema.org/name"] == [
        {"@value": "Dr. Ada Example, MD"}
    ]


async def test_an_edit_after_the_review_is_never_passed_off_as_reviewed(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    await graphql(APPROVE, {"version": 1}, token=token)
    writer = await make_token(Scope.WRITE, Scope.PUBLISH)
    body = "Regular stretching may ease neck pain for some people."
    edited = (await graphql(BENEFIT_UPDATE, {"v": 1, "body": body}, token=writer))["data"]
    # Editors read the pending version: its text is not the reviewed one.
    assert edited["benefitUpdate"]["article"] == {
        "version": 2,
        "reviewStatus": "CHANGED_SINCE_REVIEW",
    }
    # The public still reads the reviewed text, and is told so.
    state = (await graphql(STATE))["data"]
    assert state["benefitSnippet"]["article"]["reviewStatus"] == "CURRENT"
    published = (await graphql(PUBLISH, {"v": 2}, token=writer))["data"]
    assert published["articlePublish"]["article"] == {
        "version": 3,
        "reviewStatus": "CHANGED_SINCE_REVIEW",
    }
    state = (await graphql(STATE))["data"]
    assert state["benefitSnippet"]["article"] == {
        "reviewStatus": "CHANGED_SINCE_REVIEW",
        "reviewLine": f"Updated since its medical review on {_today()}.",
        "reviewedBy": None,
        "lastReviewed": None,
    }
    assert "Medically reviewed by" not in state["benefitSnippet"]["html"]
    assert {"reviewedBy", "lastReviewed"} & set(state["article"]["jsonLd"]) == set()
    assert (state["article"]["reviewedBy"], state["article"]["lastReviewed"]) == (None, None)
    # Bringing back the reviewed text brings back the review: it covers that text.
    restored = (await graphql(RESTORE, {"v": 3, "version": 1}, token=writer))["data"]
    assert restored["articleRestoreRevision"]["article"] == {
        "version": 4,
        "reviewStatus": "CURRENT",
    }
    published = (await graphql(PUBLISH, {"v": 4}, token=writer))["data"]
    assert published["articlePublish"]["article"] == {"version": 5, "reviewStatus": "CURRENT"}
    assert (await graphql(STATE))["data"]["article"]["reviewStatus"] == "CURRENT"


async def test_a_draft_item_is_not_part_of_the_reviewed_text(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    await graphql(APPROVE, {"version": 1}, token=token)
    add = """
    mutation { benefitAdd(article: "back-walk", expectedVersion: 1,
      input: {slug: "later", title: "Later", body: "Not public yet.", draft: true}) {
        article { version reviewStatus } errors { message } } }
    """
    body = await graphql(add, token=await make_token(Scope.WRITE))
    assert body["data"]["benefitAdd"] == {
        "article": {"version": 2, "reviewStatus": "CURRENT"},
        "errors": [],
    }


async def test_approving_an_older_version_covers_that_text_only(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    writer = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(BENEFIT_UPDATE, {"v": 1, "body": "Walking calms some people."}, token=writer)
    # Version 1 is the live text; the edit made the pending version 2, which editors read.
    approved = (await graphql(APPROVE, {"version": 1}, token=token))["data"]
    assert approved["articleApproveReview"]["article"] == {
        "version": 2,
        "reviewStatus": "CHANGED_SINCE_REVIEW",
    }
    assert (await graphql(STATE))["data"]["article"]["reviewStatus"] == "CURRENT"
    # Approving the pending version covers the text that will go live.
    approved = (await graphql(APPROVE, {"version": 2}, token=token))["data"]
    assert approved["articleApproveReview"]["article"]["reviewStatus"] == "CURRENT"
    # The live text keeps the approval that covered it until the approved one goes live.
    state = (await graphql(STATE))["data"]
    assert state["benefitSnippet"]["article"]["reviewStatus"] == "CURRENT"
    assert state["article"]["lastReviewed"] == utc_now().date().isoformat()
    published = (await graphql(PUBLISH, {"v": 2}, token=writer))["data"]
    assert published["articlePublish"] == {
        "article": {"version": 3, "reviewStatus": "CURRENT"},
        "errors": [],
    }
    state = (await graphql(STATE))["data"]["article"]
    assert (state["reviewStatus"], state["review"]["version"]) == ("CURRENT", 2)


async def test_approving_needs_the_review_scope_and_a_known_reviewer_and_version(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    refused = await graphql(APPROVE, {"version": 1}, token=await make_token(Scope.WRITE))
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unknown = await graphql(APPROVE, {"version": 1, "reviewer": "nobody"}, token=token)
    assert unknown["data"]["articleApproveReview"]["errors"] == [
        {"field": "reviewer", "message": "no reviewer 'nobody'", "code": "INVALID",
         "rule": None},
    ]  # fmt: skip
    future = await graphql(APPROVE, {"version": 9}, token=token)
    assert future["data"]["articleApproveReview"]["errors"] == [
        {"field": None, "message": "The article has no version 9.", "code": "NOT_FOUND",
         "rule": None},
    ]  # fmt: skip
    assert (await graphql(STATE))["data"]["article"]["reviewStatus"] == "NEVER"


async def test_submissions_and_requests_for_changes_are_kept_in_order(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    writer = await make_token(Scope.WRITE)
    submit = 'mutation { articleSubmitForReview(slug: "back-walk", note: "Please.") { errors { message } } }'  # noqa: E501
    changes = 'mutation { articleRequestChanges(slug: "back-walk", note: "Cite a source.") { errors { message } } }'  # noqa: E501
    assert (await graphql(submit, token=writer))["data"]["articleSubmitForReview"]["errors"] == []
    assert (await graphql(changes, token=token))["data"]["articleRequestChanges"]["errors"] == []
    await graphql(APPROVE, {"version": 1}, token=token)
    events = await graphql(
        '{ article(slug: "back-walk") { reviewEvents { action version note actor } } }',
        token=writer,
    )
    assert [
        (e["action"], e["version"], e["note"]) for e in events["data"]["article"]["reviewEvents"]
    ] == [
        ("SUBMITTED", 1, "Please."),
        ("CHANGES_REQUESTED", 1, "Cite a source."),
        ("APPROVED", 1, "Checked."),
    ]


async def test_reviewers_are_validated_and_versioned(
    database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    writer = await make_token(Scope.WRITE)
    bad = {**ADA, "profileUrl": "javascript:alert(1)"}
    body = await graphql(REVIEWER_CREATE, {"input": bad}, token=writer)
    assert body["data"]["reviewerCreate"]["reviewer"] is None
    assert [e["field"] for e in body["data"]["reviewerCreate"]["errors"]] == ["input.profileUrl"]
    created = (await graphql(REVIEWER_CREATE, {"input": ADA}, token=writer))["data"]
    assert created["reviewerCreate"]["reviewer"] == {**ADA, "version": 1}
    renamed = {**ADA, "name": "Prof. Ada Example"}
    updated = await graphql(
        REVIEWER_UPDATE, {"slug": "ada", "v": 1, "input": renamed}, token=writer
    )
    assert updated["data"]["reviewerUpdate"] == {
        "reviewer": {"name": "Prof. Ada Example", "version": 2},
        "errors": [],
    }
    stale = await graphql(REVIEWER_UPDATE, {"slug": "ada", "v": 1, "input": ADA}, token=writer)
    assert stale["data"]["reviewerUpdate"]["errors"][0]["code"] == "CONFLICT"
    found = await graphql('{ reviewer(slug: "ada") { name version } }')
    assert found["data"]["reviewer"] == {"name": "Prof. Ada Example", "version": 2}


async def test_an_overdue_review_says_since_when(
    engine: AsyncEngine, graphql: GraphQL, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    review = (
        "review:\n  reviewer: {slug: ada, name: Dr. Ada Example, credentials: MD}\n"
        "  reviewed_on: 2020-01-01\n  next_review_due: 2021-01-01\ntags:\n"
    )
    (seed / "back-walk.yaml").write_text(text.replace("tags:\n", review, 1), "utf-8")
    await seed_database(engine, [seed])
    state = (await graphql(STATE))["data"]
    assert state["benefitSnippet"]["article"]["reviewLine"] == (
        "Medical review overdue since 01 January 2021."
    )
    assert state["article"]["reviewStatus"] == "OVERDUE"
    assert "reviewedBy" not in state["article"]["jsonLd"]


async def test_one_reviewer_defined_two_ways_names_both_files_and_lines(tmp_path: Path) -> None:
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    for slug, name in (("one", "Dr. Ada Example"), ("two", "Ada Example")):
        review = (
            f"review:\n  reviewer:\n    slug: ada\n    name: {name}\n    credentials: MD\n"
            "  reviewed_on: 2026-11-20\ntags:\n"
        )
        changed = text.replace("slug: back-walk", f"slug: {slug}", 1).replace("tags:\n", review, 1)
        (tmp_path / f"{slug}.yaml").write_text(changed, "utf-8")
    with pytest.raises(InvalidContent) as raised:
        read_seed_files(discover_seed_files([tmp_path]))
    (problem,) = raised.value.problems
    line = text[: text.index("tags:\n")].count("\n") + 2
    assert (problem.file, problem.line, problem.field) == (
        str(tmp_path / "two.yaml"),
        line,
        "review.reviewer",
    )
    assert f"differs from the one in {tmp_path / 'one.yaml'}:{line}" in problem.message


@pytest.fixture
async def requiring_review(
    database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"require_review": True}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        yield client


async def test_with_require_review_only_a_reviewed_version_is_published(
    penci: None, requiring_review: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    async def post(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        response = await requiring_review.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        return without_cost(response.json())["data"]

    editor = await make_token(Scope.WRITE, Scope.PUBLISH, Scope.REVIEW)
    create = (
        "mutation($input: ArticleInput!) { articleCreate(input: $input) { errors { message } } }"
    )
    article = {
        "slug": "neck", "title": "Neck stretches", "author": {"slug": "penci", "name": "Penci"},
        "benefits": [{"slug": "ease", "title": "Ease", "body": "Stretching may ease stiffness."}],
        "precautions": [{"slug": "pain", "title": "Pain", "body": "Stop if it hurts."}],
    }  # fmt: skip
    assert (await post(create, {"input": article}, editor))["articleCreate"]["errors"] == []
    publish = f"""mutation {{ articlePublish(slug: "neck", expectedVersion: 1) {{ {PAYLOAD} }} }}"""
    refused = (await post(publish, {}, editor))["articlePublish"]
    assert refused["article"] is None
    assert [(e["code"], e["rule"], e["field"]) for e in refused["errors"]] == [
        ("CONTENT_RULE", "review-required", "review")
    ]
    await post(REVIEWER_CREATE, {"input": ADA}, editor)
    approve = await post(APPROVE, {"slug": "neck", "version": 1}, editor)
    assert approve["articleApproveReview"]["article"]["reviewStatus"] == "CURRENT"
    published = (await post(publish, {}, editor))["articlePublish"]
    assert published == {"article": {"version": 2, "reviewStatus": "CURRENT"}, "errors": []}
    # An edit waits in the pending version; publishing it needs an approval of that version.
    edit = f"""mutation {{ benefitUpdate(article: "neck", slug: "ease", expectedVersion: 2,
      input: {{body: "Stretching may ease stiffness in some people."}}) {{ {PAYLOAD} }} }}"""
    edited = (await post(edit, {}, editor))["benefitUpdate"]
    assert edited == {
        "article": {"version": 3, "reviewStatus": "CHANGED_SINCE_REVIEW"},
        "errors": [],
    }
    publish = f"""mutation {{ articlePublish(slug: "neck", expectedVersion: 3) {{ {PAYLOAD} }} }}"""
    refused = (await post(publish, {}, editor))["articlePublish"]
    assert [(e["code"], e["rule"], e["field"]) for e in refused["errors"]] == [
        ("CONTENT_RULE", "review-required", "review")
    ]
    approve = await post(APPROVE, {"slug": "neck", "version": 3}, editor)
    assert approve["articleApproveReview"]["article"]["reviewStatus"] == "CURRENT"
    published = (await post(publish, {}, editor))["articlePublish"]
    assert published == {"article": {"version": 4, "reviewStatus": "CURRENT"}, "errors": []}


def _offline_schema_org(url: str, options: Any = None) -> dict[str, Any]:
    assert url.rstrip("/") == "https://schema.org", url
    document = {"@context": {"@vocab": "https://schema.org/"}}
    return {"contextUrl": None, "documentUrl": url, "document": document}


async def test_a_reviewer_renamed_is_renamed_in_every_review_line_at_once(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await _with_reviewer(graphql, make_token)
    await graphql(APPROVE, {"version": 1}, token=token)
    before = (await graphql(STATE))["data"]["benefitSnippet"]["article"]["reviewLine"]
    assert before.startswith("Medically reviewed by Dr. Ada Example, MD on ")
    renamed = {**ADA, "name": "Dr. Ada Example-Lee"}
    del renamed["slug"]
    publisher = await make_token(Scope.WRITE, Scope.PUBLISH)
    body = await graphql(
        REVIEWER_UPDATE, {"slug": "ada", "v": 1, "input": {**renamed, "slug": "ada"}},
        token=publisher,
    )  # fmt: skip
    assert body["data"]["reviewerUpdate"]["errors"] == []
    # The answer read before the change is not served again: the change announced itself.
    after = (await graphql(STATE))["data"]["benefitSnippet"]["article"]["reviewLine"]
    assert after.startswith("Medically reviewed by Dr. Ada Example-Lee, MD on ")

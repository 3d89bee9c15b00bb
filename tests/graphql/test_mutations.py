"""Editing through GraphQL: access, validation, workflow, history and optimistic concurrency.

Every refusal is checked to leave the stored article exactly as it was.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.models import OutboxEvent, utc_now
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

PAYLOAD = """
  article { slug version status publishedAt benefits { slug title body } }
  errors { field message code currentVersion }
"""
BENEFIT_UPDATE = f"""
mutation Update($v: Int!, $input: BenefitUpdateInput!, $slug: String! = "stress-relief") {{
  benefitUpdate(article: "back-walk", slug: $slug, expectedVersion: $v, input: $input) {{
    {PAYLOAD}
  }}
}}
"""
BENEFIT_ADD = f"""
mutation Add($v: Int!, $input: BenefitInput!, $position: Int) {{
  benefitAdd(article: "back-walk", expectedVersion: $v, input: $input, position: $position) {{
    {PAYLOAD}
  }}
}}
"""
BENEFITS_REORDER = f"""
mutation Reorder($v: Int!, $slugs: [String!]!) {{
  benefitsReorder(article: "back-walk", expectedVersion: $v, slugs: $slugs) {{ {PAYLOAD} }}
}}
"""
BENEFIT_DELETE = f"""
mutation Delete($v: Int!, $slug: String!) {{
  benefitDelete(article: "back-walk", slug: $slug, expectedVersion: $v) {{ {PAYLOAD} }}
}}
"""
ARTICLE_CREATE = f"""
mutation Create($input: ArticleInput!) {{ articleCreate(input: $input) {{ {PAYLOAD} }} }}
"""
ARTICLE_UPDATE = f"""
mutation Update($slug: String!, $v: Int!, $input: ArticleUpdateInput!) {{
  articleUpdate(slug: $slug, expectedVersion: $v, input: $input) {{ {PAYLOAD} }}
}}
"""
PUBLISH = f"""
mutation Publish($slug: String!, $v: Int!, $at: DateTime) {{
  articlePublish(slug: $slug, expectedVersion: $v, publishAt: $at) {{ {PAYLOAD} }}
}}
"""
UNPUBLISH = f"""
mutation Unpublish($slug: String!, $v: Int!) {{
  articleUnpublish(slug: $slug, expectedVersion: $v) {{ {PAYLOAD} }}
}}
"""
DELETE = """
mutation Delete($slug: String!, $v: Int!) {
  articleDelete(slug: $slug, expectedVersion: $v) { deletedSlug errors { code currentVersion } }
}
"""
RESTORE = f"""
mutation Restore($v: Int!, $version: Int!) {{
  articleRestoreRevision(slug: "back-walk", expectedVersion: $v, version: $version) {{ {PAYLOAD} }}
}}
"""
HISTORY = """
query History($from: Int!, $to: Int!) {
  article(slug: "back-walk") {
    version
    revisions { version action actor snapshot }
    revisionDiff(fromVersion: $from, toVersion: $to)
  }
}
"""
READ = '{ article(slug: "back-walk") { version status benefits { slug title body } } }'
NEW_ARTICLE = {
    "slug": "cupping",
    "title": "Cupping",
    "author": {"slug": "penci", "name": "Penci"},
    "benefits": [{"slug": "relief", "title": "Relief", "body": "It may relieve."}],
    "precautions": [{"slug": "skin", "title": "Skin", "body": "Marks may appear."}],
}


async def _stored(graphql: GraphQL, token: str) -> dict[str, Any]:
    data: dict[str, Any] = (await graphql(READ, token=token))["data"]["article"]
    return data


def _result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


# --- access -------------------------------------------------------------------------------------


async def test_a_mutation_without_a_token_is_unauthenticated_and_changes_nothing(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    before = await _stored(graphql, await make_token(Scope.ADMIN))
    body = await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Changed"}})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await _stored(graphql, await make_token(Scope.ADMIN)) == before


async def test_a_token_without_the_scope_is_forbidden_and_changes_nothing(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    admin = await make_token(Scope.ADMIN)
    before = await _stored(graphql, admin)
    reader = await make_token(Scope.READ_DRAFTS)
    body = await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "X"}}, token=reader)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    writer = await make_token(Scope.WRITE)
    body = await graphql(UNPUBLISH, {"slug": "back-walk", "v": 1}, token=writer)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await _stored(graphql, admin) == before


@pytest.mark.parametrize(
    "authorization",
    ["Bearer cms_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "],
)
async def test_a_bad_authorization_header_is_refused_with_401(
    seeded: AsyncEngine, client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": authorization}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_revoked_and_expired_tokens_are_refused(
    seeded: AsyncEngine, client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    from cms.tokens import revoke_token

    expired = await make_token(Scope.ADMIN, expires_at=utc_now() - timedelta(seconds=1))
    revoked = await make_token(Scope.ADMIN, name="to-revoke")
    async with session_scope(seeded) as session:
        await revoke_token(session, name="to-revoke")
    for secret in (expired, revoked):
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {secret}"},
        )  # fmt: skip
        assert response.status_code == 401


async def test_tokens_are_stored_only_as_hashes(
    seeded: AsyncEngine, make_token: TokenFactory
) -> None:
    from cms.models import ApiToken

    secret = await make_token(Scope.WRITE)
    async with session_scope(seeded) as session:
        stored = (await session.exec(select(ApiToken))).all()
    assert all(secret not in (t.token_hash, t.name, t.scopes) for t in stored)


# --- editing ------------------------------------------------------------------------------------


async def test_updating_a_benefit_changes_only_it_and_bumps_the_version(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    before = await _stored(graphql, token)
    result = _result(
        await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"body": "Calmer days."}}, token=token),
        "benefitUpdate",
    )
    assert result["errors"] == []
    assert result["article"]["version"] == 2
    assert result["article"]["benefits"][0] == {
        "slug": "stress-relief", "title": "Stress Relief", "body": "Calmer days.",
    }  # fmt: skip
    assert result["article"]["benefits"][1:] == before["benefits"][1:]


async def test_invalid_input_is_a_field_addressed_error_and_changes_nothing(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    before = await _stored(graphql, token)
    body = await graphql(
        BENEFIT_UPDATE, {"v": 1, "input": {"body": "  ", "slug": "Bad Slug"}}, token=token
    )
    result = _result(body, "benefitUpdate")
    assert result["article"] is None
    assert sorted((e["field"], e["code"]) for e in result["errors"]) == [
        ("input.body", "INVALID"), ("input.slug", "INVALID"),
    ]  # fmt: skip
    assert await _stored(graphql, token) == before


async def test_adding_a_benefit_with_a_duplicate_slug_is_refused(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    new = {"slug": "pain-management", "title": "Again", "body": "Dup."}
    result = _result(await graphql(BENEFIT_ADD, {"v": 1, "input": new}, token=token), "benefitAdd")
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("input.slug", "INVALID")]
    assert "duplicate slug" in result["errors"][0]["message"]


async def test_add_reorder_and_delete_benefits(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    new = {"slug": "better-sleep", "title": "Better Sleep", "body": "You may sleep better."}
    added = _result(
        await graphql(BENEFIT_ADD, {"v": 1, "input": new, "position": 0}, token=token), "benefitAdd"
    )
    slugs = [b["slug"] for b in added["article"]["benefits"]]
    assert slugs[:2] == ["better-sleep", "stress-relief"] and len(slugs) == 8

    reordered = _result(
        await graphql(BENEFITS_REORDER, {"v": 2, "slugs": slugs[::-1]}, token=token),
        "benefitsReorder",
    )
    assert [b["slug"] for b in reordered["article"]["benefits"]] == slugs[::-1]

    bad = _result(
        await graphql(BENEFITS_REORDER, {"v": 3, "slugs": slugs[:3]}, token=token),
        "benefitsReorder",
    )
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("slugs", "INVALID")]

    deleted = _result(
        await graphql(BENEFIT_DELETE, {"v": 3, "slug": "better-sleep"}, token=token),
        "benefitDelete",
    )
    assert "better-sleep" not in [b["slug"] for b in deleted["article"]["benefits"]]
    assert deleted["article"]["version"] == 4


async def test_an_unknown_item_is_not_found(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    result = _result(
        await graphql(BENEFIT_DELETE, {"v": 1, "slug": "no-such"}, token=token), "benefitDelete"
    )
    assert [e["code"] for e in result["errors"]] == ["NOT_FOUND"]


async def test_a_stale_version_is_a_conflict_that_names_the_current_version(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"body": "First edit."}}, token=token)
    before = await _stored(graphql, token)
    result = _result(
        await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"body": "Lost?"}}, token=token),
        "benefitUpdate",
    )
    assert [(e["field"], e["code"], e["currentVersion"]) for e in result["errors"]] == [
        ("expectedVersion", "CONFLICT", 2)
    ]
    assert await _stored(graphql, token) == before


async def test_concurrent_editors_never_lose_an_edit(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    """Eight editors save at once, all based on version 1: exactly one wins, the rest conflict."""
    tokens = [await make_token(Scope.WRITE) for _ in range(8)]
    results = await asyncio.gather(
        *(
            graphql(BENEFIT_UPDATE, {"v": 1, "input": {"body": f"Edit {n}."}}, token=token)
            for n, token in enumerate(tokens)
        )
    )
    payloads = [_result(body, "benefitUpdate") for body in results]
    winners = [p for p in payloads if not p["errors"]]
    assert len(winners) == 1
    assert all(p["errors"][0]["code"] == "CONFLICT" for p in payloads if p["errors"])
    stored = await _stored(graphql, tokens[0])
    assert stored["version"] == 2
    assert stored["benefits"][0]["body"] == winners[0]["article"]["benefits"][0]["body"]


async def test_article_create_makes_an_invisible_draft(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    created = _result(
        await graphql(ARTICLE_CREATE, {"input": NEW_ARTICLE}, token=token), "articleCreate"
    )
    assert (created["article"]["status"], created["article"]["version"]) == ("DRAFT", 1)
    query = '{ article(slug: "cupping") { slug } articles { totalCount } }'
    assert (await graphql(query))["data"] == {"article": None, "articles": {"totalCount": 1}}
    preview = (await graphql(query, token=token))["data"]
    assert preview == {"article": {"slug": "cupping"}, "articles": {"totalCount": 2}}

    again = _result(
        await graphql(ARTICLE_CREATE, {"input": NEW_ARTICLE}, token=token), "articleCreate"
    )
    assert [(e["code"], e["currentVersion"]) for e in again["errors"]] == [("CONFLICT", 1)]


async def test_article_update_changes_the_given_fields_only(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE)
    variables = {"slug": "back-walk", "v": 1, "input": {"title": "Back Walk"}}
    result = _result(await graphql(ARTICLE_UPDATE, variables, token=token), "articleUpdate")
    assert result["errors"] == []
    # The article is published: the edit waits in its pending version until published.
    publisher = await make_token(Scope.PUBLISH)
    published = await graphql(PUBLISH, {"slug": "back-walk", "v": 2}, token=publisher)
    assert _result(published, "articlePublish")["errors"] == []
    read = '{ article(slug: "back-walk") { title headline } }'
    assert (await graphql(read))["data"]["article"] == {
        "title": "Back Walk",
        "headline": "The Incredible Benefits of Back Walk: A Healing Journey for Body and Mind",
    }


# --- workflow -----------------------------------------------------------------------------------


async def test_publish_unpublish_and_invalid_transitions(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(ARTICLE_CREATE, {"input": NEW_ARTICLE}, token=token)
    public = '{ article(slug: "cupping") { status } }'

    bad = _result(
        await graphql(UNPUBLISH, {"slug": "cupping", "v": 1}, token=token), "articleUnpublish"
    )
    assert [e["code"] for e in bad["errors"]] == ["INVALID_TRANSITION"]

    published = _result(
        await graphql(PUBLISH, {"slug": "cupping", "v": 1}, token=token), "articlePublish"
    )
    assert published["article"]["status"] == "PUBLISHED"
    assert (await graphql(public))["data"]["article"] == {"status": "PUBLISHED"}

    _result(await graphql(UNPUBLISH, {"slug": "cupping", "v": 2}, token=token), "articleUnpublish")
    assert (await graphql(public))["data"]["article"] is None


async def test_a_scheduled_publication_stays_hidden_until_its_time(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(ARTICLE_CREATE, {"input": NEW_ARTICLE}, token=token)
    at = (utc_now() + timedelta(hours=1)).isoformat()
    result = _result(
        await graphql(PUBLISH, {"slug": "cupping", "v": 1, "at": at}, token=token), "articlePublish"
    )
    assert result["article"]["status"] == "PUBLISHED"
    assert (await graphql('{ article(slug: "cupping") { slug } }'))["data"]["article"] is None
    # Moving the time into the past (as the clock would) makes it public, with nothing run.
    past = (utc_now() - timedelta(seconds=1)).isoformat()
    await graphql(PUBLISH, {"slug": "cupping", "v": 2, "at": past}, token=token)
    assert (await graphql('{ article(slug: "cupping") { slug } }'))["data"]["article"] == {
        "slug": "cupping"
    }


async def test_a_publication_time_without_a_time_zone_is_refused(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(ARTICLE_CREATE, {"input": NEW_ARTICLE}, token=token)
    body = await graphql(
        PUBLISH, {"slug": "cupping", "v": 1, "at": "2030-01-01T00:00:00"}, token=token
    )
    result = _result(body, "articlePublish")
    assert result["article"] is None
    assert result["errors"] == [
        {"field": "publishAt", "message": "give a time zone, e.g. 2026-12-01T09:00:00Z",
         "code": "INVALID", "currentVersion": None}
    ]  # fmt: skip
    still = await graphql('{ article(slug: "cupping") { status version } }', token=token)
    assert still["data"]["article"] == {"status": "DRAFT", "version": 1}


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
async def test_a_publication_time_beyond_the_calendar_in_utc_is_a_field_error(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, at: str
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(ARTICLE_CREATE, {"input": NEW_ARTICLE}, token=token)
    body = await graphql(PUBLISH, {"slug": "cupping", "v": 1, "at": at}, token=token)
    assert _result(body, "articlePublish") == {
        "article": None,
        "errors": [
            {
                "field": "publishAt",
                "message": "out of range: in UTC it falls outside the years 1 to 9999",
                "code": "INVALID",
                "currentVersion": None,
            }
        ],
    }
    still = await graphql('{ article(slug: "cupping") { status version } }', token=token)
    assert still["data"]["article"] == {"status": "DRAFT", "version": 1}


async def test_deleting_an_article_is_checked_against_its_version(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.PUBLISH)  # the article is published
    stale = _result(
        await graphql(DELETE, {"slug": "back-walk", "v": 7}, token=token), "articleDelete"
    )
    assert stale["errors"] == [{"code": "CONFLICT", "currentVersion": 1}]
    done = _result(
        await graphql(DELETE, {"slug": "back-walk", "v": 1}, token=token), "articleDelete"
    )
    assert done == {"deletedSlug": "back-walk", "errors": []}
    assert (await graphql(READ, token=token))["data"]["article"] is None


# --- history ------------------------------------------------------------------------------------


async def test_every_save_is_a_revision_with_a_diff_and_restore(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, name="alice")
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Calm"}}, token=token)
    history = (await graphql(HISTORY, {"from": 1, "to": 2}, token=token))["data"]["article"]
    assert [(r["version"], r["action"], r["actor"]) for r in history["revisions"]] == [
        (2, "updated", "alice"), (1, "created", "seed"),
    ]  # fmt: skip
    assert history["revisions"][1]["snapshot"]["benefits"][0]["title"] == "Stress Relief"
    assert "-    title: Stress Relief\n+    title: Calm\n" in history["revisionDiff"]

    restored = _result(
        await graphql(RESTORE, {"v": 2, "version": 1}, token=token), "articleRestoreRevision"
    )
    assert restored["article"]["version"] == 3
    assert restored["article"]["benefits"][0]["title"] == "Stress Relief"
    history = (await graphql(HISTORY, {"from": 1, "to": 3}, token=token))["data"]["article"]
    assert history["revisions"][0]["action"] == "restored"
    assert history["revisionDiff"] == ""


async def test_revisions_are_not_public(seeded: AsyncEngine, graphql: GraphQL) -> None:
    body = await graphql(HISTORY, {"from": 1, "to": 1})
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}


async def test_each_change_writes_exactly_one_outbox_event(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Calm"}}, token=token)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Stale"}}, token=token)  # refused
    await graphql(UNPUBLISH, {"slug": "back-walk", "v": 2}, token=token)
    await graphql(PUBLISH, {"slug": "back-walk", "v": 3}, token=token)
    await graphql(DELETE, {"slug": "back-walk", "v": 4}, token=token)
    async with session_scope(seeded) as session:
        events = (await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    assert [(e.event_type, e.article_version) for e in events] == [
        ("article.published", 1),  # the seed
        ("article.updated", 1),  # the seed's German translation
        ("article.updated", 2),
        ("article.unpublished", 3),
        ("article.published", 4),
        ("article.deleted", 4),
    ]
    assert len({e.idempotency_key for e in events}) == 6
    assert events[1].payload["article"]["locale"] == "de"


async def test_seed_and_content_layer_agree_on_versions(seeded: AsyncEngine) -> None:
    async with session_scope(seeded) as session:
        count = (await session.exec(select(func.count()).select_from(OutboxEvent))).one()
        document = await content.get_article_document(session, slug="back-walk")
    assert count == 2 and document is not None  # the article, then its German translation

"""Working copies: edits of a published article wait in its pending version, which editors
preview, compare, publish (now or later) or discard, while the public keeps reading the live one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.db import Database
from cms.models import utc_now
from cms.workflow import apply_due
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

PAYLOAD = "article { version title hasPendingChanges } errors { field message code currentVersion }"
BENEFIT_UPDATE = f"""
mutation Update($v: Int!, $title: String!, $draft: Boolean) {{
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {{title: $title, draft: $draft}}) {{ {PAYLOAD} }}
}}
"""
BENEFIT_ADD = f"""
mutation Add($v: Int!) {{
  benefitAdd(article: "back-walk", expectedVersion: $v,
             input: {{slug: "sleep", title: "Better Sleep", body: "It may help you sleep."}}) {{
    {PAYLOAD}
  }}
}}
"""
ARTICLE_UPDATE = f"""
mutation Update($slug: String!, $v: Int!, $title: String!) {{
  articleUpdate(slug: $slug, expectedVersion: $v, input: {{title: $title}}) {{ {PAYLOAD} }}
}}
"""
PUBLISH = f"""
mutation Publish($slug: String! = "back-walk", $v: Int!, $at: DateTime, $until: DateTime) {{
  articlePublish(slug: $slug, expectedVersion: $v, publishAt: $at, unpublishAt: $until) {{
    {PAYLOAD}
  }}
}}
"""
DISCARD = f"""
mutation Discard($v: Int!) {{
  articleDiscardPendingChanges(slug: "back-walk", expectedVersion: $v) {{ {PAYLOAD} }}
}}
"""
CREATE = f"""
mutation {{
  articleCreate(input: {{slug: "cupping", title: "Cupping",
                        author: {{slug: "penci", name: "Penci"}}}}) {{ {PAYLOAD} }}
}}
"""
READ = """
query Read($version: ArticleVersion! = PENDING) {
  article(slug: "back-walk", version: $version) {
    version title hasPendingChanges benefits { id slug title }
  }
}
"""
CHANGES = '{ article(slug: "back-walk") { pendingChanges { path before after } } }'
REVISIONS = '{ article(slug: "back-walk") { revisions { version action pending } } }'


def _result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def _read(graphql: GraphQL, token: str | None = None, version: str = "PENDING") -> Any:
    body = await graphql(READ, {"version": version}, token=token)
    assert "errors" not in body, body
    return body["data"]["article"]


def _titles(article: dict[str, Any]) -> list[str]:
    return [benefit["title"] for benefit in article["benefits"]]


async def test_an_edit_of_a_published_article_waits_in_its_pending_version(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    live_before = await _read(graphql)
    edited = _result(
        await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor), "benefitUpdate"
    )
    assert edited == {
        "article": {"version": 2, "title": "Back Walk Benefits", "hasPendingChanges": True},
        "errors": [],
    }
    # The public reads the live version, exactly as before.
    assert await _read(graphql) == live_before
    assert live_before["hasPendingChanges"] is False
    # Editors read the pending version by default, the live one on request.
    pending = await _read(graphql, editor)
    assert (pending["version"], pending["hasPendingChanges"]) == (2, True)
    assert _titles(pending)[0] == "Calm"
    assert [b["id"] for b in pending["benefits"]] == [b["id"] for b in live_before["benefits"]]
    live = await _read(graphql, editor, "LIVE")
    assert (live["version"], live["hasPendingChanges"]) == (1, True)
    assert _titles(live) == _titles(live_before)
    changes = (await graphql(CHANGES, token=editor))["data"]["article"]["pendingChanges"]
    assert changes == [
        {"path": "benefits[stress-relief].title", "before": "Stress Relief", "after": "Calm"}
    ]
    revisions = (await graphql(REVISIONS, token=editor))["data"]["article"]["revisions"]
    assert revisions == [
        {"version": 2, "action": "updated", "pending": True},
        {"version": 1, "action": "created", "pending": False},
    ]


async def test_publishing_makes_the_pending_version_live_with_item_ids_kept(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    ids = [b["id"] for b in (await _read(graphql))["benefits"]]
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor)
    await graphql(ARTICLE_UPDATE, {"slug": "back-walk", "v": 2, "title": "Back Walk"}, token=editor)
    published = _result(await graphql(PUBLISH, {"v": 3}, token=publisher), "articlePublish")
    assert published == {
        "article": {"version": 4, "title": "Back Walk", "hasPendingChanges": False},
        "errors": [],
    }
    public = await _read(graphql)
    assert (public["title"], _titles(public)[0], public["version"]) == ("Back Walk", "Calm", 4)
    assert [b["id"] for b in public["benefits"]] == ids
    assert (await graphql(CHANGES, token=editor))["data"]["article"]["pendingChanges"] == []
    revisions = (await graphql(REVISIONS, token=editor))["data"]["article"]["revisions"]
    assert revisions[0] == {"version": 4, "action": "published", "pending": False}


async def test_a_new_pending_item_has_id_zero_until_it_is_published(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    _result(await graphql(BENEFIT_ADD, {"v": 1}, token=editor), "benefitAdd")
    pending = await _read(graphql, editor)
    assert pending["benefits"][-1]["slug"] == "sleep"
    assert pending["benefits"][-1]["id"] == "QmVuZWZpdDow"  # Benefit:0
    assert "sleep" not in [b["slug"] for b in (await _read(graphql))["benefits"]]
    await graphql(PUBLISH, {"v": 2}, token=publisher)
    public = await _read(graphql)
    assert public["benefits"][-1]["slug"] == "sleep"
    assert public["benefits"][-1]["id"] != "QmVuZWZpdDow"


async def test_a_draft_item_of_a_live_article_goes_public_only_when_published(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Stress Relief", "draft": True}, token=editor)
    await graphql(PUBLISH, {"v": 2}, token=publisher)
    assert "Stress Relief" not in _titles(await _read(graphql))
    flipped = await graphql(
        BENEFIT_UPDATE, {"v": 3, "title": "Stress Relief", "draft": False}, token=editor
    )
    assert _result(flipped, "benefitUpdate")["errors"] == []
    assert "Stress Relief" not in _titles(await _read(graphql))  # still pending
    await graphql(PUBLISH, {"v": 4}, token=publisher)
    assert _titles(await _read(graphql))[0] == "Stress Relief"


async def test_discarding_brings_editors_back_to_the_live_version(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    live = await _read(graphql, editor)
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor)
    discarded = _result(
        await graphql(DISCARD, {"v": 2}, token=editor), "articleDiscardPendingChanges"
    )
    assert discarded["article"] == {
        "version": 1,
        "title": "Back Walk Benefits",
        "hasPendingChanges": False,
    }
    assert await _read(graphql, editor) == live
    again = _result(await graphql(DISCARD, {"v": 1}, token=editor), "articleDiscardPendingChanges")
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
    # Versions are never handed out twice: the next edit is version 3, not 2 again.
    edited = await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calmer"}, token=editor)
    assert _result(edited, "benefitUpdate")["article"]["version"] == 3


async def test_a_stale_version_is_refused_for_pending_edits(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor)
    stale = _result(
        await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Other"}, token=editor), "benefitUpdate"
    )
    assert stale["errors"] == [
        {
            "field": "expectedVersion",
            "message": "article 'back-walk' is at version 2, not 1: someone saved it since you "
            "loaded it; reload and apply your change again",
            "code": "CONFLICT",
            "currentVersion": 2,
        }
    ]
    assert _titles(await _read(graphql, editor))[0] == "Calm"


async def test_a_never_published_draft_is_edited_in_place(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    _result(await graphql(CREATE, token=editor), "articleCreate")
    updated = _result(
        await graphql(ARTICLE_UPDATE, {"slug": "cupping", "v": 1, "title": "Cups"}, token=editor),
        "articleUpdate",
    )
    assert updated["article"] == {"version": 2, "title": "Cups", "hasPendingChanges": False}
    live = '{ article(slug: "cupping", version: LIVE) { title } }'
    assert (await graphql(live, token=editor))["data"]["article"] == {"title": "Cups"}


async def test_a_later_publication_keeps_the_live_version_until_it_comes_due(
    seeded: AsyncEngine, database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor)
    at = utc_now() + timedelta(hours=1)
    scheduled = _result(
        await graphql(PUBLISH, {"v": 2, "at": at.isoformat()}, token=publisher), "articlePublish"
    )
    assert scheduled["errors"] == []
    assert scheduled["article"]["hasPendingChanges"] is True
    public = await _read(graphql)
    assert public is not None and _titles(public)[0] == "Stress Relief"  # no gap
    # What every server process's change channel runs, at a time before and after it is due.
    async with database.write_session() as session:
        assert await apply_due(session, now=at - timedelta(seconds=1)) == 0
    assert _titles(await _read(graphql))[0] == "Stress Relief"
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 1
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 0  # once only
    public = await _read(graphql)
    assert (_titles(public)[0], public["hasPendingChanges"]) == ("Calm", False)
    assert (await _read(graphql, editor))["hasPendingChanges"] is False


async def test_a_live_article_without_pending_changes_cannot_be_rescheduled_away(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    publisher = await make_token(Scope.PUBLISH)
    at = (utc_now() + timedelta(hours=1)).isoformat()
    refused = _result(await graphql(PUBLISH, {"v": 1, "at": at}, token=publisher), "articlePublish")
    assert [e["code"] for e in refused["errors"]] == ["INVALID_TRANSITION"]
    assert (await _read(graphql))["title"] == "Back Walk Benefits"


async def test_an_expired_article_is_invisible_to_the_public(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    publisher = await make_token(Scope.PUBLISH)
    until = utc_now() + timedelta(hours=1)
    published = await graphql(PUBLISH, {"v": 1, "until": until.isoformat()}, token=publisher)
    assert _result(published, "articlePublish")["errors"] == []
    assert (await _read(graphql))["title"] == "Back Walk Benefits"
    expiry = '{ article(slug: "back-walk") { unpublishAt } }'
    assert (await graphql(expiry))["data"]["article"]["unpublishAt"] is not None
    at, until = utc_now() - timedelta(hours=2), utc_now() - timedelta(hours=1)
    variables = {"v": 2, "at": at.isoformat(), "until": until.isoformat()}
    expired = await graphql(PUBLISH, variables, token=publisher)
    assert _result(expired, "articlePublish")["errors"] == []
    assert (await _read(graphql)) is None
    assert (await graphql("{ articles(first: 5) { nodes { slug } } }"))["data"]["articles"] == {
        "nodes": []
    }
    backwards = {"v": 3, "at": until.isoformat(), "until": at.isoformat()}
    refused = _result(await graphql(PUBLISH, backwards, token=publisher), "articlePublish")
    assert refused["errors"] == [
        {
            "field": "unpublishAt",
            "message": "the expiry must come after the publication",
            "code": "INVALID",
            "currentVersion": None,
        }
    ]


async def test_embeds_snippets_and_oembed_keep_the_live_text_while_changes_are_pending(
    seeded: AsyncEngine, client: httpx.AsyncClient, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Pending Calm"}, token=editor)
    page = await client.get("/embed/back-walk/stress-relief")
    assert page.status_code == 200
    assert "Stress Relief" in page.text and "Pending Calm" not in page.text
    oembed = await client.get(
        "/oembed", params={"url": "http://cms.test/embed/back-walk/stress-relief"}
    )
    assert oembed.status_code == 200
    assert oembed.json()["title"] == "Stress Relief – Back Walk Benefits"
    snippet = """query($v: ArticleVersion! = PENDING) {
      benefitSnippet(article: "back-walk", benefit: "stress-relief", version: $v) { html }
    }"""
    # Snippets are syndicated with the live text; only an editor previews the pending one.
    for token, version in ((None, "PENDING"), (editor, "LIVE")):
        body = await graphql(snippet, {"v": version}, token=token)
        html = body["data"]["benefitSnippet"]["html"]
        assert "Stress Relief" in html and "Pending Calm" not in html
    preview = (await graphql(snippet, token=editor))["data"]["benefitSnippet"]["html"]
    assert "Pending Calm" in preview


async def test_an_edit_after_scheduling_cancels_the_schedule(
    seeded: AsyncEngine, database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    """What goes live is only ever what a publisher scheduled."""
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor)
    at = utc_now() + timedelta(hours=1)
    await graphql(PUBLISH, {"v": 2, "at": at.isoformat()}, token=publisher)
    await graphql(BENEFIT_UPDATE, {"v": 3, "title": "Unreviewed"}, token=editor)
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 0
    assert _titles(await _read(graphql))[0] == "Stress Relief"
    assert _titles(await _read(graphql, editor))[0] == "Unreviewed"

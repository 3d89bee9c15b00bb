"""The `changes` feed: what changed since a cursor, as the caller may see it, in commit order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import Database, session_scope
from cms.documents import ArticleDocument
from cms.models import ArticleStatus, utc_now
from cms.workflow import apply_due
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document

pytestmark = pytest.mark.anyio

FEED = """query($since: String, $first: Int) {
  changes(since: $since, first: $first) {
    nodes { type slug cursor occurredAt article { slug status } }
    endCursor hasNextPage
  }
}"""


async def _save(engine: AsyncEngine, document: ArticleDocument) -> None:
    async with session_scope(engine) as session:
        await content.save_article_document(session, document)


async def _change(engine: AsyncEngine, slug: str, **fields: Any) -> None:
    async with session_scope(engine) as session:
        current = await content.get_article_document(session, slug=slug)
        assert current is not None
        await content.save_article_document(session, current.model_copy(update=fields))


async def _delete(engine: AsyncEngine, slug: str) -> None:
    async with session_scope(engine) as session:
        await content.delete_article(session, slug=slug)


async def _feed(
    graphql: GraphQL, since: str | None = None, first: int | None = None, token: str | None = None
) -> dict[str, Any]:
    body = await graphql(FEED, {"since": since, "first": first}, token=token)
    assert "errors" not in body, body
    feed: dict[str, Any] = body["data"]["changes"]
    return feed


def _seen(feed: dict[str, Any]) -> list[tuple[str, str]]:
    return [(node["type"], node["slug"]) for node in feed["nodes"]]


async def _make_changes(engine: AsyncEngine) -> None:
    await _save(engine, article_document(slug="draft-one", status=ArticleStatus.DRAFT))
    await _change(engine, "back-walk", title="Walking Backwards")
    await _change(engine, "back-walk", status=ArticleStatus.UNPUBLISHED)
    await _delete(engine, "draft-one")
    await _save(engine, article_document(slug="fresh"))


async def test_the_public_feed_shows_publications_as_created_and_removals_as_deleted(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    start = await _feed(graphql)
    # Seeding published the article, then added its German translation.
    assert _seen(start) == [("CREATED", "back-walk"), ("UPDATED", "back-walk")]
    assert start["hasNextPage"] is False
    await _make_changes(seeded)

    since = await _feed(graphql, since=start["endCursor"])
    # The draft's creation and deletion are invisible; unpublishing deletes for the public.
    assert _seen(since) == [
        ("UPDATED", "back-walk"),
        ("DELETED", "back-walk"),
        ("CREATED", "fresh"),
    ]
    assert [node["article"] for node in since["nodes"]] == [
        None,  # back-walk is no longer public
        None,
        {"slug": "fresh", "status": "PUBLISHED"},
    ]
    assert since["nodes"][-1]["cursor"] == since["endCursor"]
    caught_up = await _feed(graphql, since=since["endCursor"])
    assert caught_up == {"nodes": [], "endCursor": since["endCursor"], "hasNextPage": False}


async def test_editors_see_every_change_including_drafts(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.READ_DRAFTS)
    start = await _feed(graphql, token=token)
    await _make_changes(seeded)
    since = await _feed(graphql, since=start["endCursor"], token=token)
    assert _seen(since) == [
        ("CREATED", "draft-one"),
        ("UPDATED", "back-walk"),
        ("UPDATED", "back-walk"),
        ("DELETED", "draft-one"),
        ("CREATED", "fresh"),
    ]
    assert since["nodes"][2]["article"] == {"slug": "back-walk", "status": "UNPUBLISHED"}


async def test_pages_resume_from_their_end_cursor(seeded: AsyncEngine, graphql: GraphQL) -> None:
    for index in range(5):
        await _save(seeded, article_document(slug=f"page-{index}"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await _feed(graphql, since=cursor, first=2)
        seen += [node["slug"] for node in page["nodes"]]
        cursor, pages = page["endCursor"], pages + 1
        if not page["hasNextPage"]:
            break
    # The seed's article and its translation, then the five new articles, two a page.
    assert seen == ["back-walk", "back-walk", "page-0", "page-1", "page-2", "page-3", "page-4"]
    assert pages == 4


async def test_a_page_of_invisible_changes_still_moves_the_cursor(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    start = await _feed(graphql)
    for index in range(3):
        await _save(seeded, article_document(slug=f"hidden-{index}", status=ArticleStatus.DRAFT))
    page = await _feed(graphql, since=start["endCursor"])
    assert page["nodes"] == []
    assert page["endCursor"] != start["endCursor"]
    await _save(seeded, article_document(slug="shown"))
    assert _seen(await _feed(graphql, since=page["endCursor"])) == [("CREATED", "shown")]


async def test_an_empty_database_gives_a_cursor_to_start_from(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    empty = await _feed(graphql)
    assert (empty["nodes"], empty["hasNextPage"]) == ([], False)
    await _save(engine, article_document(slug="first"))
    assert _seen(await _feed(graphql, since=empty["endCursor"])) == [("CREATED", "first")]


@pytest.mark.parametrize("since", ["nonsense", "djE6c2x1ZzpiYWNrLXdhbGs", ""])
async def test_a_bad_cursor_is_refused(seeded: AsyncEngine, graphql: GraphQL, since: str) -> None:
    body = await graphql(FEED, {"since": since})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_a_page_size_out_of_range_is_refused(seeded: AsyncEngine, graphql: GraphQL) -> None:
    body = await graphql(FEED, {"first": 101})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_concurrent_writers_lose_no_change_in_a_feed_read_while_they_write(
    seeded: AsyncEngine, graphql: GraphQL
) -> None:
    """Writers commit in any order; a reader syncing incrementally all the while ends with every
    change exactly once."""
    start = await _feed(graphql)
    writers = 4
    per_writer = 6

    async def write(writer: int) -> None:
        for index in range(per_writer):
            await _save(seeded, article_document(slug=f"w{writer}-{index}"))

    collected: list[str] = []
    cursor = start["endCursor"]

    async def sync() -> None:
        nonlocal cursor
        page = await _feed(graphql, since=cursor, first=5)
        collected.extend(node["slug"] for node in page["nodes"])
        cursor = page["endCursor"]

    writing = asyncio.gather(*(write(writer) for writer in range(writers)))
    while not writing.done():
        await sync()
        await asyncio.sleep(0)
    await writing
    for _ in range(writers * per_writer):
        before = len(collected)
        await sync()
        if len(collected) == before:
            break
    expected = {f"w{w}-{i}" for w in range(writers) for i in range(per_writer)}
    assert len(collected) == len(expected)
    assert set(collected) == expected


PENDING_EDIT = """mutation { benefitUpdate(article: "back-walk", slug: "stress-relief",
  expectedVersion: 1, input: {title: "Calm"}) { errors { code } } }"""


async def test_scheduled_content_reaches_the_public_feed_only_when_it_comes_due(
    seeded: AsyncEngine, database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE, Scope.PUBLISH)
    start = await _feed(graphql)
    at = utc_now() + timedelta(hours=1)
    await _save(seeded, article_document(slug="later", published_at=at))
    assert (await graphql(PENDING_EDIT, token=editor))["data"]["benefitUpdate"]["errors"] == []
    schedule = f"""mutation {{ articlePublish(slug: "back-walk", expectedVersion: 2,
      publishAt: "{at.isoformat()}") {{ errors {{ code }} }} }}"""
    assert (await graphql(schedule, token=editor))["data"]["articlePublish"]["errors"] == []
    # Scheduled, edited, rescheduled: nothing the public sees has changed yet.
    waiting = await _feed(graphql, since=start["endCursor"])
    assert _seen(waiting) == []
    editors = await _feed(graphql, since=start["endCursor"], token=editor)
    assert _seen(editors) == [
        ("CREATED", "later"), ("UPDATED", "back-walk"), ("UPDATED", "back-walk")
    ]  # fmt: skip
    # What every server's change channel runs: the moment they come due, the feed says so.
    async with database.write_session() as session:
        assert await apply_due(session, now=at - timedelta(seconds=1)) == 0
    assert _seen(await _feed(graphql, since=waiting["endCursor"])) == []
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 2
    due = await _feed(graphql, since=waiting["endCursor"])
    assert _seen(due) == [("UPDATED", "back-walk"), ("CREATED", "later")]
    assert [node["occurredAt"] for node in due["nodes"]][1] == at.isoformat()
    async with database.write_session() as session:
        assert await apply_due(session, now=at + timedelta(seconds=1)) == 0  # announced once
    assert _seen(await _feed(graphql, since=due["endCursor"])) == []


async def test_an_expiry_reaches_the_public_feed_as_a_deletion_when_it_comes_due(
    seeded: AsyncEngine, database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    publisher = await make_token(Scope.PUBLISH)
    until = utc_now() + timedelta(hours=1)
    expire = f"""mutation {{ articlePublish(slug: "back-walk", expectedVersion: 1,
      unpublishAt: "{until.isoformat()}") {{ errors {{ code }} }} }}"""
    assert (await graphql(expire, token=publisher))["data"]["articlePublish"]["errors"] == []
    start = await _feed(graphql)
    async with database.write_session() as session:
        assert await apply_due(session, now=until) == 1
        assert await apply_due(session, now=until) == 0
    assert _seen(await _feed(graphql, since=start["endCursor"])) == [("DELETED", "back-walk")]

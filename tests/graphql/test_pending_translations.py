"""Translations follow the article's editorial rules: an edit of a published article's
translation waits as a pending translation, which editors preview and compare, which goes live
with `articlePublish` (at once, or when a scheduled publication comes due) and which
`articleDiscardPendingChanges` drops, while the public keeps reading the live translation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms.access import Scope
from cms.db import Database, session_scope
from cms.models import TranslationRevision, utc_now
from cms.workflow import apply_due
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

SAVE = """
mutation Save($v: Int!, $input: ArticleTranslationInput!) {
  articleTranslationSave(slug: "back-walk", locale: "de", expectedVersion: $v, input: $input) {
    version article { title hasPendingChanges } errors { field code currentVersion }
  }
}
"""
DELETE = """
mutation { articleTranslationDelete(slug: "back-walk", locale: "de") { errors { code } } }
"""
BENEFIT_UPDATE = """
mutation Update($v: Int!, $title: String!) {
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {title: $title}) { errors { code } }
}
"""
PUBLISH = """
mutation Publish($v: Int!, $at: DateTime) {
  articlePublish(slug: "back-walk", expectedVersion: $v, publishAt: $at) {
    article { hasPendingChanges } errors { code message }
  }
}
"""
DISCARD = """
mutation Discard($v: Int!) {
  articleDiscardPendingChanges(slug: "back-walk", expectedVersion: $v) {
    article { hasPendingChanges } errors { code message }
  }
}
"""
READ = """
query Read($version: ArticleVersion! = PENDING) {
  article(slug: "back-walk", locale: "de", version: $version) {
    version title hasPendingChanges availableLocales translationVersions { locale version }
    benefits { slug title fieldLocales { field locale stale } }
    jsonLd
  }
  benefitSnippet(article: "back-walk", benefit: "stress-relief", locale: "de") { title }
}
"""
CHANGES = '{ article(slug: "back-walk") { pendingChanges { path locale before after } } }'
FEED = """
query Feed($since: String) { changes(since: $since) { nodes { type slug locale } endCursor } }
"""
LIVE_TITLE = "Die Vorteile des Back Walk"
GERMAN_HEADLINE = (
    "Die erstaunlichen Vorteile des Back Walk: eine heilsame Reise für Körper und Geist"
)
GERMAN = {
    "title": "Back Walk: die Vorteile",
    "benefits": [{"slug": "stress-relief", "title": "Weniger Stress", "body": "Entspannt."}],
}


def _result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def _read(graphql: GraphQL, token: str | None = None, version: str = "PENDING") -> Any:
    body = await graphql(READ, {"version": version}, token=token)
    assert "errors" not in body, body
    article = body["data"]["article"]
    article["snippet"] = body["data"]["benefitSnippet"]["title"]
    article["translationVersions"] = {
        v["locale"]: v["version"] for v in article["translationVersions"]
    }
    return article


def _benefit(article: dict[str, Any]) -> str:
    title: str = article["benefits"][0]["title"]
    return title


async def _save(graphql: GraphQL, token: str, version: int, input: dict[str, Any]) -> Any:
    return _result(await graphql(SAVE, {"v": version, "input": input}, token=token),
                   "articleTranslationSave")  # fmt: skip


async def _cursor(graphql: GraphQL) -> str:
    body = await graphql(FEED, {"since": None})
    cursor: str = body["data"]["changes"]["endCursor"]
    return cursor


async def _feed(graphql: GraphQL, since: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (await graphql(FEED, {"since": since}))["data"]["changes"][
        "nodes"
    ]
    return nodes


async def test_a_write_scope_save_waits_unseen_by_the_public_until_published(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    public_before = await _read(graphql)
    assert (public_before["title"], public_before["snippet"]) == (LIVE_TITLE, "Stressabbau")
    cursor = await _cursor(graphql)
    saved = await _save(graphql, editor, 1, GERMAN)
    assert saved == {
        "version": 2,
        "article": {"title": "Back Walk: die Vorteile", "hasPendingChanges": True},
        "errors": [],
    }
    # The public reads the live German text everywhere (JSON-LD and snippets included), and
    # hears of no change.
    assert await _read(graphql) == public_before
    assert await _feed(graphql, cursor) == []
    # Editors read the pending translation by default, the live one on request.
    pending = await _read(graphql, editor)
    assert (pending["title"], _benefit(pending)) == ("Back Walk: die Vorteile", "Weniger Stress")
    assert (pending["version"], pending["hasPendingChanges"]) == (1, True)  # the article's own
    assert pending["translationVersions"] == {"de": 2}
    assert pending["snippet"] == "Stressabbau"  # snippets are syndicated: always live
    live = await _read(graphql, editor, "LIVE")
    assert (live["title"], live["hasPendingChanges"]) == (LIVE_TITLE, True)
    assert live["translationVersions"] == {"de": 1}
    changes = _result(await graphql(CHANGES, token=editor), "article")["pendingChanges"]
    assert {"path": "title", "locale": "de", "before": LIVE_TITLE,
            "after": "Back Walk: die Vorteile"} in changes  # fmt: skip
    assert {"path": "benefits[stress-relief].title", "locale": "de", "before": "Stressabbau",
            "after": "Weniger Stress"} in changes  # fmt: skip
    # Left out of the new translation: it falls back to the English headline.
    assert {"path": "headline", "locale": "de", "before": GERMAN_HEADLINE,
            "after": None} in changes  # fmt: skip
    # Publishing makes it live, as a new version, and tells the public.
    published = _result(await graphql(PUBLISH, {"v": 1}, token=publisher), "articlePublish")
    assert published == {"article": {"hasPendingChanges": False}, "errors": []}
    public = await _read(graphql)
    assert (public["title"], _benefit(public), public["snippet"]) == (
        "Back Walk: die Vorteile", "Weniger Stress", "Weniger Stress",
    )  # fmt: skip
    assert public["translationVersions"] == {"de": 3}
    assert public["version"] == 1  # the article's own text did not change
    assert await _feed(graphql, cursor) == [
        {"type": "UPDATED", "slug": "back-walk", "locale": "de"}
    ]
    assert _result(await graphql(CHANGES, token=editor), "article")["pendingChanges"] == []
    async with session_scope(seeded) as session:
        statement = select(TranslationRevision).order_by(col(TranslationRevision.version))
        revisions = [(r.version, r.action, r.pending) for r in (await session.exec(statement))]
    assert revisions == [(1, "created", False), (2, "updated", True), (3, "updated", False)]


async def test_discarding_drops_the_pending_translation_and_its_version_is_never_reused(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    public_before = await _read(graphql)
    assert (await _save(graphql, editor, 1, GERMAN))["errors"] == []
    discarded = _result(
        await graphql(DISCARD, {"v": 1}, token=editor), "articleDiscardPendingChanges"
    )
    assert discarded == {"article": {"hasPendingChanges": False}, "errors": []}
    back = await _read(graphql, editor)
    assert (back["title"], back["translationVersions"]) == (LIVE_TITLE, {"de": 1})
    assert await _read(graphql) == public_before
    nothing = _result(
        await graphql(DISCARD, {"v": 1}, token=editor), "articleDiscardPendingChanges"
    )
    assert [e["code"] for e in nothing["errors"]] == ["NOT_FOUND"]
    # Version 2 was handed out to the discarded edit: the next save takes 3.
    assert (await _save(graphql, editor, 1, {"title": "Neu"}))["version"] == 3


async def test_a_stale_expected_version_is_refused_against_the_pending_translation(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    assert (await _save(graphql, editor, 1, GERMAN))["version"] == 2
    refused = await _save(graphql, editor, 1, {"title": "Überschrieben"})
    assert refused == {
        "version": None,
        "article": None,
        "errors": [{"field": "expectedVersion", "code": "CONFLICT", "currentVersion": 2}],
    }
    assert (await _read(graphql, editor))["title"] == "Back Walk: die Vorteile"
    assert (await _save(graphql, editor, 2, {"title": "Zweiter Entwurf"}))["version"] == 3
    assert (await _read(graphql, editor))["title"] == "Zweiter Entwurf"
    assert (await _read(graphql))["title"] == LIVE_TITLE


async def test_a_scheduled_publication_keeps_the_live_translation_until_it_comes_due(
    seeded: AsyncEngine, database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    assert (await _save(graphql, editor, 1, GERMAN))["errors"] == []
    at = utc_now() + timedelta(hours=1)
    # Only the translation is pending: it is scheduled all the same.
    scheduled = _result(
        await graphql(PUBLISH, {"v": 1, "at": at.isoformat()}, token=publisher), "articlePublish"
    )
    assert scheduled == {"article": {"hasPendingChanges": True}, "errors": []}
    cursor = await _cursor(graphql)
    async with database.write_session() as session:
        assert await apply_due(session, now=at - timedelta(seconds=1)) == 0
    assert (await _read(graphql))["title"] == LIVE_TITLE  # no gap, no early text
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 1
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 0  # once only
    public = await _read(graphql)
    assert (public["title"], public["hasPendingChanges"]) == ("Back Walk: die Vorteile", False)
    assert await _feed(graphql, cursor) == [
        {"type": "UPDATED", "slug": "back-walk", "locale": "de"}
    ]
    assert (await _read(graphql, editor))["hasPendingChanges"] is False


async def test_a_translation_saved_after_scheduling_cancels_the_schedule(
    seeded: AsyncEngine, database: Database, graphql: GraphQL, make_token: TokenFactory
) -> None:
    """What goes live is only ever what a publisher scheduled."""
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    assert _result(await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor),
                   "benefitUpdate")["errors"] == []  # fmt: skip
    at = utc_now() + timedelta(hours=1)
    await graphql(PUBLISH, {"v": 2, "at": at.isoformat()}, token=publisher)
    assert (await _save(graphql, editor, 1, GERMAN))["errors"] == []
    async with database.write_session() as session:
        assert await apply_due(session, now=at) == 0
    assert (await _read(graphql))["title"] == LIVE_TITLE


async def test_a_pending_deletion_goes_live_with_the_article(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    assert _result(await graphql(DELETE, token=editor), "articleTranslationDelete")["errors"] == []
    public = await _read(graphql)
    assert (public["title"], public["availableLocales"]) == (LIVE_TITLE, ["en", "de"])
    pending = await _read(graphql, editor)
    assert (pending["title"], pending["availableLocales"]) == ("Back Walk Benefits", ["en"])
    assert pending["translationVersions"] == {}  # a new translation expects 0
    again = _result(await graphql(DELETE, token=editor), "articleTranslationDelete")
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
    assert (
        _result(await graphql(PUBLISH, {"v": 1}, token=publisher), "articlePublish")["errors"] == []
    )
    public = await _read(graphql)
    assert (public["title"], public["availableLocales"]) == ("Back Walk Benefits", ["en"])


async def test_stale_marks_compare_with_the_text_that_went_live(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    """A translation of the pending English text is current once both go live; one of the
    English text it replaced is stale."""
    editor, publisher = await make_token(Scope.WRITE), await make_token(Scope.PUBLISH)
    assert _result(await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Calm"}, token=editor),
                   "benefitUpdate")["errors"] == []  # fmt: skip
    # The German title translates the pending English one; the body was made from the live one.
    benefit = {"slug": "stress-relief", "title": "Ruhe"}
    assert (await _save(graphql, editor, 1, {"benefits": [benefit]}))["errors"] == []
    fields = (await _read(graphql, editor))["benefits"][0]["fieldLocales"]
    assert [(f["field"], f["stale"]) for f in fields] == [("title", False), ("body", False)]
    assert (
        _result(await graphql(PUBLISH, {"v": 2}, token=publisher), "articlePublish")["errors"] == []
    )
    public = (await _read(graphql))["benefits"][0]
    assert public["title"] == "Ruhe"
    assert [(f["field"], f["locale"], f["stale"]) for f in public["fieldLocales"]] == [
        ("title", "de", False),
        ("body", "en", False),  # no longer translated: it falls back
    ]
    # Translated against the live English title, which the pending version then changed.
    assert _result(await graphql(BENEFIT_UPDATE, {"v": 3, "title": "Serenity"}, token=editor),
                   "benefitUpdate")["errors"] == []  # fmt: skip
    assert (await _save(graphql, editor, 3, GERMAN))["errors"] == []
    assert _result(await graphql(BENEFIT_UPDATE, {"v": 4, "title": "Peace"}, token=editor),
                   "benefitUpdate")["errors"] == []  # fmt: skip
    assert (
        _result(await graphql(PUBLISH, {"v": 5}, token=publisher), "articlePublish")["errors"] == []
    )
    stale = (await _read(graphql))["benefits"][0]["fieldLocales"]
    assert [(f["field"], f["stale"]) for f in stale] == [("title", True), ("body", False)]


async def test_a_drafts_translation_is_saved_live_at_once(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    editor = await make_token(Scope.WRITE)
    create = """mutation { articleCreate(input: {slug: "cupping", title: "Cupping",
                author: {slug: "penci", name: "Penci"}}) { errors { code } } }"""
    assert _result(await graphql(create, token=editor), "articleCreate")["errors"] == []
    save = """mutation { articleTranslationSave(slug: "cupping", locale: "de", expectedVersion: 0,
                input: {title: "Schröpfen"}) { version article { title hasPendingChanges } } }"""
    saved = _result(await graphql(save, token=editor), "articleTranslationSave")
    assert saved == {"version": 1, "article": {"title": "Schröpfen", "hasPendingChanges": False}}
    live = '{ article(slug: "cupping", locale: "de", version: LIVE) { title } }'
    assert _result(await graphql(live, token=editor), "article") == {"title": "Schröpfen"}

"""Translations are versioned like articles (`expectedVersion`, revisions), and each translated
field knows whether the text it translates has changed since (`fieldLocales.stale`, `cms lint`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from cms import lint, translations
from cms.access import Scope
from cms.db import session_scope
from cms.models import TranslationRevision
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

SAVE = """
mutation Save($v: Int!, $input: ArticleTranslationInput!) {
  articleTranslationSave(slug: "back-walk", locale: "de", expectedVersion: $v, input: $input) {
    version errors { field code currentVersion }
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
mutation Publish($v: Int!) {
  articlePublish(slug: "back-walk", expectedVersion: $v) { errors { code } }
}
"""
READ = """{
  benefitSnippet(article: "back-walk", benefit: "stress-relief", locale: "de") {
    fieldLocales { field stale }
  }
  article(slug: "back-walk", locale: "de") {
    translationVersions { locale version }
    fieldLocales { field stale }
    benefits { slug fieldLocales { field locale fallback stale } }
  }
}"""
GERMAN = {
    "title": "Die Vorteile des Back Walk",
    "benefits": [{"slug": "stress-relief", "title": "Stressabbau", "body": "Entspannt."}],
}


async def _read(graphql: GraphQL, token: str | None = None) -> dict[str, Any]:
    body = await graphql(READ, token=token)
    assert "errors" not in body, body
    article: dict[str, Any] = body["data"]["article"]
    article["snippet"] = body["data"]["benefitSnippet"]["fieldLocales"]
    versions = {v["locale"]: v["version"] for v in article.pop("translationVersions")}
    article["translationVersion"] = versions.get("de", 0)
    return article


def _stress_relief(article: dict[str, Any]) -> list[dict[str, Any]]:
    (benefit,) = [b for b in article["benefits"] if b["slug"] == "stress-relief"]
    fields: list[dict[str, Any]] = benefit["fieldLocales"]
    return fields


async def test_a_translation_save_names_the_version_it_is_based_on(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    # The article is published: the save waits in its pending translation, at version 2.
    token = await make_token(Scope.WRITE)
    assert (await _read(graphql, token))["translationVersion"] == 1
    saved = await graphql(SAVE, {"v": 1, "input": GERMAN}, token=token)
    assert saved["data"]["articleTranslationSave"] == {"version": 2, "errors": []}
    stale = await graphql(SAVE, {"v": 1, "input": {"title": "Überschrieben"}}, token=token)
    assert stale["data"]["articleTranslationSave"] == {
        "version": None,
        "errors": [{"field": "expectedVersion", "code": "CONFLICT", "currentVersion": 2}],
    }
    assert (await _read(graphql, token))["translationVersion"] == 2
    assert (await _read(graphql))["translationVersion"] == 1  # the public's
    async with session_scope(seeded) as session:
        statement = select(TranslationRevision).order_by(col(TranslationRevision.version))
        revisions = [
            (r.version, r.action, r.pending, r.actor) for r in (await session.exec(statement)).all()
        ]
    assert [r[:3] for r in revisions] == [(1, "created", False), (2, "updated", True)]
    assert revisions[0][3] == "seed"


async def test_a_translation_made_again_after_a_deletion_continues_its_history(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    deleted = await graphql(DELETE, token=token)
    assert deleted["data"]["articleTranslationDelete"]["errors"] == []
    assert (await graphql(PUBLISH, {"v": 1}, token=token))["data"]["articlePublish"]["errors"] == []
    assert (await _read(graphql))["translationVersion"] == 0
    saved = await graphql(SAVE, {"v": 0, "input": GERMAN}, token=token)
    assert saved["data"]["articleTranslationSave"] == {"version": 4, "errors": []}
    assert (await graphql(PUBLISH, {"v": 1}, token=token))["data"]["articlePublish"]["errors"] == []
    assert (await _read(graphql))["translationVersion"] == 5
    async with session_scope(seeded) as session:
        statement = select(TranslationRevision).order_by(col(TranslationRevision.version))
        revisions = [
            (r.version, r.action, r.pending) for r in (await session.exec(statement)).all()
        ]
    # Each deletion and save waited in a pending version, then went live as a new one.
    assert revisions == [
        (1, "created", False), (2, "deleted", True), (3, "deleted", False),
        (4, "created", True), (5, "created", False),
    ]  # fmt: skip


async def test_a_translated_field_is_stale_once_its_source_text_changes(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    fresh = {"title": False, "body": False}
    assert {f["field"]: f["stale"] for f in _stress_relief(await _read(graphql))} == fresh
    changed = await graphql(BENEFIT_UPDATE, {"v": 1, "title": "Less stress"}, token=token)
    assert changed["data"]["benefitUpdate"]["errors"] == []
    # The edit waits in the pending version: the public's text, and its translation, are as
    # they were until it is published.
    assert {f["field"]: f["stale"] for f in _stress_relief(await _read(graphql))} == fresh
    assert await translations.lint_stored_translations(seeded) == []
    published = await graphql(PUBLISH, {"v": 2}, token=token)
    assert published["data"]["articlePublish"]["errors"] == []
    article = await _read(graphql)
    assert _stress_relief(article) == [
        {"field": "title", "locale": "de", "fallback": False, "stale": True},
        {"field": "body", "locale": "de", "fallback": False, "stale": False},
    ]
    assert article["snippet"] == [
        {"field": "title", "stale": True},
        {"field": "body", "stale": False},
        {"field": "disclaimer", "stale": False},
    ]
    assert {f["field"]: f["stale"] for f in article["fieldLocales"]} == {
        "title": False,
        "headline": False,
        "intro": False,
    }
    findings = await translations.lint_stored_translations(seeded)
    assert [(f.file, f.field, f.rule, f.severity) for f in findings] == [
        ("back-walk (de)", "benefits.stress-relief.title", lint.Rule.STALE_TRANSLATION,
         lint.Severity.WARNING),
    ]  # fmt: skip
    # Translating the title again (the body as it was) makes it current; the body stays so.
    version = article["translationVersion"]
    retitled = {"benefits": [{"slug": "stress-relief", "title": "Weniger Stress"}]}
    body = await graphql(SAVE, {"v": version, "input": retitled}, token=token)
    assert body["data"]["articleTranslationSave"]["errors"] == []
    assert [f["stale"] for f in _stress_relief(await _read(graphql, token))] == [False, False]
    assert (await graphql(PUBLISH, {"v": 3}, token=token))["data"]["articlePublish"]["errors"] == []
    assert [f["stale"] for f in _stress_relief(await _read(graphql))] == [False, False]
    assert await translations.lint_stored_translations(seeded) == []

"""Every item kind of the content model reaches every path: seed file -> GraphQL read ->
mutation -> export -> search -> translation. Values and GraphQL selections are made from each
kind's declaration, so a kind or a field that some path misses fails here, naming it."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import pytest

from cms.access import Scope
from cms.citations import Citation
from cms.content_model import ITEM_KINDS, ItemKind, Role, role_of, value_type
from cms.db import Database
from cms.documents import ArticleDocument
from cms.seed import export_articles, seed_database
from cms.seed_files import dump_document, parse_document
from tests.conftest import SEED_DIR, GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

KINDS = pytest.mark.parametrize("kind", ITEM_KINDS, ids=[kind.name for kind in ITEM_KINDS])
SLUG = "probe-item"


CITATION_FIELDS = "title doi pmid url publisher year accessed"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _values(kind: ItemKind, word: str) -> dict[str, Any]:
    """A value for every field of the kind, as a seed file holds it; text carries `word`."""
    values: dict[str, Any] = {}
    for name, info in kind.fields.items():
        python_type, role = value_type(info), role_of(info)
        if name == "slug":
            values[name] = SLUG
        elif name == "draft":
            values[name] = False
        elif role is Role.PROSE:
            values[name] = f"The {name} says *{word}* twice: {word}."
        elif role is Role.TEXT:
            values[name] = f"{name.title()} {word}"
        elif isinstance(python_type, type) and issubclass(python_type, enum.Enum):
            members = list(python_type)
            values[name] = members[len(word) % len(members)].value
        elif python_type == list[str]:
            values[name] = [f"tag-{word}"]
        elif python_type == list[Citation]:
            values[name] = [
                {
                    "title": f"A trial of {word}",
                    "doi": f"10.1234/{word}",
                    "pmid": str(len(word) * 1000),
                    "url": f"https://example.org/{word}",
                    "publisher": f"Journal of {word}",
                    "year": 2000 + len(word),
                    "accessed": "2026-11-20",
                }
            ]
        else:
            raise AssertionError(f"{kind.name}.{name}: no sample value for {python_type!r}")
    return values


def _as_graphql(kind: ItemKind, values: dict[str, Any]) -> dict[str, Any]:
    """The same values as the API returns them (enums by name, no draft flag)."""
    shown: dict[str, Any] = {}
    for name, info in kind.fields.items():
        if name == "draft":
            continue
        python_type = value_type(info)
        value = values[name]
        if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
            value = python_type(value).name
        if python_type == list[Citation]:
            value = [{_camel(k): v for k, v in citation.items()} for citation in value]
        shown[_camel(name)] = value
    return shown


def _selection(kind: ItemKind) -> str:
    fields = [
        f"{_camel(name)}(format: MARKDOWN)"
        if role_of(info) is Role.PROSE
        else f"{_camel(name)} {{ {CITATION_FIELDS} }}"
        if value_type(info) == list[Citation]
        else _camel(name)
        for name, info in kind.fields.items()
        if name != "draft"
    ]
    return " ".join(fields)


def _read(kind: ItemKind) -> str:
    return f"""
    query Read($locale: String) {{
      article(slug: "back-walk", locale: $locale) {{
        version
        {_camel(kind.list_name)} {{ {_selection(kind)} fieldLocales {{ field locale }} }}
      }}
    }}
    """


async def _seed_with(database: Database, kind: ItemKind, values: dict[str, Any], to: Path) -> None:
    source = SEED_DIR / "back-walk.yaml"
    document = parse_document(source.read_text("utf-8"), source.name)
    data = document.model_dump(mode="json")
    data[kind.list_name].append(values)
    to.mkdir()
    (to / "back-walk.yaml").write_text(dump_document(type(document).model_validate(data)))
    await seed_database(database, [to])


def _probe(article: dict[str, Any], kind: ItemKind) -> dict[str, Any]:
    (item,) = [i for i in article[_camel(kind.list_name)] if i["slug"] == SLUG]
    return item


@KINDS
async def test_every_item_kind_goes_through_every_path(
    kind: ItemKind,
    database: Database,
    graphql: GraphQL,
    make_token: TokenFactory,
    tmp_path: Path,
) -> None:
    seeded = _values(kind, "quokka")
    await _seed_with(database, kind, seeded, tmp_path / "seed")
    token = await make_token(Scope.WRITE, Scope.PUBLISH)

    # GraphQL read: every declared field, as seeded.
    read = (await graphql(_read(kind), token=token))["data"]["article"]
    probe = _probe(read, kind)
    assert {k: v for k, v in probe.items() if k != "fieldLocales"} == _as_graphql(kind, seeded)

    # Mutation: every field but the slug changed through `<kind>Update`.
    updated = {**_values(kind, "wombat"), "slug": SLUG}
    changes = {k: v for k, v in _as_graphql(kind, updated).items() if k != "slug"}
    mutation = f"""
    mutation Update($version: Int!, $input: {kind.type_name}UpdateInput!) {{
      {_camel(kind.name)}Update(
        article: "back-walk", slug: "{SLUG}", expectedVersion: $version, input: $input
      ) {{ errors {{ field message }} }}
    }}
    """
    body = await graphql(mutation, {"version": read["version"], "input": changes}, token=token)
    assert body == {"data": {f"{_camel(kind.name)}Update": {"errors": []}}}
    read = (await graphql(_read(kind), token=token))["data"]["article"]
    assert {k: v for k, v in _probe(read, kind).items() if k != "fieldLocales"} == _as_graphql(
        kind, updated
    )
    # The article is published: the update waits in its pending version until published.
    publish = """mutation($v: Int!) {
      articlePublish(slug: "back-walk", expectedVersion: $v) { errors { code } } }"""
    body = await graphql(publish, {"v": read["version"]}, token=token)
    assert body == {"data": {"articlePublish": {"errors": []}}}

    # Export: the seed file written back holds the updated item, field for field.
    (exported,) = await export_articles(database, tmp_path / "export")
    document = parse_document(exported.read_text("utf-8"), exported.name)
    assert isinstance(document, ArticleDocument)
    (item,) = [i for i in document.items(kind) if i.slug == SLUG]
    assert item.model_dump(mode="json") == updated

    # Search: the new words are found in this item, the old ones nowhere.
    search = """
    query Find($q: String!) { search(query: $q) { edges { part partSlug } } }
    """
    found = (await graphql(search, {"q": "wombat"}))["data"]["search"]["edges"]
    assert {"part": kind.name.upper(), "partSlug": SLUG} in found
    assert (await graphql(search, {"q": "quokka"}))["data"]["search"]["edges"] == []

    # Translation: every text field of the item translated and read in that locale.
    translated = {
        name: f"{value} (de)" for name, value in updated.items() if name in kind.text_fields
    }
    save = """
    mutation Save($input: ArticleTranslationInput!) {
      articleTranslationSave(slug: "back-walk", locale: "de", expectedVersion: 0, input: $input) {
        errors { field message }
      }
    }
    """
    items_input = {_camel(kind.list_name): [{"slug": SLUG, **translated}]}
    body = await graphql(save, {"input": items_input}, token=token)
    assert body == {"data": {"articleTranslationSave": {"errors": []}}}
    german = _probe(
        (await graphql(_read(kind), {"locale": "de"}, token=token))["data"]["article"], kind
    )
    assert {_camel(n): german[_camel(n)] for n in kind.text_fields} == {
        _camel(n): v for n, v in translated.items()
    }
    assert {(f["field"], f["locale"]) for f in german["fieldLocales"]} == {
        (_camel(name), "de") for name in kind.text_fields
    }

"""The compiled read path answers byte for byte what Strawberry's execution answers, on the same
database: documented queries, every field of every type it compiles, aliases, fragments,
variables, directives, pages, locales, missing slugs and generated selections. What it does not
compile falls back and still answers correctly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from graphql import GraphQLObjectType, GraphQLSchema
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.db import Database, session_scope
from cms.graphql.compiled import COMPILED_FIELDS
from cms.graphql.schema import build_schema, schema_sdl
from cms.http import create_app
from cms.lint import Rule
from cms.models import ArticleStatus
from cms.settings import Settings
from tests.documents import article_document, overriding

pytestmark = pytest.mark.anyio

_SKIPPED_HEADERS = {"x-request-id", "date"}


@dataclass
class Pair:
    """Two apps on one database: the compiled path on, and off."""

    compiled: httpx.AsyncClient
    strawberry: httpx.AsyncClient

    async def compiled_count(self) -> float:
        for line in (await self.compiled.get("/metrics")).text.splitlines():
            if line.startswith("cms_compiled_reads "):
                return float(line.split()[1])
        raise AssertionError("no cms_compiled_reads metric")

    async def same_answer(self, query: str, variables: dict[str, Any] | None = None) -> bool:
        """Post to both; assert byte-identical bodies, statuses and headers; whether the
        compiled path answered it (rather than falling back)."""
        before = await self.compiled_count()
        body = {"query": query, "variables": variables}
        ours = await self.compiled.post("/graphql", json=body)
        theirs = await self.strawberry.post("/graphql", json=body)
        assert ours.status_code == theirs.status_code, query
        assert _comparable(ours.content) == _comparable(theirs.content), (
            f"{query}\n{variables}\ncompiled: {ours.text[:2000]}\nstrawberry: {theirs.text[:2000]}"
        )
        assert _headers(ours) == _headers(theirs), query
        return await self.compiled_count() > before


def _comparable(body: bytes) -> bytes:
    # A masked error carries the request id to quote, which differs between any two requests.
    if b"requestId" not in body:
        return body
    decoded = orjson.loads(body)
    for error in decoded.get("errors") or ():
        (error.get("extensions") or {}).pop("requestId", None)
    return orjson.dumps(decoded)


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in _SKIPPED_HEADERS}


async def _add_articles(engine: AsyncEngine) -> None:
    """Beside the seed: articles sharing its tags (for `related`), a draft, a scheduled one, one
    with a draft benefit and no precautions, one reviewed."""
    later = datetime.now(UTC) + timedelta(days=3)
    documents = [
        article_document(slug="a-shared").model_copy(update={"tags": ["stress-relief"]}),
        article_document(slug="b-shared", draft_benefit=True, benefit_count=3).model_copy(
            update={"tags": ["stress-relief", "circulation"]}
        ),
        article_document(slug="c-draft", status=ArticleStatus.DRAFT),
        article_document(slug="d-later", published_at=later),
        article_document(slug="e-bare", with_precautions=False),
        article_document(
            slug="f-reviewed",
            review={
                "review": {
                    "reviewer": {"slug": "dr-who", "name": "Dr. Who", "credentials": "MD"},
                    "reviewed_on": "2026-01-02",
                }
            },
        ),
    ]
    # Only an override publishes an article without precautions (`cms.gate`).
    with overriding(Rule.MISSING_PRECAUTIONS):
        async with session_scope(engine) as session:
            for document in documents:
                await content.save_article_document(session, document)


@pytest.fixture
async def pair(seeded: AsyncEngine, database: Database, settings: Settings) -> AsyncIterator[Pair]:
    await _add_articles(seeded)
    base = {"response_cache": False, "anonymous_rate_limit": 1_000_000}
    on = create_app(settings.model_copy(update=base), database)
    off = create_app(settings.model_copy(update={**base, "compiled_reads": False}), database)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=on), base_url="http://cms.test") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://cms.test") as b,
    ):
        yield Pair(a, b)


# Fields that need a token: anonymous queries of them are refused, the normal way.
EDITORS_ONLY = ("revisions", "revisionDiff", "pendingChanges", "reviewEvents")

ARTICLE_FIELDS = """
  id __typename slug title headline status publishedAt createdAt updatedAt version reviewedBy
  lastReviewed baseLocale locale fieldLocales { field locale fallback } availableLocales tags
  intro md: intro(format: MARKDOWN) html: intro(format: HTML) text: intro(format: TEXT)
  author { id slug name bio html: bio(format: HTML) }
  sections { id slug title position kind locale body(format: TEXT)
             fieldLocales { field locale fallback } }
  benefits { id slug title position tags body html: body(format: HTML) }
  nutritionTips { id slug kind title position body(format: HTML) }
  tips: nutritionTips(kind: HYDRATION) { slug }
  precautions { id slug title body(format: HTML) fieldLocales { field fallback } }
  conclusion { title body text: body(format: TEXT) locale fieldLocales { field locale } }
  related { slug title author { name } }
  two: related(first: 1) { slug }
  jsonLd
"""

# (query, variables, whether the compiled path answers it)
CASES: list[tuple[str, dict[str, Any] | None, bool]] = [
    (f'{{ article(slug: "back-walk") {{ {ARTICLE_FIELDS} }} }}', None, True),
    (f'{{ article(slug: "back-walk", locale: "de") {{ {ARTICLE_FIELDS} }} }}', None, True),
    (f'{{ article(slug: "back-walk", locale: "de-AT") {{ {ARTICLE_FIELDS} }} }}', None, True),
    (f'{{ article(slug: "back-walk", locale: "fr") {{ {ARTICLE_FIELDS} }} }}', None, True),
    (f'{{ article(slug: "b-shared") {{ {ARTICLE_FIELDS} }} }}', None, True),
    (f'{{ article(slug: "e-bare") {{ {ARTICLE_FIELDS} }} }}', None, True),
    (f'{{ article(slug: "f-reviewed") {{ {ARTICLE_FIELDS} }} }}', None, True),
    # Missing, draft and scheduled articles: null, answered the normal way.
    ('{ article(slug: "nope") { slug } }', None, False),
    ('{ article(slug: "c-draft") { slug } }', None, False),
    ('{ article(slug: "d-later") { slug } }', None, False),
    # Variables, aliases, fragments, directives.
    (
        "query Q($slug: String!, $f: TextFormat!, $loc: String) { a: article(slug: $slug, "
        "locale: $loc) { t: title intro(format: $f) ...Parts } b: article(slug: $slug) { "
        "... on Article { slug author { ...Who } } } } fragment Parts on Article { benefits "
        "{ slug body(format: $f) } } fragment Who on Author { name bio(format: $f) }",
        {"slug": "back-walk", "f": "HTML", "loc": "de"},
        True,
    ),
    (
        'query Q($yes: Boolean!, $no: Boolean!) { article(slug: "back-walk") { '
        "slug title @include(if: $yes) headline @skip(if: $yes) intro @include(if: $no) "
        "author @skip(if: $no) { name } benefits { ... @include(if: $yes) { slug } } } }",
        {"yes": True, "no": False},
        True,
    ),
    (
        'query Q($yes: Boolean!, $no: Boolean!) { article(slug: "back-walk") { '
        "slug title @include(if: $yes) headline @skip(if: $yes) intro @include(if: $no) "
        "author @skip(if: $no) { name } benefits { ... @include(if: $yes) { slug } } } }",
        {"yes": False, "no": True},
        True,
    ),
    (
        '{ article(slug: "back-walk") { title author { name } author { bio } ... on Article '
        "{ title benefits { slug } } benefits { title } } }",
        None,
        True,
    ),
    # Pages: both directions, the edges of the list, a tag, page info and counts.
    (
        "query L($first: Int!) { articles(first: $first) { totalCount pageInfo { hasNextPage "
        "hasPreviousPage startCursor endCursor } edges { cursor node { slug title author "
        "{ name } benefits { title } } } nodes { slug } } }",
        {"first": 2},
        True,
    ),
    ("{ articles { totalCount nodes { slug } } }", None, True),
    ("{ articles(first: 0) { totalCount pageInfo { hasNextPage endCursor } } }", None, True),
    (
        "{ articles(last: 2) { pageInfo { hasPreviousPage startCursor } nodes { slug } } }",
        None,
        True,
    ),
    (
        '{ articles(first: 2, after: "djE6c2x1ZzphLXNoYXJlZA") { pageInfo { hasNextPage '
        "hasPreviousPage } nodes { slug } } }",
        None,
        True,
    ),
    (
        '{ articles(last: 1, before: "djE6c2x1ZzpiYWNrLXdhbGs") { pageInfo { hasNextPage '
        "hasPreviousPage } nodes { slug } } }",
        None,
        True,
    ),
    (
        '{ articles(filter: {tag: "stress-relief"}, locale: "de") { totalCount nodes { slug '
        "title locale } } }",
        None,
        True,
    ),
    # Read ahead on PostgreSQL: only the kinds of item some article of the answer lists, at
    # any depth, and every kind beside JSON-LD or another root field (snippets).
    (
        "{ articles(first: 6) { nodes { slug benefits { title } related { slug sections "
        "{ title } precautions { title } } } } }",
        None,
        True,
    ),
    (
        '{ article(slug: "b-shared") { sections { title } } benefitSnippets(article: '
        '"b-shared") { slug precautions { title } } }',
        None,
        True,
    ),
    (
        '{ article(slug: "back-walk") { nutritionTips { title } jsonLd } }',
        None,
        True,
    ),
    (
        "{ articles(first: 3) { totalCount edges { node { nutritionTips { title } } } nodes { "
        "author { name } } } b: articles(last: 2) { totalCount nodes { slug } } }",
        None,
        True,
    ),
    (
        '{ articles(first: 4, locale: "de-AT") { nodes { title availableLocales fieldLocales '
        "{ field locale } benefits { title fieldLocales { field locale } } } } }",
        None,
        True,
    ),
    # Refused arguments: answered (with their error) the normal way.
    ("{ articles(first: 1, last: 1) { totalCount } }", None, False),
    ('{ articles(after: "garbage") { totalCount } }', None, False),
    ('{ articles(filter: {tag: "Not A Tag"}) { totalCount } }', None, False),
    ('{ article(slug: "back-walk", locale: "!!") { slug } }', None, False),
    # Snippets.
    (
        'query S($b: String!) { benefitSnippet(article: "back-walk", benefit: $b, locale: "de") '
        "{ __typename slug title url body asHtml: body(format: HTML) disclaimer locale "
        "fieldLocales { field locale fallback } article { slug title url authorName reviewedBy "
        "lastReviewed locale fieldLocales { field } } precautions { slug title body(format: TEXT) "
        "locale } html jsonLd } }",
        {"b": "stress-relief"},
        True,
    ),
    ('{ benefitSnippets(article: "back-walk") { slug title body(format: HTML) } }', None, True),
    ('{ benefitSnippets(article: "e-bare") { slug } }', None, False),
    ('{ benefitSnippet(article: "back-walk", benefit: "nope") { slug } }', None, False),
    # Fields the compiled path does not know: answered the normal way.
    ('{ article(slug: "back-walk") { slug revisions { version } } }', None, False),
    ('{ search(query: "walk") { totalCount } }', None, False),
    ("{ __schema { queryType { name } } }", None, False),
    ('{ node(id: "QXJ0aWNsZTox") { id } }', None, False),
    # Errors before execution: the normal path's.
    ('{ article(slug: "back-walk") { nope } }', None, False),
    ("query Q($s: String!) { article(slug: $s) { slug } }", {"s": 3}, False),
    ('{ article(slug: "back\\u0000walk") { slug } }', None, False),
]


@pytest.mark.parametrize(("query", "variables", "compiled"), CASES)
async def test_the_compiled_path_answers_what_strawberry_answers(
    pair: Pair, query: str, variables: dict[str, Any] | None, compiled: bool
) -> None:
    assert await pair.same_answer(query, variables) is compiled


def _schema() -> GraphQLSchema:
    return build_schema(Settings(_env_file=None))._schema  # type: ignore[call-arg]


def _every_field(schema: GraphQLSchema, type_name: str, depth: int) -> str:
    """Every field of a compiled type that the compiled path runs, nested `depth` deep."""
    type_ = schema.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    parts = []
    for name, field in type_.fields.items():
        named = field.type
        while hasattr(named, "of_type"):
            named = named.of_type
        if name in EDITORS_ONLY:
            continue
        if isinstance(named, GraphQLObjectType):
            if depth == 0 or named.name not in COMPILED_FIELDS:
                continue
            parts.append(f"{name} {{ {_every_field(schema, named.name, depth - 1)} }}")
        elif "format" in field.args:
            parts.append(f"{name}(format: $f)")
        else:
            parts.append(name)
    return " ".join(parts)


async def test_every_field_of_every_compiled_type_answers_the_same(pair: Pair) -> None:
    schema = _schema()
    article = _every_field(schema, "Article", 2)
    snippet = _every_field(schema, "BenefitSnippet", 2)
    connection = _every_field(schema, "ArticleConnection", 2)
    declared = "$locale: String, $f: TextFormat!"
    documents = [
        f"query Q($slug: String!, {declared}) {{ article(slug: $slug, locale: $locale) "
        f"{{ {article} }} }}",
        f"query Q($slug: String!, {declared}) {{ benefitSnippets(article: $slug, locale: "
        f"$locale) {{ {snippet} }} }}",
        f"query Q({declared}) {{ articles(first: 3, locale: $locale) {{ {connection} }} }}",
    ]
    for slug in ("back-walk", "b-shared", "f-reviewed"):
        for locale in (None, "de", "de-AT", "fr"):
            for text_format in ("MARKDOWN", "HTML", "TEXT"):
                variables = {"slug": slug, "locale": locale, "f": text_format}
                for query in documents:
                    used = {k: v for k, v in variables.items() if f"${k}:" in query}
                    assert await pair.same_answer(query, used), (query, used)


def _selection(schema: GraphQLSchema, type_name: str, depth: int) -> st.SearchStrategy[str]:
    """A random selection of the compiled fields of `type_name`: aliases, repeated keys, formats,
    `__typename`, inline fragments and directives with literal conditions."""
    type_ = schema.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    names = sorted(n for n in type_.fields if n not in EDITORS_ONLY)

    @st.composite
    def one(draw: Callable[..., Any]) -> str:
        name = draw(st.sampled_from([*names, "__typename"]))
        text = name
        if name != "__typename":
            field = type_.fields[name]
            named = field.type
            while hasattr(named, "of_type"):
                named = named.of_type
            if "format" in field.args and draw(st.booleans()):
                text += f"(format: {draw(st.sampled_from(['MARKDOWN', 'HTML', 'TEXT']))})"
            if isinstance(named, GraphQLObjectType):
                if depth == 0 or named.name not in COMPILED_FIELDS:
                    return "__typename"
                text += " { " + draw(_selection(schema, named.name, depth - 1)) + " }"
        if draw(st.booleans()):
            text = f"{draw(st.sampled_from(['a', 'b', 'c']))}{len(text) % 3}: {text}"
        wrap = draw(st.sampled_from(["", "fragment", "include", "skip"]))
        if wrap == "fragment":
            return f"... on {type_name} {{ {text} }}"
        if wrap == "include":
            return f"{text} @include(if: {draw(st.sampled_from(['true', 'false']))})"
        if wrap == "skip":
            return f"{text} @skip(if: {draw(st.sampled_from(['true', 'false']))})"
        return text

    return st.lists(one(), min_size=1, max_size=6).map(" ".join)


def _examples(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    found: list[str] = []

    @settings(max_examples=count, database=None, derandomize=True)
    @given(strategy)
    def collect(example: str) -> None:
        found.append(example)

    collect()
    return found


async def test_generated_selections_answer_the_same(pair: Pair) -> None:
    schema = _schema()
    roots = st.one_of(
        _selection(schema, "Article", 2).map(
            lambda s: f'{{ article(slug: "back-walk", locale: "de") {{ {s} }} }}'
        ),
        _selection(schema, "ArticleConnection", 2).map(
            lambda s: f"{{ articles(first: 3) {{ {s} }} }}"
        ),
        _selection(schema, "BenefitSnippet", 2).map(
            lambda s: f'{{ benefitSnippets(article: "back-walk") {{ {s} }} }}'
        ),
    )
    compiled = 0
    for query in _examples(roots, 60):
        compiled += await pair.same_answer(query)
    # Most of them are answered by the compiled path; invalid ones (clashing aliases) are not.
    assert compiled >= 30


async def test_schema_generated_queries_answer_the_same(pair: Pair) -> None:
    roots = ["article", "articles", "benefitSnippet", "benefitSnippets"]
    strategy = queries(schema_sdl(), fields=roots, allow_x00=False)
    for query in _examples(strategy, 40):
        await pair.same_answer(query)


async def test_a_field_the_compiler_does_not_know_is_answered_the_normal_way(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = '{ article(slug: "back-walk") { slug tags } }'
    assert await pair.same_answer(query.replace("tags", "title"))
    # As for a field added to the schema after the compiler was written: `tags` unknown.
    known = COMPILED_FIELDS["Article"] - {"tags"}
    monkeypatch.setitem(COMPILED_FIELDS, "Article", known)  # type: ignore[arg-type]
    assert not await pair.same_answer(query)
    body = orjson.loads((await pair.compiled.post("/graphql", json={"query": query})).content)
    assert body["data"]["article"]["tags"] == ["massage", "back-pain", "stress-relief", "wellness"]


async def test_a_preview_token_is_answered_the_normal_way(
    pair: Pair, make_token: Callable[..., Any]
) -> None:
    from cms.access import Scope

    token = await make_token(Scope.READ_DRAFTS)
    before = await pair.compiled_count()
    response = await pair.compiled.post(
        "/graphql",
        json={"query": '{ article(slug: "c-draft") { slug } }'},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"] == {"article": {"slug": "c-draft"}}
    assert await pair.compiled_count() == before

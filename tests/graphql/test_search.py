"""`search(query:)`: ranking, excerpts, visibility, an index kept current by every kind of write,
pagination, hostile input and a constant number of statements. On SQLite (FTS5) and PostgreSQL."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms import content
from cms.access import Scope
from cms.db import session_scope
from cms.documents import ArticleDocument
from cms.graphql.pagination import encode_cursor
from cms.models import ArticleStatus, utc_now
from cms.seed import seed_database
from tests.conftest import SEED_DIR, GraphQL, TokenFactory
from tests.documents import text_document

pytestmark = pytest.mark.anyio

SEARCH = """
query Search($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    totalCount
    edges { cursor score part partSlug excerpt text: excerpt(format: TEXT) node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SLUGS_ONLY = """
query Search($q: String!) { search(query: $q) { edges { node { slug } } } }
"""


# Benefits are only published with their safety context (`cms.gate`): every article saved here
# has a precaution, whose words no search below looks for.
PRECAUTION = {"slug": "care", "title": "Care", "body": "Take care."}


async def _save(engine: AsyncEngine, *documents: ArticleDocument) -> None:
    async with session_scope(engine) as session:
        for document in documents:
            with_precaution = {**document.model_dump(), "precautions": [PRECAUTION]}
            await content.save_article_document(
                session, ArticleDocument.model_validate(with_precaution)
            )


async def _search(graphql: GraphQL, query: str, token: str | None = None, **variables: Any) -> Any:
    body = await graphql(SEARCH, {"q": query, **variables}, token=token)
    assert "errors" not in body, body
    return body["data"]["search"]


async def _found(graphql: GraphQL, query: str, token: str | None = None) -> list[str]:
    body = await graphql(SLUGS_ONLY, {"q": query}, token=token)
    assert "errors" not in body, body
    return [edge["node"]["slug"] for edge in body["data"]["search"]["edges"]]


def _benefit(slug: str, body: str, *, title: str = "A benefit", draft: bool = False) -> Any:
    return {"slug": slug, "title": title, "body": body, "draft": draft}


# --- ranking and excerpts ----------------------------------------------------------------------


async def test_a_title_match_ranks_above_a_body_match(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(
        engine,
        text_document(
            "a-body", "Gentle stretching", benefits=[_benefit("calm", "A weekly massage calms.")]
        ),
        text_document("z-title", "Massage basics", intro="Start slowly."),
    )
    result = await _search(graphql, "massage")
    edges = result["edges"]
    assert [(e["node"]["slug"], e["part"], e["partSlug"]) for e in edges] == [
        ("z-title", "ARTICLE", None),
        ("a-body", "BENEFIT", "calm"),
    ]
    assert edges[0]["score"] > edges[1]["score"] > 0
    assert result["totalCount"] == 2


async def test_excerpts_mark_every_matched_word_in_html_and_leave_plain_text_plain(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(
        engine,
        text_document(
            "walk",
            "Feet first",
            benefits=[_benefit("calm", "Back walking relieves stress and tension.")],
        ),
    )
    (edge,) = (await _search(graphql, "walks STRESS"))["edges"]
    assert edge["excerpt"] == "Back <mark>walking</mark> relieves <mark>stress</mark> and tension."
    assert edge["text"] == "Back walking relieves stress and tension."


async def test_a_long_text_is_cut_around_the_match_with_ellipses(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    words = " ".join(f"word{n}" for n in range(60))
    await _save(
        engine, text_document("long", "Long", benefits=[_benefit("b", f"{words} lavender {words}")])
    )
    (edge,) = (await _search(graphql, "lavender"))["edges"]
    assert edge["text"].startswith("…") and edge["text"].endswith("…")
    assert "<mark>lavender</mark>" in edge["excerpt"]
    assert len(edge["text"].split()) <= 30


async def test_excerpt_html_escapes_whatever_the_content_holds(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    # Control characters (such as the match markers \x02 and \x03) never reach the index: no
    # write stores them (tests/graphql/test_input_text.py).
    hostile = 'Use <script>alert("x")</script> & <b>massage</b> oil here <img src=x onerror=y>'
    await _save(engine, text_document("xss", "Oils", benefits=[_benefit("b", hostile)]))
    (edge,) = (await _search(graphql, "massage"))["edges"]
    assert re.findall(r"<[^>]*>", edge["excerpt"]) == ["<mark>", "</mark>"]
    assert "<mark>massage</mark>" in edge["excerpt"]


# --- visibility --------------------------------------------------------------------------------


async def test_drafts_scheduled_articles_and_draft_items_are_never_found_publicly(
    engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    await _save(
        engine,
        text_document("draft-one", "Secret massage", status=ArticleStatus.DRAFT),
        text_document("later", "Future massage", published_at=utc_now() + timedelta(days=1)),
        text_document("gone", "Old massage", status=ArticleStatus.UNPUBLISHED),
        text_document(
            "public",
            "Public page",
            benefits=[
                _benefit("open", "Slow breathing calms.", title="Open"),
                _benefit("hidden", "Massage soon.", title="Hidden", draft=True),
            ],
        ),
    )
    public = await _search(graphql, "massage")
    assert (public["edges"], public["totalCount"]) == ([], 0)
    token = await make_token(Scope.READ_DRAFTS)
    editor = await _search(graphql, "massage", token=token)
    found = {edge["node"]["slug"]: (edge["part"], edge["partSlug"]) for edge in editor["edges"]}
    assert found == {
        "draft-one": ("ARTICLE", None),
        "later": ("ARTICLE", None),
        "gone": ("ARTICLE", None),
        "public": ("BENEFIT", "hidden"),
    }
    assert editor["totalCount"] == 4


# --- the index follows every write -------------------------------------------------------------

PAYLOAD = """
fragment Payload on ArticlePayload { article { version } errors { message } }
"""
CREATE = (
    PAYLOAD
    + """
mutation($input: ArticleInput!) { articleCreate(input: $input) { ...Payload } }
"""
)
UPDATE = (
    PAYLOAD
    + """
mutation($slug: String!, $v: Int!, $input: ArticleUpdateInput!) {
  articleUpdate(slug: $slug, expectedVersion: $v, input: $input) { ...Payload }
}
"""
)
PUBLISH = (
    PAYLOAD
    + """
mutation($slug: String!, $v: Int!) {
  articlePublish(slug: $slug, expectedVersion: $v) { ...Payload }
}
"""
)
UNPUBLISH = (
    PAYLOAD
    + """
mutation($slug: String!, $v: Int!) {
  articleUnpublish(slug: $slug, expectedVersion: $v) { ...Payload }
}
"""
)
BENEFIT_ADD = (
    PAYLOAD
    + """
mutation($slug: String!, $v: Int!, $input: BenefitInput!) {
  benefitAdd(article: $slug, expectedVersion: $v, input: $input) { ...Payload }
}
"""
)
BENEFIT_UPDATE = (
    PAYLOAD
    + """
mutation($slug: String!, $v: Int!, $item: String!, $input: BenefitUpdateInput!) {
  benefitUpdate(article: $slug, slug: $item, expectedVersion: $v, input: $input) { ...Payload }
}
"""
)
BENEFIT_DELETE = (
    PAYLOAD
    + """
mutation($slug: String!, $v: Int!, $item: String!) {
  benefitDelete(article: $slug, slug: $item, expectedVersion: $v) { ...Payload }
}
"""
)
DELETE = """
mutation($slug: String!, $v: Int!) {
  articleDelete(slug: $slug, expectedVersion: $v) { deletedSlug errors { message } }
}
"""


async def _mutate(graphql: GraphQL, document: str, token: str, **variables: Any) -> Any:
    body = await graphql(document, variables, token=token)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["errors"] == [], payload
    return payload


async def test_every_kind_of_edit_is_searchable_at_once(
    penci: None, engine: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    new = {"slug": "fresh", "title": "Fresh", "author": {"slug": "penci", "name": "Penci"},
           "intro": "About rosemary.", "precautions": [PRECAUTION]}  # fmt: skip
    await _mutate(graphql, CREATE, token, input=new)
    assert (await _found(graphql, "rosemary", token), await _found(graphql, "rosemary")) == (
        ["fresh"],
        [],
    )

    await _mutate(graphql, PUBLISH, token, slug="fresh", v=1)
    assert await _found(graphql, "rosemary") == ["fresh"]

    # Edits of a published article are searchable once published (they wait in its pending
    # version until then), and at once from then on.
    await _mutate(graphql, UPDATE, token, slug="fresh", v=2, input={"intro": "About lavender."})
    assert (await _found(graphql, "rosemary"), await _found(graphql, "lavender")) == (["fresh"], [])
    await _mutate(graphql, PUBLISH, token, slug="fresh", v=3)
    assert (await _found(graphql, "rosemary"), await _found(graphql, "lavender")) == ([], ["fresh"])

    benefit = {"slug": "thyme", "title": "Thyme", "body": "Thyme soothes coughs."}
    await _mutate(graphql, BENEFIT_ADD, token, slug="fresh", v=4, input=benefit)
    assert await _found(graphql, "coughs") == []
    await _mutate(graphql, PUBLISH, token, slug="fresh", v=5)
    assert await _found(graphql, "coughs") == ["fresh"]

    changed = {"body": "Thyme eases sore throats."}
    await _mutate(graphql, BENEFIT_UPDATE, token, slug="fresh", v=6, item="thyme", input=changed)
    await _mutate(graphql, PUBLISH, token, slug="fresh", v=7)
    assert (await _found(graphql, "coughs"), await _found(graphql, "throats")) == ([], ["fresh"])

    await _mutate(graphql, BENEFIT_DELETE, token, slug="fresh", v=8, item="thyme")
    assert await _found(graphql, "throats") == ["fresh"]
    await _mutate(graphql, PUBLISH, token, slug="fresh", v=9)
    assert await _found(graphql, "throats") == []

    await _mutate(graphql, UNPUBLISH, token, slug="fresh", v=10)
    assert (await _found(graphql, "lavender"), await _found(graphql, "lavender", token)) == (
        [],
        ["fresh"],
    )

    await _mutate(graphql, DELETE, token, slug="fresh", v=11)
    assert await _found(graphql, "lavender", token) == []


async def test_seeding_indexes_new_text_and_forgets_the_old(
    engine: AsyncEngine, graphql: GraphQL, tmp_path: Path
) -> None:
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    await seed_database(engine, [seed_dir])
    assert await _found(graphql, "lymphatic") == ["back-walk"]

    path = seed_dir / "back-walk.yaml"
    path.write_text(path.read_text("utf-8").replace("lymphatic", "immune"), "utf-8")
    await seed_database(engine, [seed_dir])
    assert (await _found(graphql, "lymphatic"), await _found(graphql, "immune")) == (
        [],
        ["back-walk"],
    )

    path.unlink()
    await seed_database(engine, [seed_dir], prune=True)
    assert await _found(graphql, "immune") == []


async def test_a_failed_seed_leaves_the_index_as_it_was_and_still_kept_per_write(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    def die(_: object) -> None:
        raise RuntimeError("the process died mid-way")

    with pytest.raises(RuntimeError):
        await seed_database(engine, [SEED_DIR], progress=die)
    assert await _found(graphql, "lymphatic") == []
    await _save(engine, text_document("after", "After", intro="Lymphatic drainage."))
    assert await _found(graphql, "lymphatic") == ["after"]


# --- pagination --------------------------------------------------------------------------------


@pytest.fixture
async def five_yoga_articles(engine: AsyncEngine) -> None:
    await _save(
        engine,
        *(text_document(f"p-{n}", f"Yoga {n}", intro="Breathe.") for n in (5, 3, 1)),
        *(text_document(f"p-{n}", f"Pose {n}", intro="Some yoga today.") for n in (4, 2)),
    )


async def test_pages_walk_every_hit_once_best_first_ties_by_slug(
    five_yoga_articles: None, graphql: GraphQL
) -> None:
    seen: list[str] = []
    pages: list[tuple[bool, bool]] = []
    after = None
    while True:
        page = await _search(graphql, "yoga", first=2, after=after)
        assert page["totalCount"] == 5
        seen += [edge["node"]["slug"] for edge in page["edges"]]
        info = page["pageInfo"]
        pages.append((info["hasPreviousPage"], info["hasNextPage"]))
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == ["p-1", "p-3", "p-5", "p-2", "p-4"]
    assert pages == [(False, True), (True, True), (True, False)]


async def test_a_page_of_nothing_and_a_page_past_the_end(
    five_yoga_articles: None, graphql: GraphQL
) -> None:
    empty = await _search(graphql, "yoga", first=0)
    assert (empty["edges"], empty["pageInfo"]["hasNextPage"]) == ([], True)
    everything = await _search(graphql, "yoga", first=5)
    last_cursor = everything["edges"][-1]["cursor"]
    past = await _search(graphql, "yoga", after=last_cursor)
    assert past["edges"] == []
    assert (past["pageInfo"]["hasPreviousPage"], past["pageInfo"]["hasNextPage"]) == (True, False)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"q": ""}, "`query` must not be empty."),
        ({"q": "  \t "}, "`query` must not be empty."),
        ({"q": "massage " * 70}, "`query` must be at most 500 characters."),
        ({"q": "yoga", "first": 101}, "`first` must be between 0 and 100; got 101."),
        ({"q": "yoga", "first": -1}, "`first` must be between 0 and 100; got -1."),
        (
            {"q": "yoga", "after": "not-a-cursor"},
            "`after` is not a valid cursor; pass a cursor this API returned.",
        ),
        (
            {"q": "yoga", "after": encode_cursor("p-1")},
            "`after` is not a valid cursor; pass a cursor this API returned.",
        ),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    engine: AsyncEngine, graphql: GraphQL, variables: dict[str, Any], message: str
) -> None:
    body = await graphql(SEARCH, variables)
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]


# --- hostile queries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('"massage', ["back-walk"]),
        ('"massage"', ["back-walk"]),
        ("massage*", ["back-walk"]),
        ("-massage", ["back-walk"]),
        ("+massage ^", ["back-walk"]),
        ("massage OR yoga", []),
        ("OR massage AND", ["back-walk"]),
        ("NEAR(massage back)", []),
        ("NEAR(", []),
        ("*", []),
        ("-", []),
        ('"', []),
        ("OR", []),
        ("AND NOT", []),
        ("title:massage", []),
        ("{massage}", ["back-walk"]),
        ("massage)", ["back-walk"]),
        ("'; DROP TABLE article; --", []),
        ("💆", []),
        ("massage 💆", ["back-walk"]),
        ("Rückenschmerzen", []),
        ("MASSAGES walked", ["back-walk"]),
        ("x" * 500, []),
    ],
)
async def test_hostile_queries_return_results_or_nothing_never_errors(
    seeded: AsyncEngine, graphql: GraphQL, query: str, found: list[str]
) -> None:
    assert await _found(graphql, query) == found


async def test_a_query_with_a_nul_is_bad_user_input(seeded: AsyncEngine, graphql: GraphQL) -> None:
    body = await graphql(SLUGS_ONLY, {"q": "massage\x00"})
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]


async def test_unicode_words_are_found_on_both_databases(
    engine: AsyncEngine, graphql: GraphQL
) -> None:
    await _save(
        engine,
        text_document("ruecken", "Rückenschmerzen lindern", intro="Massage für den Rücken. 指圧"),
    )
    for query in ("rückenschmerzen", "RÜCKEN", "指圧", "für"):
        assert await _found(graphql, query) == ["ruecken"], query
    assert await _found(graphql, "rucken") == []


# --- cost --------------------------------------------------------------------------------------

COSTED = """
query Search($q: String!) {
  search(query: $q, first: 100) { edges { score excerpt node { slug author { name } } } }
}
"""


@pytest.mark.parametrize("article_count", [1, 25])
async def test_a_search_takes_five_statements_however_many_hits(
    engine: AsyncEngine, graphql: GraphQL, sql_statements: list[str], article_count: int
) -> None:
    await _save(
        engine,
        *(
            text_document(f"a-{n:02d}", f"Massage {n}", benefits=[_benefit("b", "More massage.")])
            for n in range(article_count)
        ),
    )
    sql_statements.clear()
    body = await graphql(COSTED, {"q": "massage"})
    assert len(body["data"]["search"]["edges"]) == article_count
    # content revision, next scheduled publication (read once after each write), the ranked
    # page, excerpts, authors
    assert len(sql_statements) == 5, sql_statements

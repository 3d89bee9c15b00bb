"""Preview links: signed, expiring, read-only pages of one article's not-yet-public version for
reviewers without an account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms.access import Scope
from cms.db import Database
from cms.http.app import create_app
from cms.models import utc_now
from cms.preview_links import sign_preview
from cms.settings import Settings
from tests.conftest import TokenFactory, without_cost

pytestmark = pytest.mark.anyio

SECRET = "s" * 40
LINK = """
mutation Link($slug: String!, $expiresIn: Int! = 3600) {
  articlePreviewLink(slug: $slug, expiresIn: $expiresIn) { url expiresAt }
}
"""
DRAFT = {
    "slug": "neck",
    "title": "Neck stretches",
    "author": {"slug": "penci", "name": "Penci"},
    "intro": "Gentle moves for a stiff neck.",
    "benefits": [
        {
            "slug": "ease",
            "title": "Ease",
            "body": "Stretching may ease stiffness.",
            "citations": [{"title": "A neck trial", "pmid": "31234567"}],
        }
    ],
    "precautions": [{"slug": "pain", "title": "Pain", "body": "Stop if it hurts."}],
}


@pytest.fixture
async def client(
    penci: None, database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"preview_secret": SECRET}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        yield client


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    return without_cost(response.json())


async def _draft_link(client: httpx.AsyncClient, make_token: TokenFactory) -> str:
    writer = await make_token(Scope.WRITE)
    create = "mutation($i: ArticleInput!) { articleCreate(input: $i) { errors { message } } }"
    assert (await _post(client, create, {"i": DRAFT}, writer))["data"]["articleCreate"] == {
        "errors": []
    }
    body = await _post(client, LINK, {"slug": "neck"}, await make_token(Scope.REVIEW))
    url: str = body["data"]["articlePreviewLink"]["url"]
    return url


async def test_a_preview_link_shows_the_draft_read_only_and_uncached(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    url = await _draft_link(client, make_token)
    assert url.startswith("http://cms.test/preview/")
    page = await client.get(url.removeprefix("http://cms.test"))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    html = page.text
    for shown in (
        "Preview of version 1 (draft); not public yet.",
        "Neck stretches",
        "Gentle moves for a stiff neck.",
        "<strong>Ease</strong><p>Stretching may ease stiffness.</p>",
        "<strong>Pain</strong><p>Stop if it hurts.</p>",
        "A neck trial</a>",
        "Not yet medically reviewed.",
    ):
        assert shown in html, shown
    # The public still cannot see it.
    public = await client.post("/graphql", json={"query": '{ article(slug: "neck") { title } }'})
    assert public.json()["data"] == {"article": None}
    assert (await client.post(url.removeprefix("http://cms.test"))).status_code == 405


async def test_a_tampered_or_expired_link_opens_nothing(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    url = await _draft_link(client, make_token)
    path = url.removeprefix("http://cms.test")
    payload, _, mac = path.removeprefix("/preview/").partition(".")
    other = sign_preview("back-walk", utc_now() + timedelta(hours=1), SECRET).split(".")[0]
    for bad in (f"/preview/{other}.{mac}", f"/preview/{payload}.{mac[:-2]}xx", "/preview/x"):
        refused = await client.get(bad)
        assert refused.status_code == 401, bad
        assert "The preview link is not valid." in refused.text
        assert refused.headers["cache-control"] == "no-store"
    expired = sign_preview("neck", utc_now() - timedelta(seconds=1), SECRET)
    late = await client.get(f"/preview/{expired}")
    assert late.status_code == 401
    assert "The preview link has expired; ask for a new one." in late.text
    forged = sign_preview("neck", utc_now() + timedelta(hours=1), "t" * 40)
    assert (await client.get(f"/preview/{forged}")).status_code == 401


async def test_only_reviewers_and_publishers_make_links_and_only_with_a_secret(
    client: httpx.AsyncClient, make_token: TokenFactory, database: Database, settings: Settings
) -> None:
    await _draft_link(client, make_token)
    writer = await _post(client, LINK, {"slug": "neck"}, await make_token(Scope.WRITE))
    assert writer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    publisher = await _post(client, LINK, {"slug": "neck"}, await make_token(Scope.PUBLISH))
    assert publisher["data"]["articlePreviewLink"]["url"].startswith("http://cms.test/preview/")
    reviewer = await make_token(Scope.REVIEW)
    too_long = await _post(client, LINK, {"slug": "neck", "expiresIn": 15 * 86400}, reviewer)
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = await _post(client, LINK, {"slug": "nowhere"}, reviewer)
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The default app has no CMS_PREVIEW_SECRET: links are refused, saying which setting.
    transport = httpx.ASGITransport(app=create_app(settings, database))
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as default:
        unset = await _post(default, LINK, {"slug": "neck"}, reviewer)
    assert unset["errors"][0]["message"].startswith("Preview links are off: set CMS_PREVIEW_SECRET")


async def test_a_preview_token_reads_its_article_over_graphql_and_nothing_more(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    url = await _draft_link(client, make_token)
    token = url.rsplit("/", 1)[1]
    writer = await make_token(Scope.WRITE)
    other = {**DRAFT, "slug": "other", "title": "Another draft"}
    create = "mutation($i: ArticleInput!) { articleCreate(input: $i) { errors { message } } }"
    await _post(client, create, {"i": other}, writer)
    headers = {"Authorization": f"Preview {token}"}

    async def ask(query: str) -> httpx.Response:
        return await client.post("/graphql", json={"query": query}, headers=headers)

    read = await ask(
        '{ article(slug: "neck") { title status benefits { title } } '
        'other: article(slug: "other") { title } '
        "articles(first: 10) { edges { node { slug } } } "
        'benefitSnippet(article: "neck", benefit: "ease") { title } }'
    )
    assert read.headers["cache-control"] == "private, no-store"
    assert without_cost(read.json()) == {
        "data": {
            "article": {
                "title": "Neck stretches",
                "status": "DRAFT",
                "benefits": [{"title": "Ease"}],
            },
            "other": None,
            "articles": {"edges": []},
            "benefitSnippet": None,
        }
    }
    write = await ask(
        'mutation { articleDelete(slug: "neck", expectedVersion: 1) { deletedSlug } }'
    )
    assert write.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    history = await ask('{ article(slug: "neck") { revisions(first: 1) { version } } }')
    assert history.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Preview x.y"}
    )
    assert bad.status_code == 401


async def test_a_preview_of_a_published_article_shows_its_pending_changes(
    client: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _draft_link(client, make_token)
    editor = await make_token(Scope.WRITE, Scope.PUBLISH)
    publish = 'mutation { articlePublish(slug: "neck", expectedVersion: 1) { errors { message } } }'
    assert (await _post(client, publish, {}, editor))["data"]["articlePublish"]["errors"] == []
    edit = """mutation { benefitUpdate(article: "neck", slug: "ease", expectedVersion: 2,
      input: {title: "Easier", body: "Stretching may ease stiffness for some."}) {
        errors { message } } }"""
    assert (await _post(client, edit, {}, editor))["data"]["benefitUpdate"]["errors"] == []
    body = await _post(client, LINK, {"slug": "neck"}, await make_token(Scope.REVIEW))
    url: str = body["data"]["articlePreviewLink"]["url"]
    page = await client.get(url.removeprefix("http://cms.test"))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Preview of version 3 (pending changes); not public yet." in page.text
    assert "<strong>Easier</strong><p>Stretching may ease stiffness for some.</p>" in page.text
    assert "<strong>Ease</strong>" not in page.text
    # Over GraphQL the token reads the pending version too; the public reads the live one.
    query = '{ article(slug: "neck") { version benefits { title } } }'
    headers = {"Authorization": f"Preview {url.rsplit('/', 1)[1]}"}
    read = await client.post("/graphql", json={"query": query}, headers=headers)
    assert read.headers["cache-control"] == "private, no-store"
    assert without_cost(read.json())["data"]["article"] == {
        "version": 3,
        "benefits": [{"title": "Easier"}],
    }
    public = await client.post("/graphql", json={"query": query})
    assert public.json()["data"]["article"] == {"version": 2, "benefits": [{"title": "Ease"}]}

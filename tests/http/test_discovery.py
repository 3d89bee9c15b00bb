"""The sitemap and the Atom feeds: only what the public may see, with its real last change,
escaped, conditional and publicly cacheable."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import httpx
import pytest

from cms import content
from cms.db import Database
from cms.documents import ArticleDocument
from cms.models import ArticleStatus, utc_now
from cms.settings import Settings
from tests.conftest import GraphQL
from tests.documents import text_document

pytestmark = pytest.mark.anyio

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
UPDATED = "{ articles(first: 50) { nodes { slug updatedAt } } }"


def _hidden_and_public() -> list[ArticleDocument]:
    later = utc_now() + timedelta(days=1)
    earlier = utc_now() - timedelta(days=1)
    return [
        text_document("draft-one", "Secret", status=ArticleStatus.DRAFT, tags=["sleep"]),
        text_document("later", "Future", published_at=later, tags=["sleep"]),
        text_document("gone", "Old", status=ArticleStatus.UNPUBLISHED, tags=["sleep"]),
        text_document("rest", "Rest well", intro="Lie *down*.", tags=["sleep", "calm"]),
        text_document("walk", "Walk", published_at=earlier, tags=["calm"]),
        text_document("only-draft-tag", "Hidden", status=ArticleStatus.DRAFT, tags=["secret"]),
    ]


async def _save(database: Database, *documents: ArticleDocument) -> None:
    async with database.write_session() as session:
        for document in documents:
            await content.save_article_document(session, document)


async def _updated_at(graphql: GraphQL) -> dict[str, datetime]:
    """Each public article's `updatedAt`, to the second (as sitemaps and feeds give it)."""
    return {slug: moment.replace(microsecond=0) for slug, moment in (await _updated(graphql))}


async def _updated(graphql: GraphQL) -> list[tuple[str, datetime]]:
    """Each public article's slug and `updatedAt`, the most recently updated first."""
    body = await graphql(UPDATED)
    found = [
        (node["slug"], datetime.fromisoformat(node["updatedAt"]))
        for node in body["data"]["articles"]["nodes"]
    ]
    return sorted(found, key=lambda pair: pair[1], reverse=True)


async def _xml(client: httpx.AsyncClient, path: str, media_type: str) -> ET.Element:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    return ET.fromstring(response.content)


def _entries(feed: ET.Element) -> dict[str, ET.Element]:
    return {entry.findtext(f"{ATOM}title", ""): entry for entry in feed.iter(f"{ATOM}entry")}


def _link(element: ET.Element, rel: str) -> str | None:
    (link,) = element.findall(f"{ATOM}link[@rel='{rel}']")
    return link.get("href")


async def test_the_sitemap_lists_public_articles_with_their_last_change(
    database: Database, client: httpx.AsyncClient, graphql: GraphQL, settings: Settings
) -> None:
    await _save(database, *_hidden_and_public())
    sitemap = await _xml(client, "/sitemap.xml", "application/xml")
    assert sitemap.tag == f"{SITEMAP}urlset"
    listed = {
        url.findtext(f"{SITEMAP}loc"): datetime.fromisoformat(url.findtext(f"{SITEMAP}lastmod", ""))
        for url in sitemap.iter(f"{SITEMAP}url")
    }
    updated = await _updated_at(graphql)
    assert listed == {
        f"{settings.site_url}/articles/rest": updated["rest"],
        f"{settings.site_url}/articles/walk": updated["walk"],
    }


async def test_the_sitemap_follows_an_edit(
    database: Database, client: httpx.AsyncClient, graphql: GraphQL
) -> None:
    await _save(database, text_document("rest", "Rest well"))
    before = (await _xml(client, "/sitemap.xml", "application/xml")).findtext(
        f".//{SITEMAP}lastmod"
    )
    await _save(database, text_document("rest", "Rest better"))
    after = (await _xml(client, "/sitemap.xml", "application/xml")).findtext(f".//{SITEMAP}lastmod")
    assert datetime.fromisoformat(after or "") == (await _updated_at(graphql))["rest"]
    assert (after or "") >= (before or "")


async def test_the_feed_is_atom_with_one_entry_per_public_article(
    database: Database, client: httpx.AsyncClient, graphql: GraphQL, settings: Settings
) -> None:
    await _save(database, *_hidden_and_public())
    feed = await _xml(client, "/feed.xml", "application/atom+xml")
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == settings.site_name
    assert _link(feed, "self") == "http://cms.test/feed.xml"
    updated = await _updated_at(graphql)
    assert datetime.fromisoformat(feed.findtext(f"{ATOM}updated", "")) == max(updated.values())
    entries = _entries(feed)
    in_order = [f"{settings.site_url}/articles/{slug}" for slug, _ in await _updated(graphql)]
    assert [entry.findtext(f"{ATOM}id") for entry in entries.values()] == in_order
    assert sorted(entries) == ["Rest well", "Walk"]
    rest = entries["Rest well"]
    url = f"{settings.site_url}/articles/rest"
    assert rest.findtext(f"{ATOM}id") == url
    assert _link(rest, "alternate") == url
    assert datetime.fromisoformat(rest.findtext(f"{ATOM}updated", "")) == updated["rest"]
    assert rest.findtext(f"{ATOM}summary") == "Lie down."
    assert rest.findtext(f"{ATOM}author/{ATOM}name") == "Penci"
    assert [c.get("term") for c in rest.iter(f"{ATOM}category")] == ["sleep", "calm"]


async def test_a_tag_feed_lists_only_public_articles_with_that_tag(
    database: Database, client: httpx.AsyncClient
) -> None:
    await _save(database, *_hidden_and_public())
    sleep = await _xml(client, "/feed/sleep.xml", "application/atom+xml")
    assert list(_entries(sleep)) == ["Rest well"]
    assert _link(sleep, "self") == "http://cms.test/feed/sleep.xml"
    calm = await _xml(client, "/feed/calm.xml", "application/atom+xml")
    assert sorted(_entries(calm)) == ["Rest well", "Walk"]


async def test_a_tag_on_no_public_article_is_not_found(
    database: Database, client: httpx.AsyncClient
) -> None:
    await _save(database, *_hidden_and_public())
    for tag in ("unknown", "secret"):
        response = await client.get(f"/feed/{tag}.xml")
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_empty_site_has_an_empty_feed_and_sitemap(client: httpx.AsyncClient) -> None:
    feed = await _xml(client, "/feed.xml", "application/atom+xml")
    assert (feed.findtext(f"{ATOM}updated"), _entries(feed)) == ("1970-01-01T00:00:00Z", {})
    sitemap = await _xml(client, "/sitemap.xml", "application/xml")
    assert list(sitemap) == []


async def test_markup_in_content_is_escaped(database: Database, client: httpx.AsyncClient) -> None:
    title = 'Heat & <Cold> "compresses" ]]>'
    await _save(database, text_document("heat", title, intro="Use <b>care</b> & ice."))
    (entry,) = _entries(await _xml(client, "/feed.xml", "application/atom+xml")).values()
    assert entry.findtext(f"{ATOM}title") == title
    assert entry.findtext(f"{ATOM}summary") == "Use <b>care</b> & ice."


@pytest.mark.parametrize("path", ["/sitemap.xml", "/feed.xml", "/feed/sleep.xml"])
async def test_discovery_is_conditional_and_publicly_cacheable(
    database: Database, client: httpx.AsyncClient, path: str
) -> None:
    await _save(database, *_hidden_and_public())
    first = await client.get(path)
    assert first.headers["cache-control"] == "public, max-age=0"
    again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    await _save(database, text_document("rest", "Rest longer", tags=["sleep"]))
    changed = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]


async def test_a_meta_description_is_the_feed_summary(
    database: Database, client: httpx.AsyncClient
) -> None:
    document = text_document("rest", "Rest well", intro="Lie *down*.")
    seo = {"meta_description": "Why resting after a back walk helps, in two minutes."}
    await _save(database, document.model_copy(update=seo))
    (entry,) = _entries(await _xml(client, "/feed.xml", "application/atom+xml")).values()
    assert entry.findtext(f"{ATOM}summary") == seo["meta_description"]

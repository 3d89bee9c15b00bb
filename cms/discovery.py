"""Discovery for crawlers and feed readers: the sitemap and the Atom feeds (all articles, or one
tag's) of what the public may see, as XML documents. Every text is escaped by ElementTree; an
entry's summary is the article's meta description when it has one."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from cms import reads
from cms.db import ReadSession
from cms.snippets import article_url
from cms.text import to_text

__all__ = ["ATOM_NS", "FEED_LIMIT", "SITEMAP_LIMIT", "SITEMAP_NS", "atom_feed", "sitemap"]

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ATOM_NS = "http://www.w3.org/2005/Atom"
# The sitemap protocol's most URLs in one file.
SITEMAP_LIMIT = 50_000
FEED_LIMIT = 50
# A feed with no entries still needs an `updated`; a fixed one keeps its ETag stable.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


async def sitemap(session: ReadSession, *, site_url: str) -> bytes:
    """Every public article's canonical URL, with `lastmod` its last change."""
    urlset = ET.Element("urlset", xmlns=SITEMAP_NS)
    for article, _author in await reads.public_articles_by_update(session, limit=SITEMAP_LIMIT):
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = article_url(site_url, article.slug)
        ET.SubElement(url, "lastmod").text = timestamp(article.updated_at)
    return _document(urlset)


async def atom_feed(
    session: ReadSession, *, site_url: str, site_name: str, self_url: str, tag: str | None = None
) -> bytes | None:
    """The most recently updated public articles (with `tag`, if given) as an Atom feed (RFC
    4287); None when `tag` is on no public article."""
    rows = await reads.public_articles_by_update(session, limit=FEED_LIMIT, tag=tag)
    if tag is not None and not rows:
        return None
    ids = [article.id for article, _ in rows if article.id is not None]
    tags: defaultdict[int | None, list[str]] = defaultdict(list)
    for row in await reads.tags_by_article_ids(session, ids):
        tags[row.article_id].append(row.tag)
    feed = ET.Element("feed", xmlns=ATOM_NS)
    ET.SubElement(feed, "id").text = f"{site_url}/feed.xml" if tag is None else self_url
    ET.SubElement(feed, "title").text = site_name if tag is None else f"{site_name}: {tag}"
    updated = max((article.updated_at for article, _ in rows), default=_NEVER)
    ET.SubElement(feed, "updated").text = timestamp(updated)
    ET.SubElement(feed, "link", rel="self", href=self_url)
    ET.SubElement(feed, "link", rel="alternate", href=site_url)
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = site_name
    for article, author in rows:
        url = article_url(site_url, article.slug)
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = url
        ET.SubElement(entry, "title").text = article.title
        ET.SubElement(entry, "updated").text = timestamp(article.updated_at)
        if article.published_at is not None:
            ET.SubElement(entry, "published").text = timestamp(article.published_at)
        ET.SubElement(entry, "link", rel="alternate", href=url)
        ET.SubElement(ET.SubElement(entry, "author"), "name").text = author
        for term in tags[article.id]:
            ET.SubElement(entry, "category", term=term)
        # The editor's meta description, else the whole intro (a feed reader shows more than a
        # search result does).
        summary = (
            article.meta_description or to_text(article.intro) or article.headline or article.title
        )
        ET.SubElement(entry, "summary", type="text").text = summary
    return _document(feed)


def timestamp(moment: datetime) -> str:
    """An RFC 3339 timestamp in UTC, to the second (as both sitemaps and Atom take it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _document(root: ET.Element) -> bytes:
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document

"""The oEmbed 1.0 provider: fields, size bounds, and the spec's error statuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.anyio

EMBED = "http://cms.test/embed/back-walk/stress-relief"
RESIZE = '<script src="http://cms.test/embed-resize.js" async></script>'
CANONICAL = "http://127.0.0.1:8000/articles/back-walk#stress-relief"
TITLE = "Stress Relief – Back Walk Benefits"


def _iframe(width: int, height: int) -> str:
    return (
        f'<iframe src="{EMBED}" width="{width}" height="{height}" title="{TITLE}" '
        'loading="lazy" style="border:0;max-width:100%"></iframe>' + RESIZE
    )


async def _oembed(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get("/oembed", params=params)


def _error(response: httpx.Response) -> Any:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_an_embed_url_gives_a_rich_iframe_with_attribution(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    response = await _oembed(client, url=EMBED, format="json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=0"
    assert response.json() == {
        "type": "rich",
        "version": "1.0",
        "title": TITLE,
        "author_name": "Penci",
        "author_url": "http://127.0.0.1:8000/articles/back-walk",
        "provider_name": "Back Walk",
        "provider_url": "http://127.0.0.1:8000",
        "cache_age": 86400,
        "width": 560,
        "height": 708,
        "html": _iframe(560, 708),
    }


async def test_the_canonical_benefit_url_and_a_missing_format_give_the_same_embed(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    by_embed = await _oembed(client, url=EMBED, format="json")
    by_canonical = await _oembed(client, url=CANONICAL)
    assert by_canonical.status_code == 200
    assert by_canonical.json() == by_embed.json()


async def test_maxwidth_bounds_the_iframe_and_its_height_holds_the_whole_snippet(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    # Larger bounds than the default size leave it as it is.
    large = (await _oembed(client, url=EMBED, maxwidth="2000", maxheight="3000")).json()
    assert (large["width"], large["height"], large["html"]) == (560, 708, _iframe(560, 708))
    # Narrower, the text reflows and needs more height (tests/http/test_embeds_browser.py
    # checks in Chromium that these heights hold the snippet).
    narrow = (await _oembed(client, url=EMBED, maxwidth="280")).json()
    assert (narrow["width"], narrow["height"], narrow["html"]) == (280, 1296, _iframe(280, 1296))
    bounded = (await _oembed(client, url=EMBED, maxwidth="320", maxheight="1131")).json()
    assert (bounded["width"], bounded["height"]) == (320, 1131)


async def test_a_maxheight_that_would_cut_the_snippet_off_is_refused_with_501(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    for maxwidth, maxheight, needed in (("320", "200", 1131), ("400", "711", 897)):
        response = await _oembed(client, url=EMBED, maxwidth=maxwidth, maxheight=maxheight)
        assert response.json() == {
            "errors": [
                {
                    "message": f"At {maxwidth} px wide this benefit needs {needed} px; within a "
                    f"maxheight of {maxheight} its precautions, disclaimer or attribution would "
                    "be cut off. Allow a larger maxheight or a wider maxwidth.",
                    "extensions": {"code": "NOT_IMPLEMENTED"},
                }
            ]
        }
        assert response.status_code == 501
    too_narrow = await _oembed(client, url=EMBED, maxwidth="199")
    assert (too_narrow.status_code, _error(too_narrow)) == (501, "NOT_IMPLEMENTED")
    assert too_narrow.json()["errors"][0]["message"] == (
        "A benefit is embedded at least 200 px wide."
    )


async def test_the_embed_is_answered_with_an_etag_and_304(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    first = await _oembed(client, url=EMBED)
    again = await client.get(
        "/oembed", params={"url": EMBED}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


async def test_an_unknown_or_foreign_url_is_404(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    for url in (
        "http://cms.test/embed/back-walk/no-such-benefit",
        "http://cms.test/embed/no-such-article/stress-relief",
        "http://127.0.0.1:8000/articles/back-walk",  # an article, not a benefit
        "http://127.0.0.1:8000/articles/back-walk#nope",
        "http://elsewhere.example/embed/back-walk/stress-relief",
        "http://cms.test/embed/back-walk/stress-relief/extra",
        "http://cms.test/graphql",
    ):
        response = await _oembed(client, url=url)
        assert (response.status_code, _error(response)) == (404, "NOT_FOUND"), url


async def test_formats_other_than_json_are_501(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    for format_ in ("xml", "yaml", ""):
        response = await _oembed(client, url=EMBED, format=format_)
        assert (response.status_code, _error(response)) == (501, "NOT_IMPLEMENTED"), format_


async def test_a_missing_or_invalid_url_or_size_is_400(
    seeded: AsyncEngine, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/oembed")).status_code == 400
    invalid = [
        "",
        "back-walk",
        "javascript:alert(1)",
        "ftp://cms.test/embed/a/b",
        "http://[::1/embed/a/b",
        "http://cms.test:port/embed/a/b",
        "http://" + "a" * 2100,
    ]
    for url in invalid:
        response = await _oembed(client, url=url)
        assert (response.status_code, _error(response)) == (400, "BAD_REQUEST"), url
    for size in ({"maxwidth": "0"}, {"maxwidth": "-5"}, {"maxheight": "wide"}):
        response = await _oembed(client, url=EMBED, **size)
        assert (response.status_code, _error(response)) == (400, "BAD_REQUEST"), size

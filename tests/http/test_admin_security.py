"""The web admin's guards over HTTP: CSRF tokens on its forms (login included), `Secure`
session cookies under HTTPS, and throttled failed logins."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.db import Database
from cms.http import create_app
from cms.settings import Settings
from tests.conftest import TokenFactory

pytestmark = pytest.mark.anyio

EDITOR = "editor-ann"
TOKEN_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')
Client = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def admin(settings: Settings, database: Database) -> Client:
    """A client of a fresh app: `peer` is its address, `base_url` its scheme and host, and
    settings may be changed."""

    @asynccontextmanager
    async def client(
        *, peer: str = "127.0.0.1", base_url: str = "http://cms.test", **changes: object
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=changes), database)
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
            yield c

    return client


async def _form_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = TOKEN_FIELD.search(page.text)
    assert found is not None, "the form has no CSRF token"
    return found.group(1)


async def _login(
    client: httpx.AsyncClient, secret: str, *, token: str | None = None
) -> httpx.Response:
    form = {"token_name": EDITOR, "token_secret": secret}
    if token is not None:
        form["csrf_token"] = token
    return await client.post("/admin/login", data=form)


async def test_the_login_form_carries_a_csrf_token_that_the_login_needs(
    seeded: AsyncEngine, admin: Client, make_token: TokenFactory
) -> None:
    secret = await make_token(Scope.WRITE, name=EDITOR)
    async with admin() as client:
        token = await _form_token(client, "/admin/login")
        refused = await _login(client, secret)
        assert refused.status_code == 403
        assert (await client.get("/admin/")).status_code == 302
        logged_in = await _login(client, secret, token=token)
        assert logged_in.status_code == 302
        assert logged_in.headers["location"].endswith("/admin/")
        assert (await client.get("/admin/")).status_code == 200


async def test_a_csrf_token_of_another_session_is_refused(
    seeded: AsyncEngine, admin: Client, make_token: TokenFactory
) -> None:
    secret = await make_token(Scope.WRITE, name=EDITOR)
    async with admin() as attacker, admin() as victim:
        stolen = await _form_token(attacker, "/admin/login")
        await victim.get("/admin/login")
        assert (await _login(victim, secret, token=stolen)).status_code == 403


async def test_an_edit_form_carries_the_token_and_a_save_without_it_changes_nothing(
    seeded: AsyncEngine, admin: Client, make_token: TokenFactory
) -> None:
    secret = await make_token(Scope.WRITE, name=EDITOR)
    async with admin() as client:
        await _login(client, secret, token=await _form_token(client, "/admin/login"))
        edit = "/admin/articles/back-walk"
        token = await _form_token(client, edit)
        form = {"title": "Forged title", "expected_version": "1", "action": "save"}
        forged = await client.post(edit, data=form)
        assert forged.status_code == 403
        wrong = await client.post(edit, data={**form, "csrf_token": token[::-1]})
        assert wrong.status_code == 403
        assert "Forged title" not in (await client.get("/admin/articles")).text


async def test_five_failed_logins_a_minute_then_429_for_that_client_only(
    seeded: AsyncEngine, admin: Client, make_token: TokenFactory
) -> None:
    secret = await make_token(Scope.WRITE, name=EDITOR)
    async with admin(peer="203.0.113.5") as client, admin(peer="203.0.113.6") as other:
        for _ in range(5):
            token = await _form_token(client, "/admin/login")
            assert (await _login(client, "wrong", token=token)).status_code == 400
        token = await _form_token(client, "/admin/login")
        throttled = await _login(client, secret, token=token)
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        token = await _form_token(other, "/admin/login")
        assert (await _login(other, secret, token=token)).status_code == 302


async def test_the_session_cookie_is_secure_over_https(seeded: AsyncEngine, admin: Client) -> None:
    async with admin(base_url="https://cms.test") as client:
        response = await client.get("/admin/login")
        assert "secure" in response.headers["set-cookie"].lower()


async def test_the_session_cookie_is_secure_with_an_https_public_url(
    seeded: AsyncEngine, admin: Client
) -> None:
    async with admin(public_url="https://cms.example.com") as client:
        response = await client.get("/admin/login")
        assert "secure" in response.headers["set-cookie"].lower()


async def test_the_session_cookie_is_not_secure_on_plain_local_http(
    seeded: AsyncEngine, admin: Client
) -> None:
    async with admin() as client:
        response = await client.get("/admin/login")
        cookie = response.headers["set-cookie"].lower()
        assert "samesite=strict" in cookie
        assert "secure" not in cookie

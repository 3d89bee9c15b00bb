"""The admin's Starlette app: session, CSRF and login guards (`cms.http.admin_security`),
the logged-in token, page rendering, and the login, logout and home pages."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from cms import tokens
from cms.access import Principal, Scope
from cms.db import Database
from cms.errors import NotFound
from cms.http.admin.queries import HOME_PANELS
from cms.http.admin_security import CSRFProtection, LoginThrottle, SecureCookies
from cms.http.policy import Network, keyless_client, trusted_networks
from cms.models import Article, ArticleStatus, utc_now
from cms.settings import Settings

__all__ = ["BASE", "AdminSite", "page", "redirect", "render", "site_of"]

BASE = "/admin"
_HERE = Path(__file__).parent
_SESSION_KEY = "cms_token_hash"
_FLASH_KEY = "flash"
# No script at all: every action is a plain form. Styles and images from the admin only.
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass
class AdminSite:
    database: Database
    settings: Settings
    throttle: LoginThrottle
    trusted_proxies: tuple[Network, ...]
    templates: Environment


def site_of(request: Request) -> AdminSite:
    site: AdminSite = request.app.state.admin
    return site


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def status_label(article: Article) -> str:
    """The status as editors think of it: a publication in the future is "scheduled"."""
    if article.status is ArticleStatus.PUBLISHED and article.published_at is not None:
        if article.published_at > utc_now():
            return f"scheduled for {_when(article.published_at)}"
    return article.status.value


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(base=BASE, Scope=Scope, status_label=status_label)
    environment.filters["when"] = _when
    return environment


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    site = site_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    flash = request.session.pop(_FLASH_KEY, None)
    html = site.templates.get_template(template).render(principal=principal, flash=flash, **context)
    return HTMLResponse(html, status, headers=_HEADERS)


def redirect(request: Request, path: str, flash: str | None = None) -> Response:
    """See Other: after a write, the page is fetched again (a reload does not repeat the post)."""
    if flash is not None:
        request.session[_FLASH_KEY] = flash
    return RedirectResponse(BASE + path, 303)


Endpoint = Callable[[Request], Awaitable[Response]]


def page(endpoint: Endpoint) -> Endpoint:
    """A page for logged-in tokens only: the others are sent to the login form. The token is
    looked up on every request, so revoking it ends its sessions at once."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        principal = await _principal(site_of(request), request.session.get(_SESSION_KEY, ""))
        if principal is None:
            return RedirectResponse(f"{BASE}/login?next={request.url.path}", 302)
        request.state.principal = principal
        return await endpoint(request)

    return guarded


async def _principal(site: AdminSite, digest: str) -> Principal | None:
    if not digest:
        return None
    async with site.database.read_session() as session:
        principal = await tokens.authenticate_hash(session, digest)
    return principal if principal is not None and principal.can(Scope.READ_DRAFTS) else None


def _next_page(value: Any) -> str:
    # Only a page of the admin: never another site (`//host`) after logging in.
    if isinstance(value, str) and value.startswith(BASE + "/") and not value.startswith("//"):
        return value
    return BASE + "/"


async def login(request: Request) -> Response:
    site = site_of(request)
    next_page = _next_page(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", next_page=next_page, name="", error=None)
    client = keyless_client(request.scope, site.trusted_proxies)
    retry_after = await site.throttle.retry_after(client)
    form = await request.form()
    name, secret = str(form.get("token_name", "")), str(form.get("token_secret", ""))
    next_page = _next_page(form.get("next"))
    if retry_after is not None:
        error = f"Too many failed logins from here; try again in {retry_after} seconds."
        response = render(request, "login.html", 429, next_page=next_page, name=name, error=error)
        response.headers["retry-after"] = str(retry_after)
        return response
    digest = tokens.token_hash(secret)
    principal = await _principal(site, digest)
    if principal is None or principal.name != name:
        await site.throttle.failed(client)
        error = (
            "No token with that name and secret may use the admin. Check both; the token may "
            "also have expired or been revoked."
        )
        return render(request, "login.html", 400, next_page=next_page, name=name, error=error)
    # A new session on login: nothing of the anonymous one (its CSRF token) is carried over.
    request.session.clear()
    request.session[_SESSION_KEY] = digest
    return RedirectResponse(next_page, 302)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse(f"{BASE}/login", 303)


@page
async def home(request: Request) -> Response:
    site = site_of(request)
    async with site.database.read_session() as session:
        panels = [
            await panel(session, site.settings.lint_review_max_age_days) for panel in HOME_PANELS
        ]
    return render(request, "home.html", nav="home", panels=panels)


async def _not_found(request: Request, error: Exception) -> Response:
    """A missing article or page (or a method a page does not answer), as a page."""
    status, title, message = 404, "Not found", "There is no such page."
    if isinstance(error, NotFound):
        message = error.message
    elif isinstance(error, HTTPException) and error.status_code != 404:
        status, title, message = error.status_code, "Not possible", str(error.detail)
    if not hasattr(request.state, "principal"):
        request.state.principal = None
    return render(request, "problem.html", status, title=title, message=message)


def admin_app(
    database: Database, settings: Settings, secret_key: str, routes: list[BaseRoute]
) -> Starlette:
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            *routes,
            Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
        ],
        middleware=[
            # Outside the session: its cookie made Secure under HTTPS; inside: CSRF tokens.
            Middleware(SecureCookies, always=_served_over_https(settings)),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key,
                session_cookie="cms_admin",
                same_site="strict",
                https_only=False,
            ),  # fmt: skip
            Middleware(CSRFProtection),
        ],
        exception_handlers={NotFound: _not_found, HTTPException: _not_found},
    )
    app.state.admin = AdminSite(
        database, settings, LoginThrottle(), trusted_networks(settings.trusted_proxies),
        _environment(),
    )  # fmt: skip
    return app


def _served_over_https(settings: Settings) -> bool:
    return (settings.public_url or settings.site_url).startswith("https://")

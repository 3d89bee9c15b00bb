"""The editors' web admin at /admin (sqladmin), behind a login with an API token, CSRF tokens
and a limit on failed logins (`cms.http.admin_security`).

sqladmin renders the lists and forms; every save goes through `cms.content` like any other
edit: the same validation, a version check against the version the form was loaded at, a new
version and a revision by the logged-in token's name.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, ClassVar, cast, get_origin

from sqladmin import Admin, ModelView
from sqladmin.authentication import AuthenticationBackend
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wtforms import Form, HiddenField

from cms import content, tokens
from cms.access import Principal, Scope
from cms.content_model import ITEM_KINDS, ItemKind, value_type
from cms.db import Database
from cms.documents import ArticleDocument
from cms.errors import CMSError, NotFound
from cms.http.admin_security import CSRFProtection, LoginThrottle, SecureCookies
from cms.http.policy import keyless_client, trusted_networks
from cms.models import ITEM_TABLES, Article, Revision
from cms.settings import Settings

__all__ = ["mount_admin"]

_SESSION_KEY = "cms_token_hash"


class TokenLogin(AuthenticationBackend):
    """Log in with a token's name and secret; the token needs `content:write`. The session keeps
    only the token's hash, and every request re-checks it, so revoking a token ends its admin
    sessions at once."""

    def __init__(
        self,
        secret_key: str,
        database: Database,
        *,
        secure_cookies: bool = False,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        super().__init__(secret_key=secret_key, same_site="strict", https_only=False)
        # Outside the session: its cookie made Secure under HTTPS; inside: CSRF tokens.
        self.middlewares = [
            Middleware(SecureCookies, always=secure_cookies),
            *self.middlewares,
            Middleware(CSRFProtection),
        ]
        self.database = database
        self.throttle = LoginThrottle()
        self.trusted_proxies = trusted_networks(trusted_proxies)

    async def login(self, request: Request) -> Response | bool:
        client = keyless_client(request.scope, self.trusted_proxies)
        retry_after = await self.throttle.retry_after(client)
        if retry_after is not None:
            return PlainTextResponse(
                f"Too many failed logins; try again in {retry_after} s.",
                429,
                {"retry-after": str(retry_after)},
            )
        form = await request.form()
        name, secret = str(form.get("username", "")), str(form.get("password", ""))
        principal = await self._principal(tokens.token_hash(secret))
        if principal is None or principal.name != name or not principal.can(Scope.WRITE):
            await self.throttle.failed(client)
            return False
        # A new session on login: the token of the login form is not carried over.
        request.session.clear()
        request.session[_SESSION_KEY] = tokens.token_hash(secret)
        return True

    async def logout(self, request: Request) -> bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> bool:
        principal = await self._principal(request.session.get(_SESSION_KEY, ""))
        if principal is None or not principal.can(Scope.WRITE):
            return False
        request.state.principal = principal
        return True

    async def _principal(self, digest: str) -> Principal | None:
        async with self.database.read_session() as session:
            return await tokens.authenticate_hash(session, digest)


class _ContentView(ModelView):
    """A view whose saves go through the content layer. Subclasses say how a form changes the
    article's document."""

    database: ClassVar[Database]
    can_create = False
    page_size = 50

    async def _article_of(self, pk: Any) -> Article:
        raise NotImplementedError

    def _apply(self, document: ArticleDocument, row: Any, data: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        form = await super().scaffold_form(rules)

        class WithVersion(form):  # type: ignore[valid-type, misc]
            # The article version the form was loaded at: the save is refused if it moved on.
            article_version = HiddenField()

        return WithVersion

    async def get_form_data_for_edit(self, obj: Any) -> dict[str, Any]:
        data = await super().get_form_data_for_edit(obj)
        article = await self._article_of(obj.id)
        data["article_version"] = article.version
        return data

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        principal: Principal = request.state.principal
        try:
            expected = int(data.pop("article_version"))
        except (KeyError, TypeError, ValueError):
            raise CMSError(
                "The form lost the article's version; reload it and try again."
            ) from None
        async with self.database.write_session() as session:
            row: Any = await session.get(self.model, int(pk))
            if row is None:
                raise NotFound("It was deleted meanwhile.")
            article = await self._article_of(int(pk))
            await content.edit_article_document(
                session, slug=article.slug, expected_version=expected,
                change=lambda document: self._apply(document, row, data),
                actor=principal.name, action="updated",
            )  # fmt: skip
        return row


class ArticleAdmin(_ContentView, model=Article):
    name_plural = "Articles"
    column_list = ["slug", "title", "status", "version", "updated_at"]
    column_searchable_list = ["slug", "title"]
    column_sortable_list = ["slug", "updated_at"]
    form_columns = ["title", "headline", "intro", "conclusion_title", "conclusion"]
    can_delete = False

    async def _article_of(self, pk: Any) -> Article:
        async with self.database.read_session() as session:
            article = await session.get(Article, int(pk))
        if article is None:
            raise NotFound("It was deleted meanwhile.")
        return article

    def _apply(self, document: ArticleDocument, row: Any, data: dict[str, Any]) -> dict[str, Any]:
        changed = document.model_dump()
        changed.update(
            title=data["title"], headline=data["headline"] or "", intro=data["intro"] or ""
        )
        if data["conclusion_title"] or data["conclusion"]:
            changed["conclusion"] = {"title": data["conclusion_title"], "body": data["conclusion"]}
        return changed


def _item_view(kind: ItemKind) -> type[_ContentView]:
    model, list_name = ITEM_TABLES[kind], kind.list_name
    # The kind's own fields, but lists (tags, citations), which these plain forms cannot edit.
    extra = [
        name for name, info in kind.extra_fields.items() if get_origin(value_type(info)) is not list
    ]

    class ItemAdmin(_ContentView, model=model):
        column_list = ["article_id", "position", "slug", "title", "is_draft"]
        column_sortable_list = ["article_id", "position"]
        column_searchable_list = ["slug", "title"]
        form_columns = ["title", *extra, "body", "is_draft"]
        can_delete = False

        async def _article_of(self, pk: Any) -> Article:
            async with self.database.read_session() as session:
                row = await session.get(model, int(pk))
                article = await session.get(Article, row.article_id) if row else None
            if article is None:
                raise NotFound("It was deleted meanwhile.")
            return article

        def _apply(self, document: ArticleDocument, row: Any, data: dict[str, Any]) -> Any:
            changed = document.model_dump()
            for item in changed[list_name]:
                if item["slug"] == row.slug:
                    item.update(
                        title=data["title"], body=data["body"] or "", draft=data["is_draft"]
                    )
                    item.update({name: data[name] for name in extra})
            return changed

    ItemAdmin.__name__ = f"{model.__name__}Admin"
    return ItemAdmin


class RevisionAdmin(ModelView, model=Revision):
    name_plural = "Revisions"
    column_list = ["article_slug", "version", "action", "actor", "created_at"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["article_slug", "actor"]
    can_create = can_edit = can_delete = False


def mount_admin(app: Starlette, database: Database, settings: Settings) -> Admin:
    secret = (
        settings.admin_secret_key.get_secret_value()
        if settings.admin_secret_key
        else secrets.token_urlsafe(32)
    )
    admin = Admin(
        app, database.engine, base_url="/admin", title="Back Walk CMS",
        authentication_backend=TokenLogin(
            secret, database, secure_cookies=_served_over_https(settings),
            trusted_proxies=settings.trusted_proxies,
        ),
    )  # fmt: skip
    _ContentView.database = database
    for view in (
        ArticleAdmin,
        *(_item_view(kind) for kind in ITEM_KINDS),
        RevisionAdmin,
    ):
        admin.add_view(cast(type[ModelView], view))
    return admin


def _served_over_https(settings: Settings) -> bool:
    return (settings.public_url or settings.site_url).startswith("https://")

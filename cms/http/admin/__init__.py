"""The editors' web admin at /admin: server-rendered pages (Starlette and Jinja2) over the same
domain functions as the GraphQL mutations, behind a login with an API token.

Why not sqladmin: it edits table rows, while editors edit article documents (an item is a part of
its article, saved with the article's version check and revision); its generated forms made every
Markdown field a one-line input, which flattened multi-line text on save; and every editorial
action (publish, schedule, reorder, restore) would have been a custom view anyway. Why no
JavaScript: every action is a plain form (the preview too is a form submission rendered by
`cms.text`), so the pages work in any browser and the policy forbids every script.
"""

from __future__ import annotations

import secrets

from starlette.applications import Starlette

from cms.db import Database
from cms.http.admin.articles import article_routes
from cms.http.admin.history import history_routes
from cms.http.admin.items import item_routes
from cms.http.admin.site import BASE, admin_app
from cms.http.admin.translations import translation_routes
from cms.settings import Settings

__all__ = ["mount_admin"]


def mount_admin(app: Starlette, database: Database, settings: Settings) -> Starlette:
    secret = (
        settings.admin_secret_key.get_secret_value()
        if settings.admin_secret_key
        else secrets.token_urlsafe(32)
    )
    routes = [*article_routes(), *item_routes(), *history_routes(), *translation_routes()]
    admin = admin_app(database, settings, secret, routes)
    app.mount(BASE, admin)
    return admin

"""The web admin over HTTP on SQLite and PostgreSQL: forms that keep what they do not change
(multi-line Markdown byte for byte), every editorial action, scopes, conflicts and field errors.
Forms are read from the pages and posted back as a browser would (`tests.admin_forms`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.access import Scope
from cms.content import StoredArticle, stored_article
from cms.content_model import ITEM_KINDS
from cms.db import Database
from cms.documents import ArticleDocument
from cms.http import create_app
from cms.models import ArticleStatus
from cms.pending_translations import pending_translations_by_article_ids, working_translations
from cms.reads import translation_of
from cms.seed_files import dump_document
from cms.settings import Settings
from tests.admin_forms import forms_of, post, submit
from tests.conftest import GraphQL, TokenFactory

pytestmark = pytest.mark.anyio

EDITOR = "editor-ann"
ARTICLE = "/admin/articles/back-walk"
INTRO = (
    "First paragraph about rolling.\n\nSecond paragraph:\n\n- a list item\n- another item\n\n"
    "    indented code\n\nA line with trailing spaces for a break  \nand the next line."
)
SET_INTRO = """mutation($intro: String!) { articleUpdate(slug: "back-walk", expectedVersion: 1,
  input: {intro: $intro}) { errors { message } } }"""


@pytest.fixture
async def admin(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        yield client


async def _log_in(client: httpx.AsyncClient, secret: str, name: str = EDITOR) -> None:
    response = await submit(
        client, "/admin/login", "/admin/login",
        {"token_name": name, "token_secret": secret}, button=None,
    )  # fmt: skip
    assert response.status_code == 302, response.text


async def _stored(database: Database) -> StoredArticle:
    async with database.write_session() as session:
        stored = await stored_article(session, "back-walk", lock=False)
    assert stored is not None
    return stored


async def _document(database: Database) -> ArticleDocument:
    """What editors edit: the pending version of the (published) article while it has one."""
    return (await _stored(database)).working_document


async def _version(database: Database) -> int:
    return (await _stored(database)).version


async def test_every_edit_form_saved_unchanged_keeps_the_document_byte_for_byte(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient,
    make_token: TokenFactory, graphql: GraphQL,
) -> None:  # fmt: skip
    secret = await make_token(Scope.WRITE, name=EDITOR)
    assert await graphql(SET_INTRO, {"intro": INTRO}, token=secret) == {
        "data": {"articleUpdate": {"errors": []}}
    }
    await _log_in(admin, secret)
    before = await _document(database)
    assert before.intro == INTRO
    pages = [ARTICLE] + [
        f"{ARTICLE}/items/{kind.list_name}/{item.slug}"
        for kind in ITEM_KINDS
        for item in before.items(kind)
    ]
    assert len(pages) > 10
    for page in pages:
        response = await submit(admin, page, page)
        assert response.status_code == 303, (page, response.text)
        assert dump_document(await _document(database)) == dump_document(before), page
    assert await _version(database) == 2


async def test_changing_only_the_title_keeps_multi_line_markdown(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient,
    make_token: TokenFactory, graphql: GraphQL,
) -> None:  # fmt: skip
    secret = await make_token(Scope.WRITE, name=EDITOR)
    await graphql(SET_INTRO, {"intro": INTRO}, token=secret)
    await _log_in(admin, secret)
    response = await submit(admin, ARTICLE, ARTICLE, {"title": "Back Walk, Benefits"})
    assert response.status_code == 303
    assert response.headers["location"] == ARTICLE
    assert "Saved as version 3." in (await admin.get(ARTICLE)).text
    document = await _document(database)
    assert (document.title, document.intro) == ("Back Walk, Benefits", INTRO)


async def test_a_preview_renders_the_typed_markdown_sanitised_and_saves_nothing(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    typed = "Typed:\n\n- one\n- two\n\n<script>alert(1)</script>"
    response = await submit(admin, ARTICLE, ARTICLE, {"intro": typed}, button=("action", "preview"))
    assert response.status_code == 200
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in response.text
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    # The form shows what was typed, to go on editing.
    (form,) = [f for f in forms_of(response.text) if f.action == ARTICLE]
    assert form.values()["intro"] == typed.replace("\n", "\r\n")
    assert await _version(database) == 1


async def test_invalid_input_is_shown_beside_its_field_with_what_was_typed(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    response = await submit(
        admin, ARTICLE, ARTICLE, {"title": "  ", "tags": "Not A Tag", "intro": "Kept\n\ntext"}
    )
    assert response.status_code == 400
    title_error = '<p class="error" id="f-title-error"><span class="tag">Error:</span> This cannot'
    assert title_error in response.text
    assert "Use lower-case letters and digits, words joined by hyphens" in response.text
    assert 'aria-invalid="true"' in response.text
    (form,) = [f for f in forms_of(response.text) if f.action == ARTICLE]
    assert form.values()["intro"] == "Kept\r\n\r\ntext"
    assert form.values()["tags"] == "Not A Tag"
    assert await _version(database) == 1


async def test_a_stale_form_shows_a_conflict_and_keeps_the_typed_text(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient,
    make_token: TokenFactory, graphql: GraphQL,
) -> None:  # fmt: skip
    secret = await make_token(Scope.WRITE, name=EDITOR)
    await _log_in(admin, secret)
    page = await admin.get(ARTICLE)
    (form,) = [f for f in forms_of(page.text) if f.action == ARTICLE]
    await graphql(SET_INTRO, {"intro": "Saved by the API first."}, token=secret)
    fields = [(n, v) for n, v in form.fields if n != "intro"]
    response = await post(
        admin, ARTICLE, [*fields, ("intro", "Mine\r\n\r\n- kept"), ("action", "save")]
    )
    assert response.status_code == 409
    assert "Someone else saved this article while you were editing it" in response.text
    (again,) = [f for f in forms_of(response.text) if f.action == ARTICLE]
    assert again.values()["intro"] == "Mine\r\n\r\n- kept"
    assert again.values()["expected_version"] == "2"
    assert (await _document(database)).intro == "Saved by the API first."


async def test_an_editor_creates_publishes_schedules_unpublishes_and_deletes_an_article(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, Scope.PUBLISH, name=EDITOR))
    created = await submit(
        admin, "/admin/new", "/admin/new",
        {"slug": "morning-stretches", "title": "Morning stretches", "intro": "One\n\n- two"},
        button=None,
    )  # fmt: skip
    assert created.status_code == 303
    page = "/admin/articles/morning-stretches"
    home = await admin.get("/admin/")
    drafts = home.text.split('id="panel-1"')[1].split("</section>")[0]
    assert "Morning stretches" in drafts
    status = f"{page}/status"
    published = await submit(admin, page, status, {"action": "published"}, button=None)
    assert published.status_code == 303
    assert "The article is published." in (await admin.get(page)).text
    # A live article is rescheduled only with pending changes: take it offline first.
    unpublished = await submit(admin, page, status, {"action": "unpublished"}, button=None)
    assert unpublished.status_code == 303
    scheduled = await submit(
        admin, page, status, {"action": "scheduled", "publish_at": "2099-01-02T09:30"}, button=None
    )
    assert scheduled.status_code == 303
    home = await admin.get("/admin/")
    planned = home.text.split('id="panel-2"')[1].split("</section>")[0]
    assert "Morning stretches" in planned and "scheduled for 2099-01-02 09:30 UTC" in planned
    unpublished = await submit(admin, page, status, {"action": "unpublished"}, button=None)
    assert unpublished.status_code == 303
    assert "The article is unpublished." in (await admin.get(page)).text
    delete = f"{page}/delete"
    unconfirmed = await submit(admin, page, delete, button=None)
    assert unconfirmed.status_code == 400
    assert "tick the box to confirm the deletion" in unconfirmed.text
    deleted = await submit(admin, page, delete, {"confirm": "yes"}, button=None)
    assert deleted.status_code == 303
    assert (await admin.get(page)).status_code == 404


async def test_creating_an_article_with_a_taken_slug_says_so_beside_the_slug(
    seeded: AsyncEngine, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    response = await submit(
        admin, "/admin/new", "/admin/new",
        {"slug": "back-walk", "title": "Again", "intro": "Typed\n\ntext"}, button=None,
    )  # fmt: skip
    assert response.status_code == 400
    assert 'id="f-slug-error"><span class="tag">Error:</span> An article with this slug' in (
        response.text
    )
    (form,) = forms_of(response.text)[1:]
    assert form.values()["intro"] == "Typed\r\n\r\ntext"


async def test_items_are_added_reordered_and_removed(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    new = f"{ARTICLE}/new/precautions"
    added = await submit(
        admin, new, new,
        {"slug": "hydrate", "title": "Drink water", "body": "Before:\n\n- a glass\n- another"},
    )  # fmt: skip
    assert added.status_code == 303
    document = await _document(database)
    assert document.precautions[-1].body == "Before:\n\n- a glass\n- another"
    slugs = [item.slug for item in document.precautions]
    order = f"{ARTICLE}/order/precautions"
    page = await admin.get(ARTICLE)
    ups = [f for f in forms_of(page.text) if f.action == order]
    # The last item's form moves it up: the first form of the last row.
    moved = await post(admin, order, ups[-1].fields)
    assert moved.status_code == 303
    reordered = [item.slug for item in (await _document(database)).precautions]
    assert reordered == [*slugs[:-2], slugs[-1], slugs[-2]]
    item = f"{ARTICLE}/items/precautions/hydrate"
    removed = await submit(admin, item, f"{item}/delete", button=None)
    assert removed.status_code == 303
    assert "hydrate" not in [i.slug for i in (await _document(database)).precautions]


async def test_an_item_error_is_shown_beside_its_field(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    page = f"{ARTICLE}/items/benefits/stress-relief"
    response = await submit(admin, page, page, {"body": "  ", "title": "Calmer"})
    assert response.status_code == 400
    assert 'id="f-body-error"' in response.text
    (form,) = [f for f in forms_of(response.text) if f.action == page]
    assert form.values()["title"] == "Calmer"
    assert await _version(database) == 1


async def test_a_revision_diff_is_readable_and_escaped_and_restores(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    original = await _document(database)
    await submit(admin, ARTICLE, ARTICLE, {"intro": "<b>bold</b> & new"})
    history = await admin.get(f"{ARTICLE}/revisions")
    assert "Version 2</a> (current)" in history.text
    diff = await admin.get(f"{ARTICLE}/revisions/2")
    assert diff.status_code == 200
    assert '<span class="line added">+  <ins>&lt;b&gt;bold&lt;/b&gt; &amp; new</ins></span>' in (
        diff.text
    )
    assert '<span class="line removed">-  <del>Back walking, also known as' in diff.text
    assert '<span class="line context"> intro: |</span>' in diff.text
    assert "{'slug'" not in diff.text
    first = f"{ARTICLE}/revisions/1"
    restored = await submit(admin, first, f"{first}/restore", button=None)
    assert restored.status_code == 303
    document = await _document(database)
    assert document.intro == original.intro and await _version(database) == 3


async def test_a_token_without_write_sees_the_forms_but_cannot_save(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.PUBLISH, name="publisher"), name="publisher")
    page = await admin.get(ARTICLE)
    assert "Your token lacks <code>content:write</code>" in page.text
    response = await submit(admin, ARTICLE, ARTICLE, {"title": "Not mine to change"})
    assert response.status_code == 403
    assert (
        "Your token &#39;publisher&#39; lacks the scope &#39;content:write&#39;." in response.text
    )
    (form,) = [f for f in forms_of(response.text) if f.action == ARTICLE]
    assert form.values()["title"] == "Not mine to change"
    unpublished = await submit(admin, ARTICLE, f"{ARTICLE}/status", {"action": "unpublished"},
                               button=None)  # fmt: skip
    assert unpublished.status_code == 303
    assert (await _document(database)).status is ArticleStatus.UNPUBLISHED


async def test_a_token_without_publish_cannot_publish(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    response = await submit(
        admin, ARTICLE, f"{ARTICLE}/status", {"action": "unpublished"}, button=None
    )
    assert response.status_code == 403
    assert "lacks the scope &#39;content:publish&#39;" in response.text
    assert (await _document(database)).status is ArticleStatus.PUBLISHED


async def test_a_secret_of_another_token_cannot_log_in(
    seeded: AsyncEngine, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await make_token(Scope.ADMIN, name="root")
    secret = await make_token(Scope.READ_DRAFTS, name="reader")
    response = await submit(
        admin, "/admin/login", "/admin/login",
        {"token_name": "root", "token_secret": secret}, button=None,
    )  # fmt: skip
    assert response.status_code == 400
    assert "No token with that name and secret may use the admin" in response.text
    (form,) = forms_of(response.text)
    assert (form.values()["token_name"], form.values()["token_secret"]) == ("root", "")


async def test_the_login_page_says_what_to_type_and_pages_need_a_login(
    seeded: AsyncEngine, admin: httpx.AsyncClient
) -> None:
    page = await admin.get("/admin/login")
    assert "Token name" in page.text and "Token secret" in page.text
    assert "API token" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    redirected = await admin.get(ARTICLE)
    assert redirected.status_code == 302
    assert redirected.headers["location"] == f"/admin/login?next={ARTICLE}"


async def test_a_post_without_the_csrf_token_changes_nothing(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    page = await admin.get(ARTICLE)
    (form,) = [f for f in forms_of(page.text) if f.action == ARTICLE]
    fields = [(n, v) for n, v in form.fields if n not in ("csrf_token", "title")]
    forged = await post(admin, ARTICLE, [*fields, ("title", "Forged"), ("action", "save")])
    assert forged.status_code == 403
    assert (await _document(database)).title == "Back Walk Benefits"


async def test_a_translation_is_edited_saved_unchanged_and_deleted(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    listed = await admin.get(f"{ARTICLE}/translations")
    assert f'href="{ARTICLE}/translations/de"' in listed.text
    german = f"{ARTICLE}/translations/de"
    before = await _overlay(database, "de")
    unchanged = await submit(admin, german, german)
    assert unchanged.status_code == 303
    assert await _overlay(database, "de") == before
    body = "Zuerst:\n\n- eins\n- zwei"
    changed = await submit(admin, german, german, {"benefits.stress-relief.body": body})
    assert changed.status_code == 303
    # The article is published: the edit waits as a pending translation, which the form shows.
    assert await _overlay(database, "de") == before
    assert (await _overlay(database, "de", working=True))["benefits"]["stress-relief"]["body"] == (
        body
    )
    form = (await admin.get(german)).text
    assert "Zuerst:" in form
    french = f"{ARTICLE}/translations/fr"
    empty = await submit(admin, french, french)
    assert empty.status_code == 400
    assert "translates nothing" in empty.text
    added = await submit(admin, french, french, {"title": "Les bienfaits"})
    assert added.status_code == 303
    assert await _overlay(database, "fr", working=True) == {"title": "Les bienfaits"}
    assert await _overlay(database, "fr") is None
    deleted = await submit(admin, french, french, button=("action", "delete"))
    assert deleted.status_code == 303
    assert await _overlay(database, "fr", working=True) is None


async def _overlay(
    database: Database, locale: str, *, working: bool = False
) -> dict[str, Any] | None:
    """The live translation into `locale`, or (`working`) the one editors edit."""
    async with database.read_session() as session:
        row = await translation_of(session, article_id=1, locale=locale)
        pending = await pending_translations_by_article_ids(session, [1]) if working else []
    rows = working_translations({locale: row} if row is not None else {}, pending)
    return rows[locale].document if locale in rows else None


async def test_a_missing_article_or_item_is_a_page_that_says_so(
    seeded: AsyncEngine, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    article = await admin.get("/admin/articles/no-such-article")
    assert article.status_code == 404
    assert "There is no article &#39;no-such-article&#39;" in article.text
    item = await admin.get(f"{ARTICLE}/items/benefits/no-such-benefit")
    assert item.status_code == 404
    assert "The article has no benefit &#39;no-such-benefit&#39;." in item.text
    kind = await admin.get(f"{ARTICLE}/items/no-such-list/x")
    assert kind.status_code == 404
    assert "text/html" in kind.headers["content-type"]


async def test_a_diff_marks_the_words_that_changed_within_a_line(
    seeded: AsyncEngine, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    page = f"{ARTICLE}/items/benefits/stress-relief"
    loaded = await admin.get(page)
    (form,) = [f for f in forms_of(loaded.text) if f.action == page]
    body = form.values()["body"].replace("deeply relaxing", "very <calming>")
    assert body != form.values()["body"]
    await submit(admin, page, page, {"body": body})
    diff = (await admin.get(f"{ARTICLE}/revisions/2")).text
    assert "<del>deeply relaxing</del>" in diff or "<del>deeply</del>" in diff
    assert "<ins>very &lt;calming&gt;</ins>" in diff
    assert diff.count("<ins>") <= 2


async def test_a_read_only_token_can_look_but_not_delete_reorder_or_restore(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient,
    make_token: TokenFactory, graphql: GraphQL,
) -> None:  # fmt: skip
    await graphql(SET_INTRO, {"intro": INTRO}, token=await make_token(Scope.WRITE))
    await _log_in(admin, await make_token(Scope.READ_DRAFTS, name="reader"), name="reader")
    page = await admin.get(ARTICLE)
    assert page.status_code == 200
    assert '<button type="submit" class="destructive" disabled>Delete article</button>' in page.text
    order, first = f"{ARTICLE}/order/benefits", f"{ARTICLE}/revisions/1"
    reorder = [f for f in forms_of(page.text) if f.action == order][0]
    refusals = [
        await submit(admin, ARTICLE, f"{ARTICLE}/delete", {"confirm": "yes"}, button=None),
        await post(admin, order, reorder.fields),
        await submit(admin, first, f"{first}/restore", button=None),
    ]
    for refused in refusals:
        assert refused.status_code == 403
        refusal = "Your token &#39;reader&#39; lacks the scope &#39;content:write&#39;."
        assert refusal in refused.text
    assert await _version(database) == 2


async def test_an_edit_of_a_live_article_stays_unpublished_until_published(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient,
    make_token: TokenFactory, graphql: GraphQL,
) -> None:  # fmt: skip
    title = '{ article(slug: "back-walk") { title } }'
    await _log_in(admin, await make_token(Scope.WRITE, Scope.PUBLISH, name=EDITOR))
    saved = await submit(admin, ARTICLE, ARTICLE, {"title": "Walking backwards"})
    assert saved.status_code == 303
    assert await graphql(title) == {"data": {"article": {"title": "Back Walk Benefits"}}}
    page = (await admin.get(ARTICLE)).text
    assert "Unpublished changes" in page and "Walking backwards" in page
    published = await submit(
        admin, ARTICLE, f"{ARTICLE}/status", {"action": "published"}, button=None
    )
    assert published.status_code == 303
    assert await graphql(title) == {"data": {"article": {"title": "Walking backwards"}}}
    assert "Unpublished changes" not in (await admin.get(ARTICLE)).text


async def test_unpublished_changes_can_be_discarded(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    await submit(admin, ARTICLE, ARTICLE, {"title": "Walking backwards"})
    assert (await _document(database)).title == "Walking backwards"
    discarded = await submit(admin, ARTICLE, f"{ARTICLE}/discard", button=None)
    assert discarded.status_code == 303
    assert (await _document(database)).title == "Back Walk Benefits"
    assert "Unpublished changes" not in (await admin.get(ARTICLE)).text


async def test_an_article_is_submitted_approved_and_sent_back_from_its_page(
    seeded: AsyncEngine, database: Database, admin: httpx.AsyncClient,
    make_token: TokenFactory, graphql: GraphQL,
) -> None:  # fmt: skip
    writer = await make_token(Scope.WRITE, name="writer")
    created = await graphql(
        'mutation { reviewerCreate(input: {slug: "ada", name: "Dr. Ada Example", '
        'credentials: "MD"}) { errors { message } } }',
        token=writer,
    )
    assert created == {"data": {"reviewerCreate": {"errors": []}}}
    status = '{ article(slug: "back-walk") { reviewStatus review { reviewer { slug } } } }'
    await _log_in(admin, await make_token(Scope.WRITE, Scope.REVIEW, name=EDITOR))
    assert "not yet medically reviewed" in (await admin.get(ARTICLE)).text
    review = f"{ARTICLE}/review"
    submitted = await submit(
        admin, ARTICLE, review, {"note": "Please check", "action": "submitted"}, button=None
    )
    assert submitted.status_code == 303
    home = (await admin.get("/admin/")).text
    awaiting = home.split('id="panel-3"')[1].split("</section>")[0]
    assert "Awaiting medical review" in awaiting and "Back Walk Benefits" in awaiting
    approved = await submit(
        admin, ARTICLE, review, {"reviewer": "ada", "action": "approved"}, button=None
    )
    assert approved.status_code == 303
    assert await graphql(status) == {
        "data": {"article": {"reviewStatus": "CURRENT", "review": {"reviewer": {"slug": "ada"}}}}
    }
    assert "The live text: <strong>medically reviewed</strong>" in (await admin.get(ARTICLE)).text
    sent_back = await submit(
        admin, ARTICLE, review, {"note": "Cite a source", "action": "changes_requested"},
        button=None,
    )  # fmt: skip
    assert sent_back.status_code == 303


async def test_approving_needs_the_review_scope(
    seeded: AsyncEngine, admin: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    await _log_in(admin, await make_token(Scope.WRITE, name=EDITOR))
    refused = await submit(
        admin, ARTICLE, f"{ARTICLE}/review", {"note": "x", "action": "changes_requested"},
        button=None,
    )  # fmt: skip
    assert refused.status_code == 403
    assert "content:review" in refused.text

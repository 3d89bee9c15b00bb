"""The database's owner: a write session commits whole or not at all, inline or not; reads on
SQLite run inline; `data_version` moves when another connection commits; a pooled connection
the server dropped is replaced before a read uses it; PostgreSQL's direct reads return what a
session would, under the same limits."""

from __future__ import annotations

from datetime import UTC

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from cms import db, tree_reads
from cms.access import Scope
from cms.content_model import ITEM_KINDS
from cms.db import Database, InlineSession
from cms.models import ArticleStatus
from cms.tokens import create_token, list_tokens

pytestmark = pytest.mark.anyio


class Abandoned(Exception):
    pass


async def _token_names(database: Database) -> list[str]:
    async with database.read_session() as session:
        return [token.name for token in await list_tokens(session)]


@pytest.mark.parametrize("inline", [False, True])
async def test_a_write_session_commits_whole(database: Database, inline: bool) -> None:
    async with database.write_session(inline=inline) as session:
        await create_token(session, name="first", scopes=[Scope.READ_DRAFTS])
        await create_token(session, name="second", scopes=[Scope.READ_DRAFTS])
    assert sorted(await _token_names(database)) == ["first", "second"]


@pytest.mark.parametrize("inline", [False, True])
async def test_a_write_session_that_raises_writes_nothing(database: Database, inline: bool) -> None:
    with pytest.raises(Abandoned):
        async with database.write_session(inline=inline) as session:
            await create_token(session, name="first", scopes=[Scope.READ_DRAFTS])
            raise Abandoned
    assert await _token_names(database) == []


async def test_reads_run_inline_on_sqlite_only(database: Database) -> None:
    async with database.read_session() as session:
        expected = InlineSession if database.dialect_name == "sqlite" else AsyncSession
        assert isinstance(session, expected)


async def test_data_version_moves_when_another_connection_commits(database: Database) -> None:
    before = database.data_version()
    async with database.write_session() as session:
        await create_token(session, name="first", scopes=[Scope.READ_DRAFTS])
    after = database.data_version()
    if database.dialect_name == "sqlite":
        assert before is not None and after is not None and after != before
    else:
        assert before is None and after is None


async def _backend_pid(database: Database) -> int:
    async with database.read_session() as session:
        (pid,) = (await session.exec(sa.select(sa.func.pg_backend_pid()))).one()
        return int(pid)


@pytest.mark.postgres_only
async def test_a_pooled_connection_dropped_while_idle_is_replaced_before_a_read_uses_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked after this long idle (5 s in earlier-made pools; a busy pool is never checked).
    monkeypatch.setattr(db, "_PING_AFTER_IDLE_S", 0.0)
    pid = await _backend_pid(database)
    url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert await _backend_pid(database) != pid


@pytest.mark.postgres_only
async def test_a_request_holds_a_pooled_connection_only_while_its_reads_run(
    database: Database,
) -> None:
    """Reads autocommit on PostgreSQL, so a request gives its connection back after each one:
    requests in flight then need no more connections than reads running at once."""
    pool = database.engine.pool
    request = db.RequestDatabase(database)

    async def checked_out_during(session: AsyncSession) -> int:
        await session.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]
        return int(pool.checkedout())  # type: ignore[attr-defined]

    try:
        assert await request.run(checked_out_during) == 1
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert await request.run(checked_out_during) == 1
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await request.close()


# PostgreSQL's public reads skip the session (`cms.direct_reads`): same rows, same limits.

_EVERY_PART = tree_reads.Parts(
    author=True, items=frozenset(kind.name for kind in ITEM_KINDS), translations=True,
    approvals=True,
)  # fmt: skip


@pytest.mark.postgres_only
async def test_a_direct_read_returns_the_rows_a_session_returns(
    database: Database, seeded: object
) -> None:
    request = db.RequestDatabase(database)
    try:
        direct = await tree_reads.article_tree(
            request.rows, dialect="postgresql", slug="back-walk", parts=_EVERY_PART
        )
        async with database.read_session() as session:
            through_session = await tree_reads.article_tree(
                db.session_rows(session), dialect="postgresql", slug="back-walk",
                parts=_EVERY_PART,
            )  # fmt: skip
    finally:
        await request.close()
    assert direct is not None and through_session is not None
    assert direct.article._asdict() == through_session.article._asdict()
    # Typed as the columns are: an enum member, aware UTC datetimes.
    assert direct.article.status is ArticleStatus.PUBLISHED
    assert direct.article.published_at.tzinfo is UTC
    assert direct.author == through_session.author
    assert direct.items == through_session.items and direct.items
    assert direct.translations == through_session.translations and direct.translations
    assert direct.approvals == through_session.approvals


@pytest.mark.postgres_only
async def test_a_direct_read_connection_dropped_while_idle_is_replaced_before_it_is_used(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "_PING_AFTER_IDLE_S", 0.0)
    request = db.RequestDatabase(database)
    pid_statement = sa.select(sa.func.pg_backend_pid().label("pid"))
    try:
        (first,) = await request.rows(pid_statement, {})
        url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [first.pid])
        (second,) = await request.rows(pid_statement, {})
    finally:
        await request.close()
    assert second.pid != first.pid


@pytest.mark.postgres_only
async def test_a_direct_read_is_stopped_by_the_statement_time_limit(database: Database) -> None:
    database.limit_statements(0.05)
    request = db.RequestDatabase(database)
    try:
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            await request.rows(sa.select(sa.func.pg_sleep(2)), {})
        # The connection it ran on is usable again.
        (row,) = await request.rows(sa.select(sa.literal(1).label("one")), {})
    finally:
        await request.close()
    assert row.one == 1

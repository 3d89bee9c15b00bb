"""The database's owner: a write session commits whole or not at all, inline or not; reads on
SQLite run inline; `data_version` moves when another connection commits; a pooled connection
the server dropped is replaced before a read uses it."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from cms import db
from cms.access import Scope
from cms.db import Database, InlineSession
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

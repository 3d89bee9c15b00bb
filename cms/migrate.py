"""Schema migrations: upgrade a database to the current schema, or say what is pending.

Alembic owns the schema. Its environment (`cms/migrations/env.py`) is always driven from here
with an open connection, so the database URL comes from `CMS_DATABASE_URL` like everything else.
Alembic is imported only when there is something to migrate or report: importing it and reading
the migrations costs every `cms` command about 0.3 s of CPU, and a database is mostly at head.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.errors import CMSError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "BASELINE",
    "SchemaOutdated",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "pending_revisions",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"


def _config(connection: Any = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions between the database and head, oldest first."""
    from alembic.script import ScriptDirectory

    current = await current_revision(engine)
    script = ScriptDirectory.from_config(_config())
    pending = [rev.revision for rev in script.iterate_revisions(head_revision(), current)]
    return pending[::-1]


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Upgrade to `target`. A database whose tables were made before migrations existed (by
    `create_all`) is recognised and marked as being at the baseline first."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    def run(sync_connection: sa.Connection) -> None:
        config = _config(sync_connection)
        context = MigrationContext.configure(sync_connection)
        if context.get_current_revision() is None and sa.inspect(sync_connection).has_table(
            "article"
        ):
            command.stamp(config, BASELINE)
        command.upgrade(config, target)

    await _migrate(engine, run)


async def downgrade(engine: AsyncEngine, target: str) -> None:
    """Step the schema back to `target`, keeping the rows the older schema can hold."""
    from alembic import command

    def run(sync_connection: sa.Connection) -> None:
        command.downgrade(_config(sync_connection), target)

    await _migrate(engine, run)


async def _migrate(engine: AsyncEngine, run: Callable[[sa.Connection], None]) -> None:
    """Run migrations in one transaction. On SQLite, foreign keys are off meanwhile: Alembic's
    batch mode alters a table by copying it and dropping the original, and with foreign keys on
    that drop would cascade, deleting every child row. They are checked once it is done."""

    def guarded(sync_connection: sa.Connection) -> None:
        sqlite = sync_connection.dialect.name == "sqlite"
        raw: Any = sync_connection.connection.dbapi_connection
        if sqlite:
            # Outside any transaction, where SQLite honours it (no BEGIN has been sent yet).
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with sync_connection.begin():
                run(sync_connection)
                if sqlite:
                    broken = sync_connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")

    async with engine.connect() as connection:
        await connection.run_sync(guarded)


class SchemaOutdated(CMSError):
    code = "SCHEMA_OUTDATED"


async def ensure_schema(engine: AsyncEngine, *, auto_migrate: bool) -> list[str]:
    """Bring the schema to head when allowed, or refuse with a message that says what to run.
    Returns the revisions applied."""
    if await _at_head(engine):
        return []
    pending = await pending_revisions(engine)
    if not pending:
        return []
    if not auto_migrate:
        current = await current_revision(engine) or "empty"
        raise SchemaOutdated(
            f"The database schema is at {current}; this version of the CMS needs "
            f"{head_revision()} ({len(pending)} migration(s) pending). Run `cms db upgrade`, "
            "or set CMS_AUTO_MIGRATE=true to migrate on start."
        )
    await upgrade(engine)
    return pending


# The lines Alembic writes into each migration (`cms/migrations/script.py.mako`).
_REVISION_LINE = re.compile(r'^(revision|down_revision) = (?:"([^"]+)"|None)$', re.MULTILINE)


@cache
def _head_from_files() -> str | None:
    """The head revision, read from the migrations' `revision` and `down_revision` lines
    without Alembic; None unless every file has both and there is exactly one head."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m[1]: m[2] for m in _REVISION_LINE.finditer(path.read_text("utf-8"))}
        if set(found) != {"revision", "down_revision"}:
            return None
        revisions.add(found["revision"])
        parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _at_head(engine: AsyncEngine) -> bool:
    """Whether the database's one recorded revision is the head, read without Alembic."""
    head = _head_from_files()
    if head is None:
        return False

    def recorded(sync_connection: sa.Connection) -> list[str]:
        if not sa.inspect(sync_connection).has_table("alembic_version"):
            return []
        rows = sync_connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return [row[0] for row in rows]

    async with engine.connect() as connection:
        return await connection.run_sync(recorded) == [head]

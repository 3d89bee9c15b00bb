"""Schema migrations: upgrade a database to the current schema, or say what is pending.

Alembic owns the schema. Its environment (`cms/migrations/env.py`) is always driven from here
with an open connection, so the database URL comes from `CMS_DATABASE_URL` like everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.errors import CMSError

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
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions between the database and head, oldest first."""
    current = await current_revision(engine)
    script = ScriptDirectory.from_config(_config())
    pending = [rev.revision for rev in script.iterate_revisions(head_revision(), current)]
    return pending[::-1]


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Upgrade to `target`. A database whose tables were made before migrations existed (by
    `create_all`) is recognised and marked as being at the baseline first."""

    def run(sync_connection: sa.Connection) -> None:
        config = _config(sync_connection)
        context = MigrationContext.configure(sync_connection)
        if context.get_current_revision() is None and sa.inspect(sync_connection).has_table(
            "article"
        ):
            command.stamp(config, BASELINE)
        command.upgrade(config, target)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade(engine: AsyncEngine, target: str) -> None:
    """Step the schema back to `target`, keeping the rows the older schema can hold."""

    def run(sync_connection: sa.Connection) -> None:
        command.downgrade(_config(sync_connection), target)

    async with engine.begin() as connection:
        await connection.run_sync(run)


class SchemaOutdated(CMSError):
    code = "SCHEMA_OUTDATED"


async def ensure_schema(engine: AsyncEngine, *, auto_migrate: bool) -> list[str]:
    """Bring the schema to head when allowed, or refuse with a message that says what to run.
    Returns the revisions applied."""
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

"""`cms db`: apply migrations and show the schema revision."""

from __future__ import annotations

import typer

from cms.cli.shared import console
from cms.settings import get_settings

__all__ = ["db_app"]

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    import asyncio

    from cms import migrate
    from cms.db import check_sqlite_folder, create_engine

    async def run() -> list[str]:
        engine = create_engine(get_settings())
        try:
            return await migrate.ensure_schema(engine, auto_migrate=True)
        finally:
            await engine.dispose()

    check_sqlite_folder(get_settings())
    applied = asyncio.run(run())
    console.print(f"Applied: {', '.join(applied)}" if applied else "Already at head.")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and what is pending."""
    import asyncio

    from cms import migrate
    from cms.db import check_sqlite_folder, create_engine

    async def run() -> tuple[str | None, list[str]]:
        engine = create_engine(get_settings())
        try:
            return await migrate.current_revision(engine), await migrate.pending_revisions(engine)
        finally:
            await engine.dispose()

    check_sqlite_folder(get_settings())
    current, pending = asyncio.run(run())
    console.print(
        f"current: {current or 'empty'}; head: {migrate.head_revision()}; "
        f"pending: {', '.join(pending) or 'none'}"
    )

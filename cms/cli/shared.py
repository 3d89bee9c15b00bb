"""What every `cms` command shares: the consoles, the seed paths argument, printing content
problems, and running one operation in a database session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cms.errors import CMSError, InvalidContent
from cms.settings import get_settings

if TYPE_CHECKING:
    from cms.db import WriteSession

__all__ = [
    "PathsArgument",
    "cli_table",
    "console",
    "errors",
    "fail_with",
    "run_in_session",
    "seed_paths",
]

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Seed files or folders of them; default: the configured seed folder."),
]


def cli_table(*headings: str) -> Table:
    """A table whose cells wrap rather than end in "…" when the width runs out: at a narrow
    terminal, and in a file or pipe, where rich assumes 80 columns unless COLUMNS says more."""
    table = Table()
    for heading in headings:
        table.add_column(heading, overflow="fold")
    return table


def seed_paths(paths: list[Path] | None) -> list[Path]:
    if paths:
        return paths
    from cms.seed_files import bundled_seed_dir

    return [get_settings().seed_dir or bundled_seed_dir()]


def fail_with(error: InvalidContent, *, wrote_nothing: bool = True) -> typer.Exit:
    """Print every problem of `error`; the caller raises the exit (status 1) returned."""
    suffix = "; nothing was written" if wrote_nothing else ""
    errors.print(f"[bold red]{len(error.problems)} problem(s){suffix}:[/]")
    for problem in error.problems:
        errors.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def run_in_session(operation: Callable[[WriteSession], Awaitable[T]]) -> T:
    """Run `operation` in one transaction on an up-to-date database. A `CMSError` is printed
    and exits with status 1."""
    import asyncio

    from cms import migrate
    from cms.db import Database, check_sqlite_folder

    async def run() -> T:
        settings = get_settings()
        database = Database.from_settings(settings)
        try:
            await migrate.ensure_schema(database.engine, auto_migrate=settings.auto_migrate)
            async with database.write_session() as session:
                return await operation(session)
        finally:
            await database.dispose()

    try:
        check_sqlite_folder(get_settings())
        return asyncio.run(run())
    except CMSError as error:
        errors.print(f"[bold red]{error.message}[/]")
        raise typer.Exit(code=1) from None

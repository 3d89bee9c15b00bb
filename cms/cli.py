"""The `cms` command: serve, seed, validate, export and print the public schemas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cms import migrate, tokens
from cms.access import Scope
from cms.db import AsyncSession, create_engine, session_scope
from cms.documents import seed_file_json_schema
from cms.errors import CMSError, InvalidContent
from cms.models import utc_now
from cms.seed import export_articles, seed_database, seed_if_empty
from cms.seed_files import discover_seed_files, read_seed_files
from cms.settings import get_settings

app = typer.Typer(
    help="A headless CMS for health content, served over GraphQL.", no_args_is_help=True
)
T = TypeVar("T")
console = Console()
errors = Console(stderr=True)

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Seed files or folders of them; default: the configured seed folder."),
]


def _seed_paths(paths: list[Path] | None) -> list[Path]:
    if paths:
        return paths
    from cms.seed_files import bundled_seed_dir

    return [get_settings().seed_dir or bundled_seed_dir()]


def _fail_with(error: InvalidContent, *, wrote_nothing: bool = True) -> typer.Exit:
    suffix = "; nothing was written" if wrote_nothing else ""
    errors.print(f"[bold red]{len(error.problems)} problem(s){suffix}:[/]")
    for problem in error.problems:
        errors.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Create missing tables, load the seed content into an empty database, and serve the API."""
    settings = get_settings()

    async def prepare() -> None:
        engine = create_engine(settings)
        try:
            applied = await migrate.ensure_schema(engine, auto_migrate=settings.auto_migrate)
            report = await seed_if_empty(engine, settings.seed_dir)
        finally:
            await engine.dispose()
        if applied:
            console.print(f"Applied migrations: {', '.join(applied)}")
        if report is not None:
            console.print(f"Seeded an empty database: {dict(report.counts())}")

    try:
        asyncio.run(prepare())
    except InvalidContent as error:
        raise _fail_with(error) from None
    except migrate.SchemaOutdated as error:
        errors.print(error.message, markup=False)
        raise typer.Exit(code=1) from None
    console.print(f"GraphQL API and GraphiQL at http://{host}:{port}/graphql")
    uvicorn.run(
        "cms.http:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="info", proxy_headers=False,
    )  # fmt: skip


@app.command()
def seed(
    paths: PathsArgument = None,
    prune: Annotated[
        bool, typer.Option(help="Also delete stored articles that no given file holds.")
    ] = False,
) -> None:
    """Validate seed files, then create, update (or with --prune delete) articles in one
    transaction."""
    try:
        files = discover_seed_files(_seed_paths(paths))
    except InvalidContent as error:
        raise _fail_with(error) from None
    settings = get_settings()

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await migrate.ensure_schema(engine, auto_migrate=settings.auto_migrate)
            with Progress(
                TextColumn("Seeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=len(files) < 20,
            ) as progress:  # fmt: skip
                task = progress.add_task("seed", total=len(files))
                report = await seed_database(
                    engine, files, prune=prune, inline=True,
                    progress=lambda _: progress.advance(task),
                )  # fmt: skip
        finally:
            await engine.dispose()
        counts = report.counts()
        console.print(
            f"{len(files)} file(s): {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['deleted']} deleted"
        )

    try:
        asyncio.run(run())
    except InvalidContent as error:
        raise _fail_with(error) from None
    except migrate.SchemaOutdated as error:
        errors.print(error.message, markup=False)
        raise typer.Exit(code=1) from None


@app.command()
def validate(paths: PathsArgument = None) -> None:
    """Check seed files without touching any database."""
    try:
        seed_files = read_seed_files(discover_seed_files(_seed_paths(paths)))
    except InvalidContent as error:
        raise _fail_with(error, wrote_nothing=False) from None
    console.print(f"{len(seed_files)} file(s) valid.")


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Folder to write <slug>.yaml files into.")] = Path(
        "seed"
    ),
) -> None:
    """Write every article back to seed files, in the canonical layout."""

    async def run() -> list[Path]:
        engine = create_engine(get_settings())
        try:
            return await export_articles(engine, out)
        finally:
            await engine.dispose()

    for path in asyncio.run(run()):
        console.print(f"wrote {path}")


token_app = typer.Typer(help="API tokens for editors and tools.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _run_in_session(operation: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        settings = get_settings()
        engine = create_engine(settings)
        try:
            await migrate.ensure_schema(engine, auto_migrate=settings.auto_migrate)
            async with session_scope(engine) as session:
                return await operation(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except CMSError as error:
        errors.print(f"[bold red]{error.message}[/]")
        raise typer.Exit(code=1) from None


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="A unique name, shown as the actor in revisions.")],
    scope: Annotated[list[Scope], typer.Option(help="A scope to grant; repeat for several.")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a token and print it. It is shown only this once; only a hash is stored."""
    expires_at = utc_now() + timedelta(days=expires_in_days) if expires_in_days else None

    async def create(session: AsyncSession) -> str:
        _, secret = await tokens.create_token(
            session, name=name, scopes=scope, expires_at=expires_at
        )
        return secret

    secret = _run_in_session(create)
    errors.print("Store this token now; it cannot be shown again:")
    typer.echo(secret)


@token_app.command("list")
def token_list() -> None:
    """List tokens: name, scopes, state. Secrets are never shown."""
    table = Table("name", "scopes", "created", "expires", "state")
    now = utc_now()
    for token in _run_in_session(tokens.list_tokens):
        state = "revoked" if token.revoked_at else (
            "expired" if token.expires_at and token.expires_at <= now else "active"
        )  # fmt: skip
        table.add_row(
            token.name, token.scopes, f"{token.created_at:%Y-%m-%d %H:%M}",
            f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never", state,
        )  # fmt: skip
    console.print(table)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token at once; requests carrying it are refused from now on."""

    async def revoke(session: AsyncSession) -> None:
        await tokens.revoke_token(session, name=name)

    _run_in_session(revoke)
    console.print(f"revoked {name}")


db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""

    async def run() -> list[str]:
        engine = create_engine(get_settings())
        try:
            return await migrate.ensure_schema(engine, auto_migrate=True)
        finally:
            await engine.dispose()

    applied = asyncio.run(run())
    console.print(f"Applied: {', '.join(applied)}" if applied else "Already at head.")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and what is pending."""

    async def run() -> tuple[str | None, list[str]]:
        engine = create_engine(get_settings())
        try:
            return await migrate.current_revision(engine), await migrate.pending_revisions(engine)
        finally:
            await engine.dispose()

    current, pending = asyncio.run(run())
    console.print(
        f"current: {current or 'empty'}; head: {migrate.head_revision()}; "
        f"pending: {', '.join(pending) or 'none'}"
    )


@app.command()
def schema(
    seed_format: Annotated[
        bool, typer.Option("--seed-format", help="Print the JSON Schema of seed files instead.")
    ] = False,
) -> None:
    """Print the GraphQL SDL (the public contract), or the JSON Schema of seed files."""
    if seed_format:
        typer.echo(json.dumps(seed_file_json_schema(), indent=2, ensure_ascii=False))
    else:
        from cms.graphql.schema import schema_sdl

        typer.echo(schema_sdl(), nl=False)

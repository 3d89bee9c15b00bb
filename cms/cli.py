"""The `cms` command: serve, seed, validate, export and print the public schemas."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cms.db import create_engine, create_schema
from cms.documents import seed_file_json_schema
from cms.errors import InvalidContent
from cms.seed import export_articles, seed_database, seed_if_empty
from cms.seed_files import discover_seed_files, read_seed_files
from cms.settings import get_settings

app = typer.Typer(
    help="A headless CMS for health content, served over GraphQL.", no_args_is_help=True
)
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
            report = await seed_if_empty(engine, settings.seed_dir)
        finally:
            await engine.dispose()
        if report is not None:
            console.print(f"Seeded an empty database: {dict(report.counts())}")

    try:
        asyncio.run(prepare())
    except InvalidContent as error:
        raise _fail_with(error) from None
    console.print(f"GraphQL API and GraphiQL at http://{host}:{port}/graphql")
    uvicorn.run(
        "cms.http:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="info", proxy_headers=False,
    )  # fmt: skip


@app.command()
def seed(paths: PathsArgument = None) -> None:
    """Validate seed files, then create or update their articles in one transaction."""
    try:
        files = discover_seed_files(_seed_paths(paths))
    except InvalidContent as error:
        raise _fail_with(error) from None
    settings = get_settings()

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await create_schema(engine)
            with Progress(
                TextColumn("Seeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=len(files) < 20,
            ) as progress:  # fmt: skip
                task = progress.add_task("seed", total=len(files))
                report = await seed_database(
                    engine, files, progress=lambda _: progress.advance(task)
                )
        finally:
            await engine.dispose()
        counts = report.counts()
        console.print(
            f"{len(files)} file(s): {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )

    try:
        asyncio.run(run())
    except InvalidContent as error:
        raise _fail_with(error) from None


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

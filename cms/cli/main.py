"""The `cms` command's top level: serve, seed, validate, lint, export and schema, and the
command groups (`token`, `partner`, `webhook`, `db`) from their own modules.

Each command imports what it needs when it runs, so that a command pays only for its own
imports (`tests/test_cli.py` checks what `import cms.cli` loads)."""

from __future__ import annotations

import enum
import logging
import os
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cms.cli.db import db_app
from cms.cli.failures import CMSTyper
from cms.cli.partner import partner_app
from cms.cli.shared import PathsArgument, cli_table, console, errors, fail_with, seed_paths
from cms.cli.token import token_app
from cms.cli.webhook import webhook_app
from cms.errors import InvalidContent
from cms.logs import LogFormat, uvicorn_log_config
from cms.settings import Settings, get_settings

if TYPE_CHECKING:
    from cms.lint import Finding

__all__ = ["app"]

logger = logging.getLogger("cms.serve")
APP = "cms.http:create_app"

app = CMSTyper(help="A headless CMS for health content, served over GraphQL.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(partner_app, name="partner")
app.add_typer(webhook_app, name="webhook")
app.add_typer(db_app, name="db")


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure, not one line.")
    ] = False,
) -> None:
    CMSTyper.debug = debug


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Believe X-Forwarded-Proto/-For from --forwarded-allow-ips (behind a TLS proxy)."
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated proxy addresses or networks whose forwarded headers count; "
            "default: CMS_TRUSTED_PROXIES, else 127.0.0.1."
        ),
    ] = None,
    limit_concurrency: Annotated[
        int,
        typer.Option(min=1, help="Connections or requests a worker holds at once; more get 503."),
    ] = 1000,
    timeout_keep_alive: Annotated[
        int, typer.Option(min=1, help="Seconds an idle keep-alive connection stays open.")
    ] = 5,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            help="json, text, or auto (text on a terminal, JSON otherwise); "
            "default: CMS_LOG_FORMAT."
        ),
    ] = None,
) -> None:
    """Create missing tables, load the seed content into an empty database, and serve the API."""
    import asyncio
    import logging.config

    settings = get_settings()
    if workers > 1 and settings.admin_secret_key is None:
        raise _refuse(
            f"--workers {workers} needs CMS_ADMIN_SECRET_KEY (a long random string shared by "
            "every worker), or admin logins would bounce between workers."
        )
    trusted = forwarded_allow_ips or ",".join(settings.trusted_proxies) or "127.0.0.1"
    log_config = uvicorn_log_config(log_format=log_format or LogFormat(settings.log_format))
    logging.config.dictConfig(log_config)
    _check_site_url(settings, host)

    import uvicorn
    from sqlalchemy.engine import make_url

    from cms import migrate
    from cms.db import check_sqlite_folder, create_engine
    from cms.gate import gated_writes, write_rules
    from cms.seed import seed_if_empty
    from cms.workers import run_workers

    async def prepare() -> None:
        engine = create_engine(settings)
        try:
            applied = await migrate.ensure_schema(engine, auto_migrate=settings.auto_migrate)
            with gated_writes(write_rules(settings, warnings=False), actor="seed"):
                report = await seed_if_empty(engine, settings.seed_dir)
        finally:
            await engine.dispose()
        if applied:
            logger.info("Applied migrations: %s", ", ".join(applied))
        if report is not None:
            counts = ", ".join(f"{n} {kind}" for kind, n in report.counts().items())
            logger.info("Seeded an empty database: %s", counts)

    try:
        check_sqlite_folder(settings)
        asyncio.run(prepare())
    except InvalidContent as error:
        raise fail_with(error) from None
    except migrate.SchemaOutdated as error:
        errors.print(error.message, markup=False)
        raise typer.Exit(code=1) from None
    # Only once every refusal is behind us: a refusal is the one line on stderr.
    _point_links_at_this_server(settings, host, port)
    url = f"http://{host}:{port}/graphql"
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    logger.info(
        "Serving %s (GraphiQL in a browser), database %s, %d worker%s",
        url, database, workers, "" if workers == 1 else "s",
        extra={"url": url, "database": database, "workers": workers},
    )  # fmt: skip
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_config": log_config,
        "proxy_headers": proxy_headers,
        "forwarded_allow_ips": trusted,
        "limit_concurrency": limit_concurrency,
        "timeout_keep_alive": timeout_keep_alive,
        # A websocket message over the body limit is refused (1009) before it is read whole.
        "ws_max_size": settings.max_body_bytes,
    }
    if workers == 1:
        uvicorn.run(APP, **options)
    else:
        # A worker answers the supervisor's health checks only once it has imported the app
        # (seconds on a busy machine): uvicorn's 5 s would kill and restart it in a loop.
        run_workers(uvicorn.Config(APP, timeout_worker_healthcheck=30, **options))


def _check_site_url(settings: Settings, host: str) -> None:
    """Canonical links (snippets, JSON-LD, sitemap, feeds) need the public site's address: a
    server others can reach refuses to start without it; a local one says where they point
    (`_notice_site_url`, once it is sure to start)."""
    if "site_url" in settings.model_fields_set:
        return
    if settings.env == "production" or not _is_loopback(host):
        why = "CMS_ENV=production" if settings.env == "production" else f"--host {host}"
        raise _refuse(
            f"error: CMS_SITE_URL is not set ({why} needs it): canonical links would point at "
            f"{settings.site_url}; set it to the public site, e.g. "
            "CMS_SITE_URL=https://www.example.com"
        )


def _point_links_at_this_server(settings: Settings, host: str, port: int) -> None:
    """On a local server without `CMS_SITE_URL`, canonical links point at this very server (the
    app and its workers read the setting from the environment), and a warning says so."""
    if "site_url" in settings.model_fields_set:
        return
    local = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    os.environ["CMS_SITE_URL"] = local
    get_settings.cache_clear()
    logger.warning(
        "CMS_SITE_URL is not set: canonical links point at the local server %s (set it to the "
        "public site before going live)",
        local,
    )


def _refuse(line: str) -> typer.Exit:
    """Print why the server will not start, as one line; the caller raises the exit returned."""
    errors.print(line, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: whoever resolves it may reach the server


@app.command()
def seed(
    paths: PathsArgument = None,
    prune: Annotated[
        bool, typer.Option(help="Also delete stored articles that no given file holds.")
    ] = False,
) -> None:
    """Validate seed files, then create, update (or with --prune delete) articles in one
    transaction."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cms import migrate
    from cms.db import check_sqlite_folder, create_engine
    from cms.gate import gated_writes, write_rules
    from cms.seed import seed_database
    from cms.seed_files import discover_seed_files

    try:
        files = discover_seed_files(seed_paths(paths))
    except InvalidContent as error:
        raise fail_with(error) from None
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
                with gated_writes(write_rules(settings, warnings=False), actor="seed"):
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
        for line in report.author_lines():
            console.print(line, markup=False)

    try:
        check_sqlite_folder(settings)
        asyncio.run(run())
    except InvalidContent as error:
        raise fail_with(error) from None
    except migrate.SchemaOutdated as error:
        errors.print(error.message, markup=False)
        raise typer.Exit(code=1) from None


@app.command()
def validate(paths: PathsArgument = None) -> None:
    """Check seed files without touching any database."""
    from cms.seed_files import discover_seed_files, read_seed_files

    try:
        seed_files = read_seed_files(discover_seed_files(seed_paths(paths)))
    except InvalidContent as error:
        raise fail_with(error, wrote_nothing=False) from None
    console.print(f"{len(seed_files)} file(s) valid.")


class LintFormat(enum.StrEnum):
    AUTO = "auto"
    TABLE = "table"
    PLAIN = "plain"


async def _stored_findings(settings: Settings) -> list[Finding]:
    from cms import translations
    from cms.db import create_engine

    engine = create_engine(settings)
    try:
        return await translations.lint_stored_translations(engine)
    finally:
        await engine.dispose()


@app.command("lint")
def lint_command(
    paths: PathsArgument = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    output: Annotated[
        LintFormat,
        typer.Option(
            "--format", help="A table, or one line per finding; auto: a table on a terminal."
        ),
    ] = LintFormat.AUTO,
    max_review_age: Annotated[
        int | None, typer.Option(min=1, help="Days before a review is overdue.")
    ] = None,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            help="An absolute claim to report; repeat for several (replaces the configured list)."
        ),
    ] = None,
    stored: Annotated[
        bool,
        typer.Option(
            "--stored",
            help="Also warn of stored translations whose source text changed since (reads the "
            "configured database).",
        ),
    ] = False,
) -> None:
    """Check content files against the editorial rules (and the schema). Exits 1 on any error,
    or with --strict on any warning."""
    import asyncio

    from cms import lint

    settings = get_settings()
    rules = lint.LintRules(
        absolute_claims=claim or settings.lint_absolute_claims,
        review_max_age_days=max_review_age or settings.lint_review_max_age_days,
        site_url=settings.site_url,
    )
    findings = lint.lint_paths(seed_paths(paths), rules)
    if stored:
        findings += asyncio.run(_stored_findings(settings))
    errors_found = sum(f.severity is lint.Severity.ERROR for f in findings)
    warnings_found = len(findings) - errors_found
    as_table = output is LintFormat.TABLE or (output is LintFormat.AUTO and console.is_terminal)
    if as_table and findings:
        table = cli_table("file:line", "severity", "rule", "field", "message")
        for column in table.columns[1:3]:
            column.no_wrap = True
        for finding in findings:
            where = f"{finding.file}:{finding.line}" if finding.line else finding.file
            style = "red" if finding.severity is lint.Severity.ERROR else "yellow"
            table.add_row(
                where, f"[{style}]{finding.severity}[/]", str(finding.rule), finding.field,
                finding.message,
            )  # fmt: skip
        console.print(table)
    else:
        for finding in findings:
            typer.echo(str(finding))
    typer.echo(f"{errors_found} error(s), {warnings_found} warning(s).")
    if errors_found or (strict and warnings_found):
        raise typer.Exit(code=1)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Folder to write <slug>.yaml files into.")] = Path(
        "seed"
    ),
) -> None:
    """Write every article back to seed files, in the canonical layout."""
    import asyncio

    from cms.db import create_engine
    from cms.seed import export_articles

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
        import json

        from cms.documents import seed_file_json_schema

        typer.echo(json.dumps(seed_file_json_schema(), indent=2, ensure_ascii=False))
    else:
        from cms.graphql.schema import schema_sdl

        typer.echo(schema_sdl(), nl=False)

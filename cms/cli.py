"""The `cms` command: serve, seed, validate, export, tokens, webhooks and the public schemas."""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cms import lint, migrate, partners, tokens, webhooks
from cms.access import Scope
from cms.db import AsyncSession, create_engine, session_scope
from cms.dispatcher import dispatch_once, http_client, retry_policy, run_dispatcher
from cms.documents import seed_file_json_schema
from cms.errors import CMSError, InvalidContent
from cms.logs import uvicorn_log_config
from cms.models import Partner, utc_now
from cms.outbox import EventType
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
        log_config=uvicorn_log_config(), proxy_headers=False,
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


class LintFormat(enum.StrEnum):
    AUTO = "auto"
    TABLE = "table"
    PLAIN = "plain"


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
) -> None:
    """Check content files against the editorial rules (and the schema). Exits 1 on any error,
    or with --strict on any warning."""
    settings = get_settings()
    rules = lint.LintRules(
        absolute_claims=claim or settings.lint_absolute_claims,
        review_max_age_days=max_review_age or settings.lint_review_max_age_days,
        site_url=settings.site_url,
    )
    findings = lint.lint_paths(_seed_paths(paths), rules)
    errors_found = sum(f.severity is lint.Severity.ERROR for f in findings)
    warnings_found = len(findings) - errors_found
    as_table = output is LintFormat.TABLE or (output is LintFormat.AUTO and console.is_terminal)
    if as_table and findings:
        table = Table("file:line", "severity", "rule", "field", "message")
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


partner_app = typer.Typer(help="Partners that syndicate snippets.", no_args_is_help=True)
app.add_typer(partner_app, name="partner")


@partner_app.command("create")
def partner_create(
    name: Annotated[str, typer.Option(help="A unique name for the partner.")],
    origin: Annotated[
        list[str],
        typer.Option(help="An origin its pages run on, e.g. https://acme.example; repeat."),
    ],
    rate_limit: Annotated[int, typer.Option(min=1, help="Requests per minute.")] = 600,
) -> None:
    """Create a partner and print its key. It is shown only this once; only a hash is stored."""

    async def create(session: AsyncSession) -> str:
        _, key = await partners.create_partner(
            session, name=name, origins=origin, rate_limit=rate_limit
        )
        return key

    key = _run_in_session(create)
    errors.print("Give this key to the partner now; it cannot be shown again:")
    typer.echo(key)


@partner_app.command("list")
def partner_list() -> None:
    """List partners: name, origins, rate limit, snippets served, state. Keys are never shown."""

    async def read(session: AsyncSession) -> tuple[list[Partner], dict[int, int]]:
        return await partners.list_partners(session), await partners.usage_totals(session)

    rows, totals = _run_in_session(read)
    table = Table("name", "origins", "limit/min", "served", "created", "state")
    for partner in rows:
        assert partner.id is not None
        table.add_row(
            partner.name, partner.origins.replace(" ", "\n"), str(partner.rate_limit),
            str(totals.get(partner.id, 0)), f"{partner.created_at:%Y-%m-%d %H:%M}",
            "revoked" if partner.revoked_at else "active",
        )  # fmt: skip
    console.print(table)


@partner_app.command("revoke")
def partner_revoke(name: Annotated[str, typer.Argument(help="The partner's name.")]) -> None:
    """Revoke a partner's key at once; requests carrying it are refused (401) from now on."""

    async def revoke(session: AsyncSession) -> None:
        await partners.revoke_partner(session, name=name)

    _run_in_session(revoke)
    console.print(f"revoked {name}")


@partner_app.command("usage")
def partner_usage(
    name: Annotated[
        str | None, typer.Argument(help="One partner; default: all, keyless traffic too.")
    ] = None,
) -> None:
    """Snippets served, per partner and snippet, most used first. A running server writes its
    counts every CMS_USAGE_FLUSH_INTERVAL seconds."""

    async def read(session: AsyncSession) -> list[partners.SnippetUsage]:
        return await partners.usage_by_snippet(session, name=name)

    table = Table("partner", "article", "benefit", "served")
    for row in _run_in_session(read):
        table.add_row(row.partner or "(no key)", row.article_slug, row.benefit_slug, str(row.count))
    console.print(table)


webhook_app = typer.Typer(help="Webhook endpoints and their deliveries.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Option(help="Where to POST the events.")],
    event: Annotated[list[EventType], typer.Option(help="An event type; repeat for several.")],
    secret: Annotated[
        str | None, typer.Option(help="Signing secret; generated when not given.")
    ] = None,
) -> None:
    """Add an endpoint and print its signing secret. It receives events from now on."""

    async def add(session: AsyncSession) -> tuple[int, str]:
        endpoint = await webhooks.add_endpoint(session, url=url, event_types=event, secret=secret)
        assert endpoint.id is not None
        return endpoint.id, endpoint.secret

    endpoint_id, signing_secret = _run_in_session(add)
    errors.print(f"Added webhook {endpoint_id}. Verify X-CMS-Signature with this secret:")
    typer.echo(signing_secret)


@webhook_app.command("list")
def webhook_list() -> None:
    """List endpoints: id, URL, events, state. Secrets are not shown."""
    table = Table("id", "url", "events", "created", "state")
    for endpoint in _run_in_session(webhooks.list_endpoints):
        table.add_row(
            str(endpoint.id), endpoint.url, endpoint.event_types,
            f"{endpoint.created_at:%Y-%m-%d %H:%M}", "active" if endpoint.active else "inactive",
        )  # fmt: skip
    console.print(table)


@webhook_app.command("remove")
def webhook_remove(endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")]) -> None:
    """Remove an endpoint and its deliveries; nothing more is sent to it."""

    async def remove(session: AsyncSession) -> None:
        await webhooks.remove_endpoint(session, endpoint_id=endpoint_id)

    _run_in_session(remove)
    console.print(f"removed webhook {endpoint_id}")


@webhook_app.command("deliveries")
def webhook_deliveries(
    limit: Annotated[int, typer.Option(min=1, help="How many, most recent first.")] = 20,
) -> None:
    """Show recent deliveries: event, endpoint, status, attempts, last answer, next attempt."""

    async def recent(session: AsyncSession) -> Sequence[webhooks.DeliveryRow]:
        return await webhooks.list_deliveries(session, limit=limit)

    table = Table("id", "event", "endpoint", "status", "tries", "code", "next attempt", "error")
    for row in _run_in_session(recent):
        delivery = row.delivery
        code = delivery.last_status_code
        table.add_row(
            str(delivery.id), f"{row.event_type} {row.article_slug} v{row.article_version}",
            row.url, delivery.status.value, str(delivery.attempts),
            str(code) if code is not None else "-",
            f"{delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}" if delivery.next_attempt_at else "-",
            delivery.last_error or "-",
        )  # fmt: skip
    console.print(table)


@webhook_app.command("deliver")
def webhook_deliver(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
) -> None:
    """Send what is due from this process: one pass with --once, else the dispatcher loop until
    interrupted (for a server run with CMS_WEBHOOKS_DISPATCH=false)."""
    settings = get_settings()

    async def run() -> str:
        engine = create_engine(settings)
        try:
            await migrate.ensure_schema(engine, auto_migrate=settings.auto_migrate)
            if not once:
                await run_dispatcher(engine, settings, asyncio.Event())
            async with http_client(settings) as client:
                report = await dispatch_once(engine, client, policy=retry_policy(settings))
        finally:
            await engine.dispose()
        return (
            f"{report.fanned_out} new deliveries; {report.delivered} delivered, "
            f"{report.retrying} to retry, {report.dead} dead"
        )

    console.print(asyncio.run(run()))


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

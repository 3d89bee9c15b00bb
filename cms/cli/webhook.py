"""`cms webhook`: add, list and remove endpoints, show deliveries, and send what is due."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from cms.cli.shared import cli_table, console, errors, run_in_session
from cms.events import EventType
from cms.settings import get_settings

if TYPE_CHECKING:
    from cms.db import WriteSession
    from cms.webhooks import DeliveryRow

__all__ = ["webhook_app"]

webhook_app = typer.Typer(help="Webhook endpoints and their deliveries.", no_args_is_help=True)


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Option(help="Where to POST the events.")],
    event: Annotated[list[EventType], typer.Option(help="An event type; repeat for several.")],
    secret: Annotated[
        str | None, typer.Option(help="Signing secret; generated when not given.")
    ] = None,
) -> None:
    """Add an endpoint and print its signing secret. It receives events from now on."""
    from cms import webhooks

    async def add(session: WriteSession) -> tuple[int, str]:
        endpoint = await webhooks.add_endpoint(session, url=url, event_types=event, secret=secret)
        assert endpoint.id is not None
        return endpoint.id, endpoint.secret

    endpoint_id, signing_secret = run_in_session(add)
    errors.print(f"Added webhook {endpoint_id}. Verify X-CMS-Signature with this secret:")
    typer.echo(signing_secret)


@webhook_app.command("list")
def webhook_list() -> None:
    """List endpoints: id, URL, events, state. Secrets are not shown."""
    from cms import webhooks

    table = cli_table("id", "url", "events", "created", "state")
    for endpoint in run_in_session(webhooks.list_endpoints):
        table.add_row(
            str(endpoint.id), endpoint.url, endpoint.event_types,
            f"{endpoint.created_at:%Y-%m-%d %H:%M}", "active" if endpoint.active else "inactive",
        )  # fmt: skip
    console.print(table)


@webhook_app.command("remove")
def webhook_remove(endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")]) -> None:
    """Remove an endpoint and its deliveries; nothing more is sent to it."""
    from cms import webhooks

    async def remove(session: WriteSession) -> None:
        await webhooks.remove_endpoint(session, endpoint_id=endpoint_id)

    run_in_session(remove)
    console.print(f"removed webhook {endpoint_id}")


@webhook_app.command("deliveries")
def webhook_deliveries(
    limit: Annotated[int, typer.Option(min=1, help="How many, most recent first.")] = 20,
) -> None:
    """Show recent deliveries: event, endpoint, status, attempts, last answer, next attempt."""
    from cms import webhooks

    async def recent(session: WriteSession) -> Sequence[DeliveryRow]:
        return await webhooks.list_deliveries(session, limit=limit)

    table = cli_table("id", "event", "endpoint", "status", "tries", "code", "next attempt", "error")
    for row in run_in_session(recent):
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
    import asyncio

    from cms import migrate
    from cms.db import create_engine
    from cms.dispatcher import dispatch_once, http_client, retry_policy, run_dispatcher

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

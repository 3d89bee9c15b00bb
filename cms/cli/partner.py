"""`cms partner`: create, list and revoke partner keys, and their snippet usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cms.cli.shared import cli_table, console, errors, run_in_session

if TYPE_CHECKING:
    from cms.db import WriteSession
    from cms.models import Partner
    from cms.partners import SnippetUsage

__all__ = ["partner_app"]

partner_app = typer.Typer(help="Partners that syndicate snippets.", no_args_is_help=True)


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
    from cms import partners

    async def create(session: WriteSession) -> str:
        _, key = await partners.create_partner(
            session, name=name, origins=origin, rate_limit=rate_limit
        )
        return key

    key = run_in_session(create)
    errors.print("Give this key to the partner now; it cannot be shown again:")
    typer.echo(key)


@partner_app.command("list")
def partner_list() -> None:
    """List partners: name, origins, rate limit, snippets served, state. Keys are never shown."""
    from cms import partners

    async def read(session: WriteSession) -> tuple[list[Partner], dict[int, int]]:
        return await partners.list_partners(session), await partners.usage_totals(session)

    rows, totals = run_in_session(read)
    table = cli_table("name", "origins", "limit/min", "served", "created", "state")
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
    from cms import partners

    async def revoke(session: WriteSession) -> None:
        await partners.revoke_partner(session, name=name)

    run_in_session(revoke)
    console.print(f"revoked {name}")


@partner_app.command("usage")
def partner_usage(
    name: Annotated[
        str | None, typer.Argument(help="One partner; default: all, keyless traffic too.")
    ] = None,
) -> None:
    """Snippets served, per partner and snippet, most used first. A running server writes its
    counts every CMS_USAGE_FLUSH_INTERVAL seconds."""
    from cms import partners

    async def read(session: WriteSession) -> list[SnippetUsage]:
        return await partners.usage_by_snippet(session, name=name)

    table = cli_table("partner", "article", "benefit", "served")
    for row in run_in_session(read):
        table.add_row(row.partner or "(no key)", row.article_slug, row.benefit_slug, str(row.count))
    console.print(table)

"""`cms token`: create, list and revoke API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from cms.access import Scope
from cms.cli.shared import cli_table, console, errors, run_in_session

if TYPE_CHECKING:
    from cms.db import WriteSession

__all__ = ["token_app"]

token_app = typer.Typer(help="API tokens for editors and tools.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="A unique name, shown as the actor in revisions.")],
    scope: Annotated[list[Scope], typer.Option(help="A scope to grant; repeat for several.")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a token and print it. It is shown only this once; only a hash is stored."""
    from cms import tokens
    from cms.models import utc_now

    expires_at = utc_now() + timedelta(days=expires_in_days) if expires_in_days else None

    async def create(session: WriteSession) -> str:
        _, secret = await tokens.create_token(
            session, name=name, scopes=scope, expires_at=expires_at
        )
        return secret

    secret = run_in_session(create)
    errors.print("Store this token now; it cannot be shown again:")
    typer.echo(secret)


@token_app.command("list")
def token_list() -> None:
    """List tokens: name, scopes, state. Secrets are never shown."""
    from cms import tokens
    from cms.models import utc_now

    table = cli_table("name", "scopes", "created", "expires", "state")
    now = utc_now()
    for token in run_in_session(tokens.list_tokens):
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
    from cms import tokens

    async def revoke(session: WriteSession) -> None:
        await tokens.revoke_token(session, name=name)

    run_in_session(revoke)
    console.print(f"revoked {name}")

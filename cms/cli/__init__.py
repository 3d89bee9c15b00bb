"""The `cms` command: serve, seed, validate, export, tokens, webhooks and the public schemas.

`main` holds the top-level commands and gathers the command groups, one module each (`token`,
`partner`, `webhook`, `db`); `shared` holds what they all use.
"""

from cms.cli.main import app

__all__ = ["app"]

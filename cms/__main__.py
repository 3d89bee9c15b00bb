"""`python -m cms` runs the `cms` command."""

from __future__ import annotations

from cms.cli import app

app(prog_name="cms")

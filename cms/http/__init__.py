"""Everything that knows HTTP: the Starlette application and its routes."""

from __future__ import annotations

from cms.http.app import create_app

__all__ = ["create_app"]

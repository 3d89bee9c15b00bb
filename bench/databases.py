"""Throwaway databases for one run: SQLite files in a temp dir, or PostgreSQL databases created
on the given server and dropped at the end, so a run never touches data it did not make."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from cms.db import create_engine
from cms.migrate import ensure_schema
from cms.seed import seed_database
from cms.settings import Settings

__all__ = ["scratch_database", "seed_bench_database"]


@contextmanager
def scratch_database(server_url: str | None, workdir: Path, name: str) -> Iterator[str]:
    """A fresh, empty database URL: `<workdir>/<name>.db`, or `<name>_<random>` on the
    PostgreSQL server at `server_url` (dropped afterwards, even when the run fails)."""
    if server_url is None:
        yield f"sqlite:///{workdir / f'{name}.db'}"
        return
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"--database-url: expected postgresql://..., got {server_url!r}")
    database = f"{name}_{uuid.uuid4().hex[:10]}"
    admin_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        try:
            yield url.set(database=database).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def seed_bench_database(database_url: str, seed_dir: Path) -> None:
    settings = Settings(database_url=database_url, _env_file=None)
    engine = create_engine(settings)
    try:
        # Made by the migrations, as `cms serve` makes it: the shipped rows start on it as is.
        await ensure_schema(engine, auto_migrate=True)
        await seed_database(engine, [seed_dir])
    finally:
        await engine.dispose()

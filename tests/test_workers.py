"""Several server processes on one database: a write through one is read through the other at
once, response caches included (they key on the database's content revision)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from cms import migrate
from cms.access import Scope
from cms.db import create_engine, dispose_engine, session_scope
from cms.seed import seed_database
from cms.settings import Settings
from cms.tokens import create_token
from tests.conftest import SEED_DIR
from tests.live_server import free_port

READ = {"query": '{ article(slug: "back-walk") { benefits { title } } }'}
EDIT = """mutation { benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: 1,
  input: {title: "Calm"}) { errors { code } } }"""


@contextmanager
def _server(database_url: str, log: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CMS_DATABASE_URL": database_url, "CMS_WEBHOOKS_DISPATCH": "false"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "cms.http.app:create_app",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with (
        log.open("w") as out,
        subprocess.Popen(command, env=env, stdout=out, stderr=out) as process,
    ):
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_a_write_through_one_worker_is_read_through_another(
    database_url: str, tmp_path: Path
) -> None:
    async def prepare() -> str:
        engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
        await migrate.upgrade(engine)
        await seed_database(engine, [SEED_DIR])
        async with session_scope(engine) as session:
            _, secret = await create_token(session, name="editor", scopes=[Scope.WRITE])
        await dispose_engine(engine)
        return secret

    token = asyncio.run(prepare())
    with (
        _server(database_url, tmp_path / "a.log") as first,
        _server(database_url, tmp_path / "b.log") as second,
    ):
        for _ in range(2):  # the second read comes from the response cache
            before = httpx.post(f"{second}/graphql", json=READ, timeout=10).json()
        assert before["data"]["article"]["benefits"][0] == {"title": "Stress Relief"}

        edited = httpx.post(
            f"{first}/graphql", json={"query": EDIT}, timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert edited.json() == {"data": {"benefitUpdate": {"errors": []}}}

        after = httpx.post(f"{second}/graphql", json=READ, timeout=10).json()
        assert after["data"]["article"]["benefits"][0] == {"title": "Calm"}

"""Several server processes on one database: a write through one is read through the other
promptly, response caches included (on PostgreSQL they are invalidated by the change channel's
LISTEN/NOTIFY; on SQLite by `data_version`), and live subscribers on one hear writes made through
another.

"Promptly" is milliseconds on an idle machine; the tests wait up to `PATIENCE` for it, so that a
machine busy with other work cannot fail them (bench/ measures latency, not these tests)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from cms import migrate
from cms.access import Scope
from cms.db import create_engine, dispose_engine, session_scope
from cms.seed import seed_database
from cms.settings import Settings
from cms.tokens import create_token
from tests.conftest import SEED_DIR
from tests.graphql_ws import PATIENCE, Subscriber, wait_for_subscribers
from tests.live_server import free_port

READ = {"query": '{ article(slug: "back-walk") { benefits { title } } }'}


def _edit_query(version: int = 1, title: str = "Calm") -> str:
    """An edit of the published article, then its publication (the edit waits in the pending
    version until then), in one request."""
    return f"""mutation {{
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: {version},
    input: {{title: "{title}"}}) {{ errors {{ code }} }}
  articlePublish(slug: "back-walk", expectedVersion: {version + 1}) {{ errors {{ code }} }} }}"""


EDIT = _edit_query()

UNPUBLISH = """mutation { articleUnpublish(slug: "back-walk", expectedVersion: VERSION) {
  errors { code } } }"""
PUBLISH = """mutation { articlePublish(slug: "back-walk", expectedVersion: VERSION) {
  errors { code } } }"""


@contextmanager
def _servers(database_url: str, logs: Path, count: int = 2) -> Iterator[list[str]]:
    """`count` server processes on the database, started side by side; their base URLs."""
    env = {**os.environ, "CMS_DATABASE_URL": database_url, "CMS_WEBHOOKS_DISPATCH": "false"}
    started: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def stop() -> None:
        for _, process, _ in started:
            process.terminate()
        for _, process, _ in started:
            process.wait(timeout=10)

    with ExitStack() as stack:
        stack.callback(stop)
        for name in "abcdefgh"[:count]:
            port, log = free_port(), logs / f"{name}.log"
            command = [sys.executable, "-m", "uvicorn", "--factory", "cms.http.app:create_app",
                       "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
            out = stack.enter_context(log.open("w"))
            process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
            started.append((f"http://127.0.0.1:{port}", process, log))
        for url, process, log in started:
            deadline = time.monotonic() + 60
            while not _answers(url):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield [url for url, _, _ in started]


def _prepare(database_url: str) -> str:
    """Migrate and seed the database; return an editor's token."""

    async def prepare() -> str:
        engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
        await migrate.upgrade(engine)
        await seed_database(engine, [SEED_DIR])
        async with session_scope(engine) as session:
            _, secret = await create_token(
                session, name="editor", scopes=[Scope.WRITE, Scope.PUBLISH]
            )
        await dispose_engine(engine)
        return secret

    return asyncio.run(prepare())


def _read_within(url: str, expected_title: str, seconds: float = PATIENCE) -> float:
    """Read until the first benefit has the title; return how long it took."""
    started = time.monotonic()
    while True:
        after = httpx.post(f"{url}/graphql", json=READ, timeout=10).json()
        if after["data"]["article"]["benefits"][0] == {"title": expected_title}:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, after
        time.sleep(0.01)


def _edit(url: str, token: str, query: str = EDIT) -> None:
    edited = httpx.post(
        f"{url}/graphql", json={"query": query}, timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    payloads = list(edited.json()["data"].values())
    assert payloads and all(payload == {"errors": []} for payload in payloads), payloads


def _listener_connected(url: str) -> bool:
    return "cms_changes_listener_connected 1.0" in httpx.get(f"{url}/metrics", timeout=10).text


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_write_through_one_worker_is_read_through_another(
    database_url: str, tmp_path: Path
) -> None:
    token = _prepare(database_url)
    with _servers(database_url, tmp_path) as (first, second):
        for _ in range(2):  # the second read comes from the response cache
            before = httpx.post(f"{second}/graphql", json=READ, timeout=10).json()
        assert before["data"]["article"]["benefits"][0] == {"title": "Stress Relief"}

        if database_url.startswith("postgresql"):
            _wait(lambda: _listener_connected(second), PATIENCE, "B's listener did not connect")
        _edit(first, token)
        _read_within(second, "Calm")


@pytest.mark.postgres_only
def test_the_listener_reconnects_after_its_connection_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    token = _prepare(database_url)
    with (
        _servers(database_url, tmp_path) as (first, second),
        psycopg.connect(database_url, autocommit=True) as admin,
    ):
        listeners = """SELECT pid FROM pg_stat_activity
            WHERE application_name = 'cms-changes' AND datname = current_database()"""

        def pids() -> set[int]:
            return {row[0] for row in admin.execute(listeners).fetchall()}

        _wait(lambda: len(pids()) == 2 and _listener_connected(second), PATIENCE, "not listening")

        async def kill_write_and_listen() -> dict[str, object]:
            async with Subscriber.connect(second) as subscriber:
                await subscriber.subscribe("subscription { contentChanged { type slug } }")
                await wait_for_subscribers(second, 1)
                killed = pids()
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(%s)",
                    [list(killed)],
                )
                # Most likely before B has reconnected: B reads what it missed on reconnect.
                await asyncio.to_thread(_edit, first, token)
                heard = await subscriber.next()
                await subscriber.assert_quiet()
                _wait(
                    lambda: len(pids() - killed) == 2, PATIENCE, "the listeners did not reconnect"
                )
                return heard

        heard = asyncio.run(kill_write_and_listen())
        assert heard == {"contentChanged": {"type": "UPDATED", "slug": "back-walk"}}
        _wait(lambda: _listener_connected(second), PATIENCE, "B's listener is not back")

        for _ in range(2):  # the second read comes from B's response cache
            before = httpx.post(f"{second}/graphql", json=READ, timeout=10).json()
        assert before["data"]["article"]["benefits"][0] == {"title": "Calm"}
        _edit(
            first,
            token,
            _edit_query(3, "Calmer"),
        )
        _read_within(second, "Calmer")
        assert _listener_connected(second)


def test_a_subscriber_on_one_worker_hears_a_publication_through_another(
    database_url: str, tmp_path: Path
) -> None:
    token = _prepare(database_url)
    unpublish = UNPUBLISH.replace("VERSION", "1")
    publish = PUBLISH.replace("VERSION", "2")
    subscription = "subscription { contentChanged { type slug article { title } } }"
    with _servers(database_url, tmp_path) as (first, second):
        if database_url.startswith("postgresql"):
            _wait(lambda: _listener_connected(second), PATIENCE, "B's listener did not connect")

        async def listen() -> list[dict[str, object]]:
            async with Subscriber.connect(second) as subscriber:
                await subscriber.subscribe(subscription)
                await wait_for_subscribers(second, 1)
                await asyncio.to_thread(_edit, first, token, unpublish)
                await asyncio.to_thread(_edit, first, token, publish)
                return [await subscriber.next(), await subscriber.next()]

        heard = asyncio.run(listen())
    assert heard == [
        {"contentChanged": {"type": "DELETED", "slug": "back-walk", "article": None}},
        {
            "contentChanged": {
                "type": "CREATED", "slug": "back-walk",
                "article": {"title": "Back Walk Benefits"},
            }
        },
    ]  # fmt: skip


def test_cms_serve_runs_several_stateless_workers(database_url: str, tmp_path: Path) -> None:
    """`cms serve --workers 2`: two processes answer on one port (each request id starts with
    its process's prefix), and a write through either is read through both within a second."""
    token = _prepare(database_url)
    port = free_port()
    env = {
        **os.environ,
        "CMS_DATABASE_URL": database_url,
        "CMS_WEBHOOKS_DISPATCH": "false",
        # Several workers refuse to start without one shared admin key.
        "CMS_ADMIN_SECRET_KEY": "a-key-both-workers-share",
    }
    command = [sys.executable, "-m", "cms", "serve", "--port", str(port), "--workers", "2"]
    log = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out, subprocess.Popen(command, env=env, stdout=out, stderr=out) as serve:
        try:
            _wait(lambda: _answers(url), 60, f"cms serve did not start: {log.read_text()}")
            prefixes: set[str] = set()
            for _ in range(200):  # a new connection each time: the kernel spreads them
                response = httpx.post(f"{url}/graphql", json=READ, timeout=10)
                prefixes.add(response.headers["x-request-id"][:16])
                if len(prefixes) == 2:
                    break
            assert len(prefixes) == 2, "only one worker answered 200 connections"
            _edit(url, token)
            for _ in range(20):  # reads land on both workers: each shows the write
                _read_within(url, "Calm")
        finally:
            serve.terminate()
            serve.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False

"""Faults against a real PostgreSQL that the test owns: stopped under a running server, it makes
the API answer 503 SERVICE_UNAVAILABLE and /readyz fail while /healthz stays up, and service
resumes by itself once the database is back, with no restart.

The cluster is a throw-away one made with initdb (never the shared server). initdb and pg_ctl
refuse to run as root, so they run as the postgres user; under CI=true a missing tool fails.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cms import migrate
from cms.db import create_engine, dispose_engine
from cms.http import create_app
from cms.seed import seed_database
from cms.settings import Settings
from tests.conftest import SEED_DIR, without_cost
from tests.live_server import free_port, live_server

READ = {"query": '{ article(slug: "back-walk") { title } }'}


class Cluster:
    def __init__(self, bin_dir: Path, data: Path, port: int) -> None:
        self.bin_dir, self.data, self.port = bin_dir, data, port

    def _pg(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._pg(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
                 "-l", str(self.data / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._pg(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("initdb is missing: PostgreSQL's server binaries are needed under CI")
        pytest.skip("initdb is missing")
    bin_dir = Path(found[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="cms-fault-"))
    shutil.chown(data, "postgres") if os.geteuid() == 0 else None
    cluster = Cluster(bin_dir, data, free_port())
    cluster._pg(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(bin_dir / "pg_ctl"), "-D", str(data),
             "-m", "immediate", "stop"], capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)


def _in_thread(coroutine: object) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()  # type: ignore[arg-type]


def test_a_stopped_database_is_a_503_and_service_resumes_by_itself(cluster: Cluster) -> None:
    settings = Settings(  # type: ignore[call-arg]
        database_url=cluster.url, db_pool_timeout=2, webhooks_dispatch=False, _env_file=None
    )

    async def prepare() -> None:
        engine = create_engine(settings)
        await migrate.upgrade(engine)
        await seed_database(engine, [SEED_DIR])
        await dispose_engine(engine)

    _in_thread(prepare())
    with live_server(create_app(settings)) as url:
        assert httpx.post(f"{url}/graphql", json=READ, timeout=10).status_code == 200

        cluster.stop()
        down = httpx.post(f"{url}/graphql", json=READ, timeout=10)
        assert down.status_code == 503
        assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 503
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200

        cluster.start()
        deadline = time.monotonic() + 30
        while True:
            response = httpx.post(f"{url}/graphql", json=READ, timeout=10)
            if response.status_code == 200:
                break
            assert time.monotonic() < deadline, f"not back within 30 s: {response.text}"
            time.sleep(0.2)
        assert without_cost(response.json()) == {
            "data": {"article": {"title": "Back Walk Benefits"}}
        }
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200


def test_a_seed_killed_mid_way_leaves_no_partial_article(tmp_path: Path) -> None:
    """`cms seed` writes every file in one transaction: kill -9 while it writes, and the
    database holds nothing of it (and is intact)."""
    import signal
    import sqlite3
    import sys

    files = tmp_path / "seed"
    files.mkdir()
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    for n in range(1500):
        (files / f"a{n:04d}.yaml").write_text(
            text.replace("slug: back-walk", f"slug: a-{n:04d}", 1)
        )
    database = tmp_path / "cms.db"
    env = {**os.environ, "CMS_DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run([sys.executable, "-m", "cms", "db", "upgrade"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    wal = Path(f"{database}-wal")
    baseline = wal.stat().st_size if wal.exists() else 0

    seed = subprocess.Popen([sys.executable, "-m", "cms", "seed", str(files)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (wal.exists() and wal.stat().st_size > baseline + 1_000_000):
        assert seed.poll() is None, "the seed finished before it could be interrupted"
        assert time.monotonic() < deadline, "the seed never started writing"
        time.sleep(0.01)
    seed.send_signal(signal.SIGKILL)
    seed.wait(timeout=10)

    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT count(*) FROM article").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM benefit").fetchone() == (0,)

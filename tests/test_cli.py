"""The `cms` command as editors and operators run it: real processes, real files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cms.webhooks import sign
from tests.conftest import REPO, SEED_DIR
from tests.live_server import live_server
from tests.webhook_receiver import Receiver

CMS = [sys.executable, "-m", "cms"]


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMS, *args], cwd=cwd, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_validate_accepts_the_shipped_seed(tmp_path: Path) -> None:
    result = _run("validate", str(SEED_DIR), cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "2 file(s) valid.")


def test_validate_names_file_line_and_field_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: bad\ntitle: Bad\nauthor:\n  slug: p\n  nme: P\n")
    result = _run("validate", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{bad}:3: author.name: Field required" in result.stderr
    assert f"{bad}:5: author.nme: unknown field" in result.stderr


def test_seed_reports_what_it_did_and_is_idempotent(tmp_path: Path) -> None:
    env = {"CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}"}
    first = _run("seed", str(SEED_DIR), cwd=tmp_path, env=env)
    second = _run("seed", str(SEED_DIR), cwd=tmp_path, env=env)
    assert "2 created, 0 updated, 0 unchanged, 0 deleted" in first.stdout
    assert "0 created, 0 updated, 2 unchanged, 0 deleted" in second.stdout


def test_seed_with_an_invalid_file_exits_non_zero_and_writes_nothing(tmp_path: Path) -> None:
    env = {"CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}"}
    (tmp_path / "bad.yaml").write_text("slug: bad\n")
    result = _run("seed", str(SEED_DIR), str(tmp_path / "bad.yaml"), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "nothing was written" in result.stderr
    export = _run("export", "--out", str(tmp_path / "out"), cwd=tmp_path, env=env)
    assert export.returncode == 0 and not list((tmp_path / "out").glob("*.yaml"))


def test_the_command_loads_what_a_command_needs_only_when_it_runs(tmp_path: Path) -> None:
    # Every `cms` process imports `cms.cli`: `cms --help` or a refusal to start must not wait for
    # the database layer, the server or the linter.
    heavy = ("sqlalchemy", "alembic", "uvicorn", "strawberry", "cms.models", "cms.lint")
    probe = f"import sys, cms.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_schema_prints_the_checked_in_sdl(tmp_path: Path) -> None:
    result = _run("schema", cwd=tmp_path)
    assert result.stdout == (REPO / "schema" / "schema.graphql").read_text("utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_query(tmp_path: Path, env: dict[str, str], query: str) -> dict[str, object]:
    port = _free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log, subprocess.Popen(
        [*CMS, "serve", "--port", str(port)], cwd=tmp_path, env={**os.environ, **env},
        stdout=log, stderr=subprocess.STDOUT,
    ) as server:  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = httpx.post(
                        f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=5
                    )
                    body: dict[str, object] = response.json()
                    return body
                except httpx.TransportError:
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "cms serve did not answer within 30 s"
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_serve_on_an_empty_database_loads_the_article_from_any_directory(tmp_path: Path) -> None:
    env = {"CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    env.pop("CMS_SEED_DIR", None)
    body = _serve_and_query(tmp_path, env, '{ article(slug: "back-walk") { benefits { title } } }')
    assert len(body["data"]["article"]["benefits"]) == 7  # type: ignore[index]


def test_a_second_start_keeps_edited_content(tmp_path: Path) -> None:
    env = {"CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}"}
    edited = tmp_path / "edited"
    edited.mkdir()
    text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
    (edited / "back-walk.yaml").write_text(text.replace("title: Stress Relief", "title: Calm"))
    _serve_and_query(tmp_path, env, "{ __typename }")
    assert _run("seed", str(edited), cwd=tmp_path, env=env).returncode == 0
    body = _serve_and_query(tmp_path, env, '{ article(slug: "back-walk") { benefits { title } } }')
    assert body["data"]["article"]["benefits"][0] == {"title": "Calm"}  # type: ignore[index]


def test_webhook_commands_add_deliver_and_show_delivered_and_dead(
    tmp_path: Path, database_url: str
) -> None:
    env = {"CMS_DATABASE_URL": database_url, "CMS_WEBHOOKS_MAX_ATTEMPTS": "1", "COLUMNS": "300"}
    assert _run("seed", str(SEED_DIR), cwd=tmp_path, env=env).returncode == 0
    inbox = Receiver()
    down = f"http://127.0.0.1:{_free_port()}/down"
    with live_server(inbox.app()) as url:
        added = _run(
            "webhook", "add", "--url", f"{url}/up", "--event", "article.updated",
            "--secret", "s3cret", cwd=tmp_path, env=env,
        )  # fmt: skip
        generated = _run(
            "webhook", "add", "--url", down, "--event", "article.updated", cwd=tmp_path, env=env
        )
        edited = tmp_path / "edited"
        edited.mkdir()
        text = (SEED_DIR / "back-walk.yaml").read_text("utf-8")
        (edited / "back-walk.yaml").write_text(text.replace("title: Stress Relief", "title: Calm"))
        assert _run("seed", str(edited), cwd=tmp_path, env=env).returncode == 0
        delivered = _run("webhook", "deliver", "--once", cwd=tmp_path, env=env)
    listed = _run("webhook", "list", cwd=tmp_path, env=env)
    deliveries = _run("webhook", "deliveries", cwd=tmp_path, env=env)
    removed = _run("webhook", "remove", "2", cwd=tmp_path, env=env)
    after_removal = _run("webhook", "deliveries", cwd=tmp_path, env=env)

    assert (added.returncode, added.stdout) == (0, "s3cret\n")
    assert generated.returncode == 0 and generated.stdout.startswith("whsec_")
    assert delivered.stdout.strip() == "2 new deliveries; 1 delivered, 0 to retry, 1 dead"
    [request] = inbox.received
    assert request.headers["x-cms-event"] == "article.updated"
    assert request.headers["x-cms-article-version"] == "2"
    assert (
        sign("s3cret", int(request.headers["x-cms-timestamp"]), request.body)
        == (request.headers["x-cms-signature"])
    )
    assert f"{url}/up" in listed.stdout and down in listed.stdout
    assert "s3cret" not in listed.stdout
    rows = [line for line in deliveries.stdout.splitlines() if "article.updated" in line]
    assert len(rows) == 2
    dead, ok = rows  # most recent first
    assert down in dead and " dead " in dead and "ConnectError" in dead
    assert f"{url}/up" in ok and " delivered " in ok and " 200 " in ok
    assert removed.stdout.strip() == "removed webhook 2"
    assert down not in after_removal.stdout and f"{url}/up" in after_removal.stdout

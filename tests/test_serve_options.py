"""`cms serve`'s connection options reach uvicorn: a cap on concurrent connections and a short
keep-alive for idle ones; what it says about `CMS_SITE_URL` on a local address; and how its
workers share connections and their port."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.live_server import free_port

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@contextmanager
def _serving(tmp_path: Path, *options: str, **settings: str) -> Iterator[int]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CMS_")},
        "CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}",
        **settings,
    }
    log_path = tmp_path / "serve.log"
    command = [sys.executable, "-m", "cms", "serve", "--port", str(port), *options]
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        ) as server,
    ):
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "cms serve did not answer within 60 s"
                    time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)


def _status_line(sock: socket.socket) -> bytes:
    return sock.recv(65536).split(b"\r\n", 1)[0]


def test_limit_concurrency_answers_503_beyond_the_cap(tmp_path: Path) -> None:
    # uvicorn counts the asking connection too: 2 leaves room for one other.
    with _serving(tmp_path, "--limit-concurrency", "2") as port:
        # An idle connection holds the other place; the next request is turned away at once.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as second:
                second.sendall(REQUEST)
                assert _status_line(second) == b"HTTP/1.1 503 Service Unavailable"
        # Once the server has seen both close, a request is served again.
        deadline = time.monotonic() + 5
        while True:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as alone:
                alone.sendall(REQUEST)
                status = _status_line(alone)
            if status == b"HTTP/1.1 200 OK" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == b"HTTP/1.1 200 OK"


def test_timeout_keep_alive_closes_idle_connections(tmp_path: Path) -> None:
    with _serving(tmp_path, "--timeout-keep-alive", "1") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(REQUEST)
            assert _status_line(sock) == b"HTTP/1.1 200 OK"
            started = time.monotonic()
            while sock.recv(65536):  # the rest of the answer; then the idle connection closes
                pass
            assert time.monotonic() - started < 5


def test_serve_on_loopback_without_a_site_url_links_to_itself_and_says_so(
    tmp_path: Path,
) -> None:
    snippet = '{ benefitSnippet(article: "back-walk", benefit: "stress-relief") { url } }'
    with _serving(tmp_path, "--host", "127.0.0.1") as port:
        answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": snippet}, timeout=10)
        log = (tmp_path / "serve.log").read_text()
    url = answer.json()["data"]["benefitSnippet"]["url"]
    assert url.startswith(f"http://127.0.0.1:{port}/"), url
    notices = [json.loads(line) for line in log.splitlines() if "CMS_SITE_URL" in line]
    assert [(notice["level"], notice["message"]) for notice in notices] == [
        (
            "warning",
            "CMS_SITE_URL is not set: canonical links point at the local server "
            f"http://127.0.0.1:{port} (set it to the public site before going live)",
        )
    ]


def test_serve_with_a_site_url_starts_on_any_host_without_a_notice(tmp_path: Path) -> None:
    with _serving(
        tmp_path, "--host", "0.0.0.0", CMS_SITE_URL="https://www.example.com", CMS_ENV="production"
    ) as port:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    assert "CMS_SITE_URL" not in (tmp_path / "serve.log").read_text()


def test_serve_logs_json_lines_into_a_file_with_one_start_up_line(tmp_path: Path) -> None:
    with _serving(tmp_path) as port:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=10
        )
    text = (tmp_path / "serve.log").read_text()
    assert "\x1b" not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    (start,) = [line for line in lines if line["message"].startswith("Serving ")]
    assert start["message"] == (
        f"Serving http://127.0.0.1:{port}/graphql (GraphiQL in a browser), "
        f"database sqlite:///{tmp_path / 'cms.db'}, 1 worker"
    )
    assert (start["url"], start["workers"]) == (f"http://127.0.0.1:{port}/graphql", 1)
    (access,) = [line for line in lines if line["logger"] == "cms.http.access"][-1:]
    assert (access["request_id"], access["path"], access["status"]) == (
        answer.headers["x-request-id"], "/graphql", 200,
    )  # fmt: skip


def test_serve_log_format_text_writes_plain_lines_without_colour(tmp_path: Path) -> None:
    with _serving(tmp_path, "--log-format", "text", "--workers", "1") as port:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    text = (tmp_path / "serve.log").read_text()
    assert "\x1b" not in text and "{" not in text
    assert re.search(
        rf"^\d\d:\d\d:\d\d INFO cms\.serve Serving http://127\.0\.0\.1:{port}/graphql ", text, re.M
    )
    assert re.search(r"^\d\d:\d\d:\d\d INFO cms\.http\.access GET /healthz 200 ", text, re.M)


def _workers_answering(port: int, connections: int) -> list[str]:
    """Open `connections` connections at once, as a load generator does, then ask on each;
    which worker answered each (a request id starts with its process's own prefix)."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(connections)]
    try:
        for sock in socks:
            sock.sendall(REQUEST)
        answers = [sock.recv(65536).decode("latin-1") for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    ids = [re.search(r"^x-request-id: (\S+)\r$", answer, re.M) for answer in answers]
    return [found.group(1)[:16] for found in ids if found is not None]


def test_several_workers_share_the_connections_opened_at_once(tmp_path: Path) -> None:
    secret = {"CMS_ADMIN_SECRET_KEY": "test-" + "0" * 40}
    with _serving(tmp_path, "--workers", "2", **secret) as port:
        deadline = time.monotonic() + 60
        while len(set(_workers_answering(port, 1) + _workers_answering(port, 1))) < 2:
            assert time.monotonic() < deadline, "the second worker did not start"
        answered = _workers_answering(port, 16)
        listening = _listening_sockets(port)
    assert len(answered) == 16
    assert len(set(answered)) == 2, answered
    # Each on its own socket (SO_REUSEPORT): on one shared socket, whichever worker wakes first
    # may accept a whole burst of connections.
    assert listening in (None, 2)


def _listening_sockets(port: int) -> int | None:
    """How many sockets listen on the loopback port (Linux's /proc); None elsewhere."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return None
    rows = [line.split() for line in table.read_text().splitlines()[1:]]
    return sum(1 for row in rows if row[1] == f"0100007F:{port:04X}" and row[3] == "0A")


def test_a_second_server_on_a_port_in_use_refuses_to_start(tmp_path: Path) -> None:
    secret = {"CMS_ADMIN_SECRET_KEY": "test-" + "0" * 40}
    with _serving(tmp_path, "--workers", "2", **secret) as port:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CMS_")},
            "CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}",
            **secret,
        }
        second = subprocess.run(
            [sys.executable, "-m", "cms", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert second.returncode != 0
    assert "Address already in use" in second.stderr

"""The servers under test, each a uvicorn process with one worker pinned to one core.

A `ServerSpec` is all it takes to add a contender: a uvicorn factory and the environment it reads,
or, for a peer that is not a Python app, the command that serves it on the port in `PORT`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = [
    "RunningServer",
    "ServerSpec",
    "free_port",
    "peak_rss_kib",
    "run_server",
    "tree_peak_rss_kib",
]

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServerSpec:
    name: str
    factory: str
    env: Mapping[str, str] = field(default_factory=dict)
    # Instead of uvicorn: a program that serves POST /graphql on 127.0.0.1 at the port in PORT.
    command: Sequence[str] = ()
    # The cores it runs on, as taskset reads them ("0,1"); default: the run's server core.
    cpus: str | None = None


@dataclass(frozen=True)
class RunningServer:
    spec: ServerSpec
    pid: int
    url: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


def tree_peak_rss_kib(pid: int) -> int:
    """`peak_rss_kib` of the process and of all its descendants (a supervisor's workers)."""
    total = peak_rss_kib(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += tree_peak_rss_kib(int(child))
    return total


def _wait_until_answering(url: str, probe_body: bytes, process: subprocess.Popen[bytes]) -> None:
    # Generous: on a machine shared with test suites, a start-up can take tens of seconds.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            response = httpx.post(
                url, content=probe_body, headers={"content-type": "application/json"}, timeout=2
            )
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within 120s")


@contextmanager
def run_server(
    spec: ServerSpec, *, cpu: int, probe_body: bytes, log: Path
) -> Iterator[RunningServer]:
    """Start the server pinned to `cpu`, wait until it answers `probe_body`, stop it after."""
    port = free_port()
    cpus = spec.cpus or str(cpu)
    if spec.command:
        command = ["taskset", "-c", cpus, *spec.command]
    else:
        command = [
            "taskset", "-c", cpus, sys.executable, "-m", "uvicorn", "--factory", spec.factory,
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "PORT": str(port), **spec.env}
    with log.open("ab") as log_file:
        # taskset execs the command, so the pid is the server's own (one process: no supervisor).
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=log_file, cwd=REPO)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        _wait_until_answering(url, probe_body, process)
        yield RunningServer(spec=spec, pid=process.pid, url=url)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

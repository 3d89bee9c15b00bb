"""Driving Debian's `wrk`: a Lua script per request body, and parsing its `--latency` report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkResult", "parse_wrk_output", "run_wrk", "write_script"]

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_DURATION = r"([\d.]+)(us|ms|s|m)"


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def write_script(path: Path, body: bytes) -> Path:
    """A wrk script that POSTs `body` as JSON. The body goes in a Lua long string, whose level
    is chosen so that the body cannot close it early."""
    text = body.decode()
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    fence = "=" * level
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [{fence}[{text}]{fence}]\n",
        "utf-8",
    )
    return path


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk_output(output: str) -> WrkResult:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+{_DURATION}\s*$", output, re.MULTILINE)
        if match is None:
            raise ValueError(f"no {percent}% latency in wrk output:\n{output}")
        return _milliseconds(match.group(1), match.group(2))

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rate is None or total is None:
        raise ValueError(f"no request rate in wrk output:\n{output}")
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)$"):
        found = re.search(pattern, output, re.MULTILINE)
        if found is not None:
            errors += sum(int(n) for n in re.findall(r"\d+", found.group(1)))
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=int(total.group(1)),
        errors=errors,
    )


def run_wrk(
    url: str, script: Path, *, duration_s: int, connections: int, threads: int, cpu: int
) -> WrkResult:
    """Run wrk pinned to `cpu`; `--timeout` is generous so slow servers show as latency, not
    as socket errors."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed; `apt-get install -y wrk`")
    command = [
        "taskset", "-c", str(cpu), wrk, f"-t{threads}", f"-c{connections}",
        f"-d{duration_s}s", "--timeout", "10s", "--latency", "-s", str(script), url,
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk_output(completed.stdout)

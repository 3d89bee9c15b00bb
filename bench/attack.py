"""Adversarial checks: bounded attacks on one server on 127.0.0.1 while `/healthz` is probed.

    python -m bench.attack [--database-url postgresql://...] [--seconds 20] [--only NAME]

One uvicorn worker (as `cms serve` runs it), started afresh for each attack, on a scratch
database seeded from `seed/` plus 60 generated articles sharing every tag, so `related` fans out.
Each attack runs for `--seconds` while a separate process opens a new connection to `/healthz`
every ~20 ms (a probe gives up after 2 s: failed, counted as 2,000 ms). Per attack: healthz
p50/p99/max, the server's VmRSS before and 1 s after, the 5xx answers the attacker got and a
tally of everything the server answered it. Targets: healthz p99 < 100 ms, RSS growth < 50 MB,
no 5xx, no failed probe; the exit status is 1 when any is missed. JSON goes to
`bench/results/attack-<time>.json`, the server's log beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.databases import scratch_database
from bench.queries import HOT
from bench.seed_files import write_seed_files
from bench.servers import RunningServer, ServerSpec, run_server
from cms.access import Scope
from cms.db import Database, create_schema
from cms.seed import seed_database
from cms.settings import Settings
from cms.tokens import create_token

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
GENERATED_ARTICLES = 60
PROBE_EVERY = 0.02
PROBE_TIMEOUT = 2.0
TARGET_P99_MS = 100.0
TARGET_RSS_GROWTH_MB = 50.0
# Past the end of an attack, how long its requests may still take before they are abandoned.
GRACE = 15.0
PROTOCOL = "graphql-transport-ws"

FAN_OUT = """query FanOut {
  articles(first: 100) { nodes { related(first: 100) { related(first: 100) { slug } } } }
}"""
FAN_OUT_AT_CAP = """query FanOutAtCap {
  articles(first: 100) { nodes { related(first: 99) { slug title } } }
}"""
READ_VERSION = '{ article(slug: "back-walk") { version } }'
EDIT = """mutation Edit($v: Int!, $title: String!) {
  benefitUpdate(article: "back-walk", slug: "stress-relief", expectedVersion: $v,
                input: {title: $title}) { errors { code } } }"""
SUBSCRIBE = "subscription { contentChanged { type slug } }"


@dataclass
class Outcome:
    """What the attacker saw: a tally of answers, and how many were 5xx."""

    answers: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def http(self, status: int, detail: str = "", body: str = "") -> None:
        key = f"{status} {detail}".strip()
        self.answers[key] += 1
        if status >= 500:
            self.server_errors += 1
        if body:  # the first answer of each kind, abridged, for the JSON report
            self.notes.setdefault("samples", {}).setdefault(key, body[:300])


@dataclass
class Result:
    attack: str
    seconds: float
    probes: int
    probe_failures: int
    healthz_p50_ms: float
    healthz_p99_ms: float
    healthz_max_ms: float
    rss_before_mb: float
    rss_after_mb: float
    rss_peak_mb: float
    server_errors: int
    answers: dict[str, int]
    notes: dict[str, Any]
    server_alive: bool

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_after_mb - self.rss_before_mb

    @property
    def passed(self) -> bool:
        return (
            self.server_alive
            and self.probe_failures == 0
            and self.healthz_p99_ms < TARGET_P99_MS
            and self.rss_growth_mb < TARGET_RSS_GROWTH_MB
            and self.server_errors == 0
        )


def rss_kib(pid: int) -> int:
    """VmRSS of a live process in KiB; 0 once it has exited (a zombie has no VmRSS)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


# The prober runs in a process of its own, so the attackers' CPU use in this one cannot delay it.
def _probe(port: int, pid: int, stop: Any, results: Connection) -> None:
    latencies: list[float] = []
    failures = 0
    peak = 0
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    next_at = time.monotonic()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as probe:
                probe.sendall(request)
                answer = b""
                while chunk := probe.recv(4096):
                    answer += chunk
            if not answer.startswith(b"HTTP/1.1 200"):
                failures += 1
        except OSError:
            failures += 1
        latencies.append((time.perf_counter() - started) * 1000)
        peak = max(peak, rss_kib(pid))
        next_at += PROBE_EVERY
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at = max(next_at, time.monotonic())
    results.send((latencies, failures, peak))


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _graphql_detail(response: httpx.Response) -> str:
    """The first GraphQL error code of an answer, or `data`."""
    try:
        body = response.json()
    except ValueError:
        return "not json"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return "data"
    return str(errors[0].get("extensions", {}).get("code", errors[0].get("message", "?"))[:60])


async def _post_loop(
    url: str, clients: int, stop: float, body: Callable[[int], bytes], outcome: Outcome
) -> None:
    """`clients` clients POSTing `body(n)` back to back until `stop`."""
    sent = 0

    async def client() -> None:
        nonlocal sent
        async with httpx.AsyncClient(timeout=30) as http:
            while time.monotonic() < stop:
                sent += 1
                try:
                    response = await http.post(
                        url, content=body(sent), headers={"content-type": "application/json"}
                    )
                    outcome.http(response.status_code, _graphql_detail(response), response.text)
                except httpx.HTTPError as error:
                    outcome.answers[f"transport {type(error).__name__}"] += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    outcome.notes["requests"] = sent


async def _fan_out(server: RunningServer, seconds: float, document: str, outcome: Outcome) -> None:

    def body(n: int) -> bytes:
        # An undeclared variable, new every time: a cache keyed on the whole body never hits.
        return orjson.dumps({"query": document, "variables": {f"unused{n}": n}})

    await _post_loop(server.url, 4, time.monotonic() + seconds, body, outcome)


async def fan_out(server: RunningServer, seconds: float, token: str, outcome: Outcome) -> None:
    await _fan_out(server, seconds, FAN_OUT, outcome)


async def fan_out_at_cap(
    server: RunningServer, seconds: float, token: str, outcome: Outcome
) -> None:
    """The widest fan-out the default cost cap (10,000 nodes) lets through, so it executes."""
    await _fan_out(server, seconds, FAN_OUT_AT_CAP, outcome)


def _padded(head: str, size: int, n: int) -> str:
    """`head` followed by comment lines, unique by `n`, about `size` bytes once in JSON."""
    line = "# " + "padding " * 9 + "\n"
    return f"{head}\n# {n} {time.time_ns()}\n" + line * (size // (len(line) + 1))


async def big_documents(
    server: RunningServer, seconds: float, token: str, outcome: Outcome
) -> None:
    # Just under CMS_MAX_BODY_BYTES (1,000,000), so that it is parsed rather than refused (413).
    size = 990_000

    def body(n: int) -> bytes:
        return orjson.dumps({"query": _padded("{ __typename }", size, n)})

    outcome.notes["body_bytes"] = len(body(0))
    await _post_loop(server.url, 4, time.monotonic() + seconds, body, outcome)


def _port(server: RunningServer) -> int:
    return int(server.url.split(":")[2].split("/")[0])


def _ws_url(server: RunningServer) -> str:
    return server.url.replace("http://", "ws://")


async def _open(server: RunningServer, outcome: Outcome) -> ClientConnection | None:
    """A graphql-transport-ws connection past `connection_ack`, or None (tallied)."""
    try:
        socket_ = await connect(
            _ws_url(server),
            subprotocols=[PROTOCOL],
            compression=None,
            max_size=2**24,
            open_timeout=10,
            close_timeout=2,
        )
    except InvalidStatus as error:
        outcome.http(error.response.status_code, "handshake")
        return None
    except (OSError, TimeoutError) as error:
        outcome.answers[f"connect {type(error).__name__}"] += 1
        return None
    try:
        await socket_.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        ack = orjson.loads(await asyncio.wait_for(socket_.recv(), 10))
        if ack.get("type") == "connection_ack":
            return socket_
        outcome.answers[f"init answered {ack.get('type')}"] += 1
    except ConnectionClosed as closed:
        outcome.answers[f"{_closed(closed)} at init"] += 1
    except TimeoutError:
        outcome.answers["no ack in 10 s"] += 1
    await socket_.close()
    return None


def _closed(closed: ConnectionClosed) -> str:
    if closed.rcvd is None:
        return "closed without a close frame"
    return f"close {closed.rcvd.code} {closed.rcvd.reason[:80]}".strip()


def _message_kind(frame: str | bytes) -> str:
    message = orjson.loads(frame)
    kind = str(message.get("type"))
    if kind == "error":
        return f"error: {message['payload'][0].get('message', '?')[:50]}"
    if kind == "next" and message.get("payload", {}).get("errors"):
        return "next with errors"
    return kind


async def big_websocket_message(
    server: RunningServer, seconds: float, token: str, outcome: Outcome
) -> None:
    stop = time.monotonic() + seconds
    # 15 MB: under uvicorn's default --ws-max-size (16 MiB), so the frame reaches the app.
    size = 15_000_000
    sent = 0

    async def client() -> None:
        nonlocal sent
        while time.monotonic() < stop:
            socket_ = await _open(server, outcome)
            if socket_ is None:
                await asyncio.sleep(0.5)
                continue
            sent += 1
            query = _padded("{ __typename }", size, sent)
            message = {"id": "1", "type": "subscribe", "payload": {"query": query}}
            try:
                await socket_.send(orjson.dumps(message).decode())
                outcome.answers[_message_kind(await asyncio.wait_for(socket_.recv(), 30))] += 1
            except ConnectionClosed as closed:
                outcome.answers[_closed(closed)] += 1
            except TimeoutError:
                outcome.answers["no answer in 30 s"] += 1
            finally:
                await socket_.close()

    await asyncio.gather(client(), client())
    outcome.notes["messages"] = sent


async def slow_bodies(server: RunningServer, seconds: float, token: str, outcome: Outcome) -> None:
    stop = time.monotonic() + seconds
    port = _port(server)
    size = 16_384
    text = b'{"query": "{ __typename }", "padding": "'
    body = text + b"x" * (size - len(text) - 2) + b'"}'
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    sent_bytes = 0

    async def connection() -> None:
        nonlocal sent_bytes
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as error:
            outcome.answers[f"connect {type(error).__name__}"] += 1
            return
        answer = asyncio.ensure_future(reader.read(65536))
        try:
            writer.write(head)
            for byte in body:
                if answer.done() or time.monotonic() >= stop:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                sent_bytes += 1
                await asyncio.wait({answer}, timeout=0.1)
            if not answer.done():
                outcome.answers["no answer while sending (held open)"] += 1
            elif data := answer.result():
                status = int(data.split(b" ", 2)[1])
                outcome.http(status, "before the body was complete")
            else:
                outcome.answers["closed without an answer"] += 1
        except (ConnectionError, ValueError, IndexError) as error:
            outcome.answers[f"{type(error).__name__}"] += 1
        finally:
            answer.cancel()
            writer.close()

    await asyncio.gather(*(connection() for _ in range(50)))
    outcome.notes["body_bytes_sent"] = sent_bytes


async def _live_subscribers(base: str, http: httpx.AsyncClient) -> float:
    metrics = (await http.get(f"{base}/metrics")).text
    match = re.search(r"^cms_live_subscribers (\S+)", metrics, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


async def many_subscriptions(
    server: RunningServer, seconds: float, token: str, outcome: Outcome
) -> None:
    started = time.monotonic()
    stop = started + seconds
    base = server.url.rsplit("/", 1)[0]
    delivered: list[float] = []
    edit_at = 0.0
    closing = False

    async def listen(socket_: ClientConnection) -> None:
        try:
            while True:
                kind = _message_kind(await socket_.recv())
                outcome.answers[kind] += 1
                if kind == "next":
                    delivered.append(time.monotonic() - edit_at)
        except ConnectionClosed as closed:
            if not closing:
                outcome.answers[_closed(closed)] += 1

    opened = await asyncio.gather(*(_open(server, outcome) for _ in range(20)))
    sockets = [socket_ for socket_ in opened if socket_ is not None]
    listeners = [asyncio.ensure_future(listen(socket_)) for socket_ in sockets]
    for n in range(100):
        for socket_ in sockets:
            message = {"id": str(n), "type": "subscribe", "payload": {"query": SUBSCRIBE}}
            try:
                await socket_.send(orjson.dumps(message).decode())
            except ConnectionClosed:
                outcome.answers["send on a closed socket"] += 1
    outcome.notes["subscribe_messages"] = 100 * len(sockets)
    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.sleep(min(2.0, seconds / 4))
        outcome.notes["live_subscribers_before_edit"] = await _live_subscribers(base, http)
        version = (await http.post(server.url, json={"query": READ_VERSION})).json()
        edit_at = time.monotonic()
        response = await http.post(
            server.url,
            json={
                "query": EDIT,
                "variables": {
                    "v": version["data"]["article"]["version"],
                    "title": f"Stress relief {time.time_ns()}",
                },
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        outcome.http(response.status_code, f"edit {_graphql_detail(response)}")
        outcome.notes["edit_ms"] = round((time.monotonic() - edit_at) * 1000, 1)
        await asyncio.sleep(max(3.0, stop - time.monotonic()))
    closing = True
    for socket_ in sockets:
        await socket_.close()
    await asyncio.gather(*listeners, return_exceptions=True)
    outcome.notes["changes_delivered"] = len(delivered)
    if delivered:
        outcome.notes["last_delivery_ms"] = round(max(delivered) * 1000, 1)


# An attack runs for `seconds` and tallies what it saw in `outcome` as it goes.
Attack = Callable[[RunningServer, float, str, Outcome], Awaitable[None]]
ATTACKS: dict[str, Attack] = {
    "fan-out": fan_out,
    "fan-out-at-cap": fan_out_at_cap,
    "big-documents": big_documents,
    "big-ws-message": big_websocket_message,
    "slow-bodies": slow_bodies,
    "many-subscriptions": many_subscriptions,
}


async def _bounded(attack: Attack, server: RunningServer, seconds: float, token: str) -> Outcome:
    """The attack's outcome, cut off `GRACE` seconds after its end if it has not stopped."""
    outcome = Outcome()
    try:
        await asyncio.wait_for(attack(server, seconds, token, outcome), seconds + GRACE)
    except TimeoutError:
        outcome.answers[f"cut off {GRACE:g} s after its end"] += 1
    except Exception as error:  # noqa: BLE001 - reported in the table; the other attacks go on
        outcome.answers[f"attack failed: {error!r}"[:120]] += 1
    return outcome


def measure(name: str, server: RunningServer, seconds: float, token: str) -> Result:
    port = _port(server)
    before = rss_kib(server.pid)
    stop = multiprocessing.Event()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    prober = multiprocessing.Process(target=_probe, args=(port, server.pid, stop, sender))
    prober.start()
    started = time.monotonic()
    try:
        outcome = asyncio.run(_bounded(ATTACKS[name], server, seconds, token))
    finally:
        elapsed = time.monotonic() - started
        stop.set()
        latencies, failures, peak = receiver.recv()
        prober.join()
    time.sleep(1)  # let the server let go of what the attack's connections held
    after = rss_kib(server.pid)
    return Result(
        attack=name,
        seconds=round(elapsed, 1),
        probes=len(latencies),
        probe_failures=failures,
        healthz_p50_ms=round(_percentile(latencies, 0.5), 1),
        healthz_p99_ms=round(_percentile(latencies, 0.99), 1),
        healthz_max_ms=round(max(latencies, default=float("nan")), 1),
        rss_before_mb=round(before / 1024, 1),
        rss_after_mb=round(after / 1024, 1),
        rss_peak_mb=round(peak / 1024, 1),
        server_errors=outcome.server_errors,
        answers=dict(outcome.answers.most_common()),
        notes=outcome.notes,
        server_alive=after > 0,
    )


async def _seed(database_url: str, generated: Path) -> str:
    """Seed `seed/` and the generated articles; return an editor's token secret."""
    database = Database.from_settings(Settings(database_url=database_url, _env_file=None))
    try:
        await create_schema(database.engine)
        await seed_database(database, [REPO / "seed", generated])
        async with database.write_session() as session:
            _, secret = await create_token(session, name="attack", scopes=[Scope.WRITE])
    finally:
        await database.dispose()
    return secret


def markdown_table(results: list[Result]) -> str:
    """The results as a Markdown table, to paste into docs as they are."""
    lines = [
        "| attack | healthz p50 / p99 / max ms | RSS before / after / growth MB | 5xx "
        "| the server answered the attacker | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        answers = ", ".join(f"{key} x{count}" for key, count in r.answers.items())
        failed = f" ({r.probe_failures} probes failed)" if r.probe_failures else ""
        gone = "" if r.server_alive else " **server gone**"
        lines.append(
            f"| {r.attack} | {r.healthz_p50_ms:g} / {r.healthz_p99_ms:g} / "
            f"{r.healthz_max_ms:g}{failed} | {r.rss_before_mb:g} / {r.rss_after_mb:g} / "
            f"{r.rss_growth_mb:+.1f} | {r.server_errors} | {answers}{gone} "
            f"| {'PASS' if r.passed else 'FAIL'} |"
        )
    return "\n".join(lines)


def _commit() -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, cwd=REPO)
    return run.stdout.decode().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each attack")
    parser.add_argument("--database-url", help="a PostgreSQL server; default: a SQLite file")
    parser.add_argument("--only", action="append", choices=list(ATTACKS), help="repeatable")
    arguments = parser.parse_args()
    names = arguments.only or list(ATTACKS)
    console = Console()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="cms-attack-") as work:
        workdir = Path(work)
        log = workdir / "server.log"
        with scratch_database(arguments.database_url, workdir, "attack") as database_url:
            write_seed_files(GENERATED_ARTICLES, workdir / "generated")
            token = asyncio.run(_seed(database_url, workdir / "generated"))
            spec = ServerSpec("ours", "cms.http:create_app", {"CMS_DATABASE_URL": database_url})
            for name in names:
                # A fresh server per attack: memory one attack left behind is not the next's.
                with run_server(spec, cpu=0, probe_body=HOT.body, log=log) as server:
                    console.print(f"{name}: {arguments.seconds:g} s ...")
                    results.append(measure(name, server, arguments.seconds, token))
        if log.stat().st_size:
            shutil.copy(log, RESULTS / f"attack-{stamp}.log")
    database = "postgresql" if arguments.database_url else "sqlite"
    console.print(f"{database}, {arguments.seconds:g} s per attack, commit {_commit()}")
    console.print(markdown_table(results), markup=False, highlight=False, soft_wrap=True)
    for r in results:
        notes = ", ".join(f"{key} {value}" for key, value in r.notes.items() if key != "samples")
        console.print(f"{r.attack}: peak RSS {r.rss_peak_mb:g} MB, {r.probes} probes; {notes}")
    report = {
        "database": database,
        "seconds": arguments.seconds,
        "commit": _commit(),
        "load_average": os.getloadavg(),
        "targets": {
            "healthz_p99_ms": TARGET_P99_MS,
            "rss_growth_mb": TARGET_RSS_GROWTH_MB,
            "server_errors": 0,
        },
        "results": [
            {**asdict(r), "rss_growth_mb": round(r.rss_growth_mb, 1), "passed": r.passed}
            for r in results
        ],
    }
    out = RESULTS / f"attack-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    console.print(f"written to {out.relative_to(REPO)}")
    raise SystemExit(0 if all(r.passed for r in results) else 1)


if __name__ == "__main__":
    main()

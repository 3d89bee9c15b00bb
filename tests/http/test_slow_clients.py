"""Slow clients against a real server: a body trickled in is cut off at the request's time
limit, on the hot path as on the full one."""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import pytest

from cms.db import Database, create_schema
from cms.http import create_app
from cms.settings import Settings
from tests.live_server import live_server

TIME_LIMIT = 1.0
# How long a test keeps trickling before it gives up on an answer.
PATIENCE = 5.0


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, int]]:
    quick = settings.model_copy(update={"request_timeout": TIME_LIMIT, "webhooks_dispatch": False})
    asyncio.run(_create_schema(quick))
    with live_server(create_app(quick)) as url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        yield parts.hostname, parts.port


async def _create_schema(settings: Settings) -> None:
    database = Database.from_settings(settings)
    await create_schema(database.engine)
    await database.dispose()


def _trickle(address: tuple[str, int], head: bytes, piece: bytes) -> tuple[bytes, float]:
    """Send `head`, then `piece` every 0.1 s until the server answers and closes the
    connection (or `PATIENCE` runs out); the answer and the seconds it took."""
    answer = b""
    with socket.create_connection(address, timeout=PATIENCE) as sock:
        sock.sendall(head)
        started = time.monotonic()
        while time.monotonic() - started < PATIENCE:
            readable, _, _ = select.select([sock], [], [], 0.1)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    # Closed by the server while our last pieces were unread: the kernel resets
                    # rather than closes. What it answered before is in `answer` already.
                    break
                if not chunk:
                    break  # closed by the server
                answer += chunk
                continue
            try:
                sock.sendall(piece)
            except OSError:
                break
        return answer, time.monotonic() - started


def _status_and_body(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


def test_a_small_body_sent_slowly_is_cut_off_on_the_hot_path(server: tuple[str, int]) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: cms.test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2000\r\n\r\n"
    )
    answer, seconds = _trickle(server, head, b" ")
    status, body = _status_and_body(answer)
    assert status == 408
    assert body["errors"] == [
        {
            "message": f"The request body did not arrive within {TIME_LIMIT:g} s.",
            "extensions": {"code": "REQUEST_BODY_TIMEOUT"},
        }
    ]
    assert seconds < TIME_LIMIT + 1.5


def test_a_small_body_sent_in_pieces_within_the_limit_is_answered(
    server: tuple[str, int],
) -> None:
    body = b'{"query": "{ __typename }"}'
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: cms.test\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    for _ in range(2):  # the second is answered on the hot path
        with socket.create_connection(server, timeout=PATIENCE) as sock:
            sock.sendall(head + body[:10])
            time.sleep(0.2)
            sock.sendall(body[10:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status, answered = _status_and_body(answer)
        assert (status, answered["data"]) == (200, {"__typename": "Query"})


def test_a_streamed_body_sent_slowly_is_cut_off_with_408(server: tuple[str, int]) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: cms.test\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    answer, seconds = _trickle(server, head, b"1\r\n \r\n")
    status, body = _status_and_body(answer)
    assert status == 408
    assert body["errors"] == [
        {
            "message": f"The request body did not arrive within {TIME_LIMIT:g} s.",
            "extensions": {"code": "REQUEST_BODY_TIMEOUT"},
        }
    ]
    assert seconds < TIME_LIMIT + 1.5

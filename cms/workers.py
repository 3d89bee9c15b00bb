"""`cms serve --workers N`: uvicorn's supervisor, each worker listening on a socket of its own.

With one socket shared by every worker, whichever worker wakes first accepts a whole burst of
new connections (measured: all 16 of wrk's on one worker in about half the runs), and a
keep-alive connection stays where it landed. On Linux each worker listens instead on its own
socket bound to the same address with `SO_REUSEPORT`, and the kernel spreads connections over
them. Elsewhere the workers share one socket, as uvicorn makes it.

A module of its own that imports little: each worker imports it before it can answer the
supervisor's health checks.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

__all__ = ["run_workers"]

logger = logging.getLogger("uvicorn.error")


class _PerWorkerSocket(socket.socket):
    """In the supervisor: bound, never listening, so it holds the address and takes no
    connections. Each worker receives it by pickling (how uvicorn hands its sockets over) as a
    new socket bound to the same address, which listens once that worker starts serving."""

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return _bind_shared_port, (self.family, host, port)


def _bind_shared_port(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = _PerWorkerSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _per_worker_socket(config: Config) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    try:
        if config.port:
            # A plain bind first: SO_REUSEPORT alone would let a second server on the same
            # port start and share its connections, where it must fail as address in use.
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((config.host, config.port))
        return _bind_shared_port(family, config.host, config.port)
    except OSError as error:
        logger.error(error)
        sys.exit(STARTUP_FAILURE)


def run_workers(config: Config) -> None:
    """Serve `config.workers` processes until told to stop (SIGINT, SIGTERM)."""
    if hasattr(socket, "SO_REUSEPORT") and config.uds is None and config.fd is None:
        sock = _per_worker_socket(config)
    else:
        sock = config.bind_socket()
    Multiprocess(config, sockets=[sock]).run()

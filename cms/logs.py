"""Logs: one JSON object a line (or one plain line a record for a person at a terminal), carrying
the id of the request being served; never colour codes. The access log takes a cheaper way than
`logging`'s records: each request's facts go into a buffer, formatted and written out in batches."""

from __future__ import annotations

import asyncio
import contextvars
import enum
import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import orjson

__all__ = [
    "ACCESS_LOGGER",
    "AccessLogHandler",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "flush_access_log",
    "log_access",
    "request_id_var",
    "resolve_log_format",
    "uvicorn_log_config",
]

ACCESS_LOGGER = "cms.http.access"
# Kinds of request (method, path, status, operation) whose JSON line parts are kept.
_KINDS_KEPT = 1000
_PIPE_BUF = 4096
# An access line not yet written: when, method, path, status, seconds, operation, request id.
_Access = tuple[float, str, str, int, float, object, str | None]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
_access_log = logging.getLogger(ACCESS_LOGGER)


class LogFormat(enum.StrEnum):
    AUTO = "auto"
    JSON = "json"
    TEXT = "text"


def resolve_log_format(wanted: LogFormat, stream: IO[str] | None = None) -> LogFormat:
    """`auto` is plain text for a person at a terminal, JSON for a file, a pipe or a collector."""
    if wanted is not LogFormat.AUTO:
        return wanted
    stream = stream or sys.stderr
    return LogFormat.TEXT if stream.isatty() else LogFormat.JSON


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """`12:00:00 INFO cms.http message key=value ...`: for a person, without colour codes."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        parts = [when, record.levelname, record.name, record.getMessage()]
        request_id = request_id_var.get()
        if request_id is not None:
            parts.append(f"request_id={request_id}")
        message = parts[-1]
        # Facts the message does not already say, as key=value.
        parts.extend(
            f"{k}={v}"
            for k, v in _extras(record).items()
            if v is not None and str(v) not in message
        )
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class AccessLogHandler(logging.Handler):
    """The access log's sink: each request's facts are kept as they are, and written out as
    lines (and flushed) every `flush_interval` seconds or past `buffer_lines`, and at exit, so
    that a request costs no formatting, no write and no flush of its own (a line formatted among
    a request's work cost ~10 us in a busy server, its caches cold; in a batch, ~2 us). While
    one exists, `log_access` hands it requests directly, without a `LogRecord` each."""

    active: AccessLogHandler | None = None

    def __init__(
        self,
        log_format: str = LogFormat.JSON,
        stream: IO[str] | None = None,
        flush_interval: float = 0.25,
        buffer_lines: int = 256,
    ) -> None:
        super().__init__()
        self.json = LogFormat(log_format) is LogFormat.JSON
        self.setFormatter(JsonFormatter() if self.json else TextFormatter())
        self.stream = stream or sys.stderr
        self.flush_interval = flush_interval
        self.buffer_lines = buffer_lines
        # Lines of other records, formatted already, and requests, in the order they came.
        self._pending: list[str | _Access] = []
        self._json_parts: dict[tuple[str, str, int, str | None], tuple[str, str, str]] = {}
        self._scheduled_on: asyncio.AbstractEventLoop | None = None
        AccessLogHandler.active = self

    def emit(self, record: logging.LogRecord) -> None:
        self._add(self.format(record))

    def add_request(
        self,
        method: str,
        path: str,
        status: int,
        elapsed: float,
        operation: object,
        request_id: str | None,
    ) -> None:
        """A request's access line, to be formatted when written out."""
        self._add((time.time(), method, path, status, elapsed, operation, request_id))

    def _add(self, item: str | _Access) -> None:
        self._pending.append(item)
        if len(self._pending) >= self.buffer_lines:
            self.flush()
            return
        if self._scheduled_on is not None and self._scheduled_on.is_running():
            return  # a flush is due on a running loop (asking which loop runs costs a syscall)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no loop to flush later: write now
            return
        self._scheduled_on = loop
        loop.call_later(self.flush_interval, self.flush)

    def flush(self) -> None:
        self._scheduled_on = None
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        lines = [item if isinstance(item, str) else self.access_line(*item) for item in pending]
        try:
            for chunk in _chunks(lines):
                self.stream.write(chunk)
                self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream loses its lines, not the app
            pass

    def close(self) -> None:
        self.flush()
        if AccessLogHandler.active is self:
            AccessLogHandler.active = None
        super().close()

    def access_line(
        self,
        when: float,
        method: str,
        path: str,
        status: int,
        elapsed: float,
        operation: object,
        request_id: str | None,
    ) -> str:
        duration_ms = round(elapsed * 1000, 2)
        if self.json:
            head, middle, tail = self._json_parts_of(method, path, status, operation)
            return (
                f'{{"time":"{_iso_time(when)}"{head}{orjson.dumps(request_id).decode()}'
                f"{middle}{duration_ms!r}{tail}"
            )
        return (
            f"{datetime.fromtimestamp(when).strftime('%H:%M:%S')} INFO {ACCESS_LOGGER} {method}"
            f" {path} {status} {duration_ms}ms operation={operation} request_id={request_id}"
        )

    def _json_parts_of(
        self, method: str, path: str, status: int, operation: object
    ) -> tuple[str, str, str]:
        # What a kind of request's lines share is serialised once.
        if operation is not None and not isinstance(operation, str):
            return _json_parts(method, path, status, operation)
        key = (method, path, status, operation)
        parts = self._json_parts.get(key)
        if parts is None:
            parts = _json_parts(method, path, status, operation)
            if len(self._json_parts) < _KINDS_KEPT:
                self._json_parts[key] = parts
        return parts


def _json_parts(method: str, path: str, status: int, operation: object) -> tuple[str, str, str]:
    """A JSON access line but for its time, request id and duration, in the three pieces
    around them; the keys in `JsonFormatter`'s order, then the request's fields."""

    def dumps(value: object) -> str:
        return orjson.dumps(value, default=str).decode()

    return (
        f',"level":"info","logger":{dumps(ACCESS_LOGGER)},'
        f'"message":{dumps(f"{method} {path} {status}")},"request_id":',
        f',"status":{status},"duration_ms":',
        f',"method":{dumps(method)},"path":{dumps(path)},"operation":{dumps(operation)}}}',
    )


def _chunks(lines: list[str]) -> Iterator[str]:
    """Whole lines in chunks of at most PIPE_BUF bytes: a write that small to a pipe is atomic,
    so the lines of several workers sharing one stderr never interleave mid-line."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > _PIPE_BUF:
            yield "".join(chunk)
            chunk, size = [], 0
        chunk.append(line + "\n")
        size += len(line) + 1
    if chunk:
        yield "".join(chunk)


_second: list[Any] = [None, ""]


def _iso_time(when: float) -> str:
    """`datetime.fromtimestamp(when, UTC).isoformat()`, the date and time formatted once a
    second."""
    second = int(when)
    if _second[0] != second:
        _second[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{int((when - second) * 1e6):06d}+00:00"


def flush_access_log() -> None:
    """Write out the access lines still buffered (at shutdown)."""
    if AccessLogHandler.active is not None:
        AccessLogHandler.active.flush()


def log_access(
    *,
    method: str,
    path: str,
    status: int,
    elapsed: float,
    operation: object,
    request_id: str | None,
) -> None:
    """One access log line for an answered request, when the access log is on."""
    if not _access_log.isEnabledFor(logging.INFO):
        return
    handler = AccessLogHandler.active
    if handler is not None:
        handler.add_request(method, path, status, elapsed, operation, request_id)
        return
    duration_ms = round(elapsed * 1000, 2)
    _access_log.info(
        "%s %s %s", method, path, status,
        extra={"request_id": request_id, "status": status, "duration_ms": duration_ms,
               "method": method, "path": path, "operation": operation},
    )  # fmt: skip


def uvicorn_log_config(
    level: str = "INFO", log_format: LogFormat = LogFormat.AUTO
) -> dict[str, Any]:
    """A logging config for uvicorn (and everything else) that writes to stderr: JSON lines, or
    plain lines for a person at a terminal (`auto`); the access log through its buffered
    handler."""
    chosen = resolve_log_format(log_format)
    formatter = JsonFormatter if chosen is LogFormat.JSON else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"cms": {"()": formatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "cms"},
            "access": {"()": AccessLogHandler, "log_format": str(chosen)},
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            # Its start-up lines are replaced by `cms serve`'s own one line.
            "uvicorn.error": {"handlers": [], "propagate": True, "level": "WARNING"},
            # The access log is ours (cms.http.access), with request ids and operation names.
            "uvicorn.access": {"handlers": [], "propagate": False},
            "alembic": {"level": "WARNING"},
            ACCESS_LOGGER: {"handlers": ["access"], "propagate": False, "level": "INFO"},
        },
    }

"""The slow-query log: each SQL statement slower than `CMS_SLOW_QUERY_MS` is logged as a warning
with its duration, its text (never its parameters, which may hold content) and the id of the
request that sent it."""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from cms.logs import request_id_var

__all__ = ["log_if_slow", "log_slow_queries"]

logger = logging.getLogger("cms.db.slow")
_STARTED = "_cms_statement_started"
_STATEMENT_LIMIT = 2000


def log_slow_queries(engine: sa.Engine, threshold_ms: float) -> None:
    """Time every statement `engine` runs; 0 or less switches the log off."""
    if threshold_ms <= 0:
        return

    # The start is kept on the statement's own execution context: a statement that fails never
    # reaches "after", and leaves nothing behind to confuse the next one.
    def started(_conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any,
                _executemany: bool) -> None:  # fmt: skip
        if context is not None:
            setattr(context, _STARTED, time.perf_counter())

    def finished(_conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                 _executemany: bool) -> None:  # fmt: skip
        start = getattr(context, _STARTED, None)
        if start is None:
            return
        log_if_slow(statement, (time.perf_counter() - start) * 1000, threshold_ms)

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", finished)


def log_if_slow(statement: str, elapsed_ms: float, threshold_ms: float) -> None:
    """Log one statement that took `elapsed_ms` if that is `threshold_ms` or more (and it is on)."""
    if 0 < threshold_ms <= elapsed_ms:
        logger.warning(
            "slow query: %.1f ms", elapsed_ms,
            extra={"duration_ms": round(elapsed_ms, 2),
                   "statement": " ".join(statement.split())[:_STATEMENT_LIMIT],
                   "request_id": request_id_var.get()},
        )  # fmt: skip

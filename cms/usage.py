"""Snippet usage counted in memory and written in batches, off the request path.

Requests only add to a dict; `flush` writes the sums in one transaction, from a background loop
of the server (every `usage_flush_interval` seconds) and once more at shutdown. Counts that fail
to write are kept for the next flush, so a database blip loses nothing; a crash loses at most
one interval's counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database, as_database
from cms.partners import UsageKey, add_usage

__all__ = ["UsageBuffer"]

logger = logging.getLogger("cms.usage")


class UsageBuffer:
    def __init__(self, database: Database | AsyncEngine) -> None:
        self._database = as_database(database)
        self._counts: Counter[UsageKey] = Counter()
        self._lock = asyncio.Lock()
        self._day = date.min
        self._day_ends = 0.0  # time.time() at which `_day` is over

    def add(self, partner_id: int | None, snippets: Iterable[tuple[str, str]]) -> None:
        """Count one serving of each (article slug, benefit slug), today (UTC)."""
        day = self._today()
        for article_slug, benefit_slug in snippets:
            self._counts[(partner_id, article_slug, benefit_slug, day)] += 1

    def _today(self) -> date:
        # Worked out once a day, not at every hit: POSIX days are 86,400 s, so the UTC date
        # changes only at a multiple of it.
        now = time.time()
        if now >= self._day_ends:
            self._day = datetime.fromtimestamp(now, UTC).date()
            self._day_ends = (now // 86_400 + 1) * 86_400
        return self._day

    @property
    def pending(self) -> int:
        return sum(self._counts.values())

    async def flush(self) -> int:
        """Write what has been counted; return how many servings were written."""
        async with self._lock:
            counts, self._counts = self._counts, Counter()
            if not counts:
                return 0
            try:
                async with self._database.write_session() as session:
                    await add_usage(session, counts)
            except Exception:
                self._counts.update(counts)
                raise
            return sum(counts.values())

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Flush every `interval` seconds until `stop` is set, then once more."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - kept for the next try; the server goes on
                logger.warning("writing snippet usage failed; retrying later", exc_info=True)

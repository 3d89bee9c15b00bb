"""Snippet usage counted in memory: each serving on the UTC day it was served, written in one go."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from cms import usage
from cms.db import Database
from cms.models import PartnerUsage
from cms.usage import UsageBuffer

pytestmark = pytest.mark.anyio


async def test_each_serving_counts_on_the_utc_day_it_was_served(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    midnight = datetime(2026, 12, 3, tzinfo=UTC).timestamp()
    now = [midnight - 0.5]
    monkeypatch.setattr(usage.time, "time", lambda: now[0])
    buffer = UsageBuffer(database)
    buffer.add(None, [("a", "b")])
    now[0] = midnight
    buffer.add(None, [("a", "b"), ("a", "c")])
    buffer.add(None, [("a", "b")])
    assert await buffer.flush() == 4
    async with database.read_session() as session:
        statement = select(PartnerUsage.day, PartnerUsage.benefit_slug, PartnerUsage.count)
        rows = (await session.exec(statement.order_by(col(PartnerUsage.id)))).all()
    assert sorted(rows) == [
        (date(2026, 12, 2), "b", 1),
        (date(2026, 12, 3), "b", 2),
        (date(2026, 12, 3), "c", 1),
    ]

"""The webhook dispatcher: passes of fan-out, claim, send and record, and the loop that runs
them in the server process beside (never inside) the requests that change content.

No transaction is open while a receiver is being waited for: a pass claims in one short
transaction, sends, then records the outcomes in another.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from cms.db import Database, as_database
from cms.models import DeliveryStatus, utc_now
from cms.settings import Settings
from cms.webhooks import (
    Claim,
    Outcome,
    RetryPolicy,
    claim_due,
    delivery_headers,
    fan_out,
    record_outcome,
)

__all__ = ["DispatchReport", "dispatch_once", "http_client", "retry_policy", "run_dispatcher"]

logger = logging.getLogger(__name__)
BATCH = 50


@dataclass(frozen=True)
class DispatchReport:
    fanned_out: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.webhooks_max_attempts,
        base=settings.webhooks_backoff_base,
        cap=settings.webhooks_backoff_cap,
    )


def http_client(settings: Settings) -> httpx.AsyncClient:
    # Redirects are not followed: the signature is for the configured URL only.
    return httpx.AsyncClient(timeout=settings.webhooks_timeout, follow_redirects=False)


async def send(client: httpx.AsyncClient, claim: Claim, *, now: datetime) -> Outcome:
    headers = delivery_headers(claim, timestamp=int(now.timestamp()))
    try:
        response = await client.post(claim.url, content=claim.body, headers=headers)
    except httpx.HTTPError as error:
        return Outcome(status_code=None, error=f"{type(error).__name__}: {error}")
    if 200 <= response.status_code < 300:
        return Outcome(status_code=response.status_code)
    return Outcome(status_code=response.status_code, error=f"HTTP {response.status_code}")


async def dispatch_once(
    database: Database | AsyncEngine,
    client: httpx.AsyncClient,
    *,
    policy: RetryPolicy,
    now: datetime | None = None,
    jitter: Callable[[], float] = random.random,
) -> DispatchReport:
    """One pass. `now` fixes the clock for the whole pass (tests drive time with it); by
    default each step reads the real clock."""

    def clock() -> datetime:
        return now if now is not None else utc_now()

    database = as_database(database)
    async with database.write_session() as session:
        fanned_out = await fan_out(session, now=clock())
    # The lease outlasts the request's timeout, so a live sender is never overtaken.
    lease = timedelta(seconds=_timeout_seconds(client) + 30)
    async with database.write_session() as session:
        claims = await claim_due(session, now=clock(), lease=lease, limit=BATCH)
    outcomes = await asyncio.gather(*(send(client, claim, now=clock()) for claim in claims))
    statuses: list[DeliveryStatus] = []
    async with database.write_session() as session:
        for claim, outcome in zip(claims, outcomes, strict=True):
            delivery = await record_outcome(
                session, claim, outcome, now=clock(), policy=policy, jitter=jitter()
            )
            if delivery is not None:
                statuses.append(delivery.status)
    return DispatchReport(
        fanned_out=fanned_out,
        delivered=statuses.count(DeliveryStatus.DELIVERED),
        retrying=statuses.count(DeliveryStatus.PENDING),
        dead=statuses.count(DeliveryStatus.DEAD),
    )


def _timeout_seconds(client: httpx.AsyncClient) -> float:
    timeouts = client.timeout.as_dict().values()
    return max((t for t in timeouts if t is not None), default=0.0)


async def run_dispatcher(
    database: Database | AsyncEngine, settings: Settings, stop: asyncio.Event
) -> None:
    """Pass after pass until `stop` is set; a pass that fails is logged and the loop goes on."""
    policy = retry_policy(settings)
    async with http_client(settings) as client:
        while not stop.is_set():
            try:
                report = await dispatch_once(database, client, policy=policy)
            except Exception:
                logger.exception("webhook dispatch pass failed")
                report = DispatchReport()
            if report.attempted >= BATCH:
                continue  # more may be due at once
            try:
                await asyncio.wait_for(stop.wait(), settings.webhooks_poll_interval)
            except TimeoutError:
                pass

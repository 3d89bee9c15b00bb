"""Webhooks: endpoints, the deliveries made from outbox events, signing and the retry schedule.

Content changes only write the outbox (`cms.outbox`). The dispatcher (`cms.dispatcher`) later
fans each event out into one delivery per subscribed endpoint, claims due deliveries, sends
them and records how it went here. Delivery is at least once: a receiver dedupes on the
`X-CMS-Idempotency-Key` header, which is the same on every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlmodel import col, select

from cms.db import ReadSession, WriteSession
from cms.errors import BadUserInput, NotFound
from cms.events import EventType
from cms.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Claim",
    "DeliveryRow",
    "Outcome",
    "RetryPolicy",
    "add_endpoint",
    "backoff_delay",
    "claim_due",
    "delivery_headers",
    "fan_out",
    "list_deliveries",
    "list_endpoints",
    "record_outcome",
    "remove_endpoint",
    "sign",
    "verify_signature",
]

SECRET_PREFIX = "whsec_"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 with the endpoint's secret over `<timestamp>.<body>`. The
    timestamp is signed too, so a captured request cannot be replayed later with a new one."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str, *, timestamp: str, body: bytes, signature: str, now: datetime, tolerance: int = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def backoff_delay(attempts: int, *, base: float, cap: float, jitter: float) -> timedelta:
    """The wait after `attempts` failed attempts: `base * 2**(attempts-1)` capped at `cap`, of
    which the upper half is scaled by `jitter` (0 <= jitter < 1), so receivers that failed
    together are not all retried at the same moment."""
    if attempts < 1 or not 0 <= jitter < 1:
        raise ValueError("attempts must be >= 1 and jitter in [0, 1)")
    ceiling = min(cap, base * 2 ** (attempts - 1))
    return timedelta(seconds=ceiling / 2 + ceiling / 2 * jitter)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: float = 10.0
    cap: float = 3600.0


def _event_types(values: Iterable[str]) -> str:
    known = {member.value for member in EventType}
    chosen = sorted(set(values))
    unknown = [value for value in chosen if value not in known]
    if not chosen or unknown:
        raise BadUserInput(
            f"Unknown or missing event type(s) {unknown or ''}; choose from {sorted(known)}."
        )
    return " ".join(chosen)


async def add_endpoint(
    session: WriteSession, *, url: str, event_types: Iterable[str], secret: str | None = None
) -> WebhookEndpoint:
    """Store an endpoint; it receives the events that occur from now on. Without a secret one
    is generated."""
    if not url.startswith(("http://", "https://")):
        raise BadUserInput(f"A webhook URL must start with http:// or https://, not {url!r}.")
    endpoint = WebhookEndpoint(
        url=url,
        secret=secret or SECRET_PREFIX + secrets.token_urlsafe(32),
        event_types=_event_types(event_types),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_endpoints(session: ReadSession) -> list[WebhookEndpoint]:
    return list(
        (await session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id)))).all()
    )


async def remove_endpoint(session: WriteSession, *, endpoint_id: int) -> WebhookEndpoint:
    """Delete an endpoint and, with it, its deliveries."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    await session.delete(endpoint)
    await session.flush()
    return endpoint


async def fan_out(session: WriteSession, *, now: datetime, limit: int = 500) -> int:
    """Make the deliveries of events not yet fanned out, one per active endpoint that subscribes
    to the event's type and existed when it occurred. Returns how many were made.

    On PostgreSQL the events are locked with SKIP LOCKED, so dispatchers in several processes
    never fan out the same event twice (the unique (event, endpoint) pair would refuse it)."""
    events = (
        await session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.fanned_out_at).is_(None))
            .order_by(col(OutboxEvent.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not events:
        return 0
    endpoints = (
        await session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.active).is_(True)))
    ).all()
    made = 0
    for event in events:
        assert event.id is not None
        for endpoint in endpoints:
            assert endpoint.id is not None
            if event.event_type in endpoint.event_types.split() and (
                endpoint.created_at <= event.created_at
            ):
                session.add(
                    WebhookDelivery(
                        event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=now,
                        created_at=now,
                    )
                )  # fmt: skip
                made += 1
        event.fanned_out_at = now
        session.add(event)
    await session.flush()
    return made


@dataclass(frozen=True)
class Claim:
    """One attempt at one delivery, with everything needed to send it outside a transaction."""

    delivery_id: int
    attempt: int
    url: str
    secret: str
    event_type: str
    idempotency_key: str
    article_version: int
    body: bytes


async def claim_due(
    session: WriteSession, *, now: datetime, lease: timedelta, limit: int = 50
) -> list[Claim]:
    """Take pending deliveries that are due, count the attempt and lease them until `now +
    lease`: if this process dies while sending, another one retries after the lease.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint deliveries.
    SQLite: the claim runs under the single write lock (`Database.write_session`), which does
    the same."""
    rows = (
        await session.exec(
            select(WebhookDelivery, OutboxEvent, WebhookEndpoint)
            .join(OutboxEvent, col(OutboxEvent.id) == WebhookDelivery.event_id)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                col(WebhookDelivery.next_attempt_at) <= now,
                col(WebhookEndpoint.active).is_(True),
            )
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
    ).all()
    claims = []
    for delivery, event, endpoint in rows:
        assert delivery.id is not None
        delivery.attempts += 1
        delivery.next_attempt_at = now + lease
        session.add(delivery)
        claims.append(
            Claim(
                delivery_id=delivery.id, attempt=delivery.attempts, url=endpoint.url,
                secret=endpoint.secret, event_type=event.event_type,
                idempotency_key=event.idempotency_key, article_version=event.article_version,
                body=orjson.dumps(event.payload),
            )
        )  # fmt: skip
    await session.flush()
    return claims


def delivery_headers(claim: Claim, *, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "backwalk-cms-webhooks",
        "X-CMS-Event": claim.event_type,
        "X-CMS-Idempotency-Key": claim.idempotency_key,
        "X-CMS-Article-Version": str(claim.article_version),
        "X-CMS-Delivery-Attempt": str(claim.attempt),
        "X-CMS-Timestamp": str(timestamp),
        "X-CMS-Signature": sign(claim.secret, timestamp, claim.body),
    }


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: the receiver's status code, or the error that stopped it."""

    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def record_outcome(
    session: WriteSession,
    claim: Claim,
    outcome: Outcome,
    *,
    now: datetime,
    policy: RetryPolicy,
    jitter: float,
) -> WebhookDelivery | None:
    """Mark the delivery delivered, due again after a backoff, or dead after the last attempt.
    None when it is gone meanwhile (its endpoint was removed)."""
    delivery = await session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
    if delivery is None:
        return None
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error[:500] if outcome.error else None
    if outcome.delivered:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= policy.max_attempts:
        delivery.status = DeliveryStatus.DEAD
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + backoff_delay(
            delivery.attempts, base=policy.base, cap=policy.cap, jitter=jitter
        )
    session.add(delivery)
    await session.flush()
    return delivery


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    event_type: str
    article_slug: str
    article_version: int
    idempotency_key: str
    url: str


async def list_deliveries(session: ReadSession, *, limit: int = 50) -> Sequence[DeliveryRow]:
    """The most recent deliveries first, with their event and endpoint."""
    rows = (
        await session.exec(
            select(WebhookDelivery, OutboxEvent, WebhookEndpoint)
            .join(OutboxEvent, col(OutboxEvent.id) == WebhookDelivery.event_id)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
            .order_by(col(WebhookDelivery.id).desc())
            .limit(limit)
        )
    ).all()
    return [
        DeliveryRow(
            delivery,
            event.event_type,
            event.article_slug,
            event.article_version,
            event.idempotency_key,
            ep.url,
        )  # fmt: skip
        for delivery, event, ep in rows
    ]

"""Webhooks against a real local receiver: one signed delivery per change and endpoint, sent
beside the editor's request, retried with backoff while the receiver is down, dead after the
last attempt. Time is driven by passing `now` to the dispatcher, not by sleeping."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from cms.access import Scope
from cms.content import save_article_document
from cms.db import session_scope
from cms.dispatcher import DispatchReport, dispatch_once
from cms.http import create_app
from cms.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint, utc_now
from cms.settings import Settings
from cms.webhooks import (
    RetryPolicy,
    add_endpoint,
    backoff_delay,
    claim_due,
    fan_out,
    sign,
    verify_signature,
)
from cms.workflow import apply_due
from tests.conftest import GraphQL, TokenFactory
from tests.documents import article_document
from tests.graphql.test_mutations import BENEFIT_UPDATE, UNPUBLISH
from tests.live_server import free_port, live_server
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.anyio

POLICY = RetryPolicy(max_attempts=4, base=10, cap=60)


def no_jitter() -> float:
    return 0.0


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with live_server(receiver.app()) as url:
        yield receiver, url
        receiver.released.set()  # let a held request finish so the server can stop


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def _add(engine: AsyncEngine, url: str, *events: str) -> WebhookEndpoint:
    async with session_scope(engine) as session:
        return await add_endpoint(session, url=url, event_types=events)


async def _events(engine: AsyncEngine) -> list[OutboxEvent]:
    async with session_scope(engine) as session:
        return list((await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all())


async def _deliveries(engine: AsyncEngine) -> list[WebhookDelivery]:
    async with session_scope(engine) as session:
        statement = select(WebhookDelivery).order_by(WebhookDelivery.id)
        return list((await session.exec(statement)).all())


def _signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(
        secret.encode(), headers["x-cms-timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["x-cms-signature"], f"sha256={expected}")


# --- pure parts ---------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"event":"article.updated"}'
    digest = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1700000000, body) == f"sha256={digest}"


def test_a_receiver_refuses_a_changed_body_a_wrong_secret_or_an_old_timestamp() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = str(int(now.timestamp()))
    body = b'{"a":1}'
    signature = sign("key", int(stamp), body)

    def verify(secret: str, body: bytes, now: datetime) -> bool:
        return verify_signature(secret, timestamp=stamp, body=body, signature=signature, now=now)

    assert verify("key", body, now) is True
    assert verify("key", b'{"a":2}', now) is False
    assert verify("other", body, now) is False
    assert verify("key", body, now + timedelta(minutes=6)) is False


def test_backoff_doubles_from_the_base_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    def delays(jitter: float) -> list[float]:
        return [
            backoff_delay(n, base=10, cap=60, jitter=jitter).total_seconds() for n in range(1, 6)
        ]

    assert delays(0.0) == [5.0, 10.0, 20.0, 30.0, 30.0]
    assert delays(0.5) == [7.5, 15.0, 30.0, 45.0, 45.0]
    with pytest.raises(ValueError):
        backoff_delay(1, base=10, cap=60, jitter=1.0)


# --- delivery -----------------------------------------------------------------------------------


async def test_an_edit_reaches_each_subscribed_endpoint_once_signed_with_key_and_version(
    seeded: AsyncEngine,
    graphql: GraphQL,
    make_token: TokenFactory,
    receiver: tuple[Receiver, str],
    http: httpx.AsyncClient,
) -> None:
    inbox, url = receiver
    everything = await _add(seeded, f"{url}/all", "article.updated", "article.unpublished")
    updates = await _add(seeded, f"{url}/updates", "article.updated")
    token = await make_token(Scope.WRITE, Scope.PUBLISH)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Calm"}}, token=token)
    await graphql(UNPUBLISH, {"slug": "back-walk", "v": 2}, token=token)

    report = await dispatch_once(seeded, http, policy=POLICY, now=utc_now(), jitter=no_jitter)
    assert report == DispatchReport(fanned_out=3, delivered=3)
    again = await dispatch_once(seeded, http, policy=POLICY, now=utc_now(), jitter=no_jitter)
    assert again == DispatchReport()

    # The seed's events (the article, its German translation) came before the endpoints
    # existed, so they are not sent.
    _, _, updated, unpublished = await _events(seeded)
    sent = sorted(inbox.received, key=lambda r: (r.headers["x-cms-article-version"], r.path))
    assert [(r.path, r.headers["x-cms-event"]) for r in sent] == [
        ("/all", "article.updated"),
        ("/updates", "article.updated"),
        ("/all", "article.unpublished"),
    ]
    for request, event, endpoint in [
        (sent[0], updated, everything),
        (sent[1], updated, updates),
        (sent[2], unpublished, everything),
    ]:
        assert _signed_by(endpoint.secret, request.headers, request.body)
        assert request.headers["x-cms-idempotency-key"] == event.idempotency_key
        assert request.headers["x-cms-article-version"] == str(event.article_version)
        assert request.headers["x-cms-delivery-attempt"] == "1"
        assert orjson.loads(request.body) == event.payload
    assert [event.article_version for event in (updated, unpublished)] == [2, 3]
    assert [(d.status, d.attempts, d.last_status_code) for d in await _deliveries(seeded)] == [
        (DeliveryStatus.DELIVERED, 1, 200)
    ] * 3


async def test_a_receiver_that_is_down_is_retried_with_backoff_and_gets_the_event_once_back(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, http: httpx.AsyncClient
) -> None:
    port = free_port()  # nothing listens here yet: connection refused
    endpoint = await _add(seeded, f"http://127.0.0.1:{port}/hook", "article.updated")
    token = await make_token(Scope.WRITE)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Calm"}}, token=token)
    t0 = utc_now()

    async def dispatch(at: datetime) -> DispatchReport:
        return await dispatch_once(seeded, http, policy=POLICY, now=at, jitter=no_jitter)

    assert await dispatch(t0) == DispatchReport(fanned_out=1, retrying=1)
    [delivery] = await _deliveries(seeded)
    assert (delivery.attempts, delivery.last_status_code) == (1, None)
    assert delivery.last_error is not None and delivery.last_error.startswith("ConnectError")
    assert delivery.next_attempt_at == t0 + timedelta(seconds=5)
    assert await dispatch(t0 + timedelta(seconds=4)) == DispatchReport()  # not due yet
    assert await dispatch(t0 + timedelta(seconds=5)) == DispatchReport(retrying=1)
    [delivery] = await _deliveries(seeded)
    assert delivery.next_attempt_at == t0 + timedelta(seconds=15)

    inbox = Receiver()
    inbox.answers.append(500)  # up again, but failing once more
    with live_server(inbox.app(), port=port):
        assert await dispatch(t0 + timedelta(seconds=15)) == DispatchReport(retrying=1)
        [delivery] = await _deliveries(seeded)
        assert (delivery.attempts, delivery.last_status_code) == (3, 500)
        assert delivery.next_attempt_at == t0 + timedelta(seconds=35)
        assert await dispatch(t0 + timedelta(seconds=35)) == DispatchReport(delivered=1)
        assert await dispatch(t0 + timedelta(hours=1)) == DispatchReport()

    [event] = [
        e
        for e in await _events(seeded)
        if e.event_type == "article.updated" and "locale" not in e.payload["article"]
    ]
    assert [r.headers["x-cms-delivery-attempt"] for r in inbox.received] == ["3", "4"]
    assert {r.headers["x-cms-idempotency-key"] for r in inbox.received} == {event.idempotency_key}
    assert all(_signed_by(endpoint.secret, r.headers, r.body) for r in inbox.received)
    [delivery] = await _deliveries(seeded)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED, 4, 200,
    )  # fmt: skip
    assert (delivery.last_error, delivery.next_attempt_at) == (None, None)


async def test_after_the_last_attempt_a_delivery_is_dead_and_no_longer_sent(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory, http: httpx.AsyncClient
) -> None:
    await _add(seeded, f"http://127.0.0.1:{free_port()}/hook", "article.updated")
    token = await make_token(Scope.WRITE)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Calm"}}, token=token)
    policy = RetryPolicy(max_attempts=2, base=10, cap=60)
    t0 = utc_now()
    first = await dispatch_once(seeded, http, policy=policy, now=t0, jitter=no_jitter)
    later = t0 + timedelta(seconds=5)
    last = await dispatch_once(seeded, http, policy=policy, now=later, jitter=no_jitter)
    never = t0 + timedelta(days=1)
    after = await dispatch_once(seeded, http, policy=policy, now=never, jitter=no_jitter)
    assert (first, last, after) == (
        DispatchReport(fanned_out=1, retrying=1), DispatchReport(dead=1), DispatchReport(),
    )  # fmt: skip
    [delivery] = await _deliveries(seeded)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.DEAD, 2, None,
    )  # fmt: skip


async def test_the_editors_request_returns_while_the_server_still_waits_on_the_receiver(
    seeded: AsyncEngine,
    settings: Settings,
    make_token: TokenFactory,
    receiver: tuple[Receiver, str],
) -> None:
    """The receiver holds its answer until after the mutation has returned; a request that
    waited for delivery could not return at all."""
    inbox, url = receiver
    inbox.released.clear()
    await _add(seeded, f"{url}/hook", "article.updated")
    token = await make_token(Scope.WRITE)
    server_settings = settings.model_copy(update={"webhooks_poll_interval": 0.02})
    with live_server(create_app(server_settings)) as cms:
        async with httpx.AsyncClient(base_url=cms, timeout=10) as client:
            response = await client.post(
                "/graphql",
                json={"query": BENEFIT_UPDATE, "variables": {"v": 1, "input": {"title": "Calm"}}},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.json()["data"]["benefitUpdate"]["article"]["version"] == 2
        assert _wait_until(lambda: len(inbox.received) == 1)
        [held] = await _deliveries(seeded)
        assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 1)
        inbox.released.set()
        assert await _await_delivered(seeded)
    assert len(inbox.received) == 1


def _wait_until(condition: Callable[[], bool], *, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


async def _await_delivered(engine: AsyncEngine, *, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deliveries = await _deliveries(engine)
        if deliveries and all(d.status is DeliveryStatus.DELIVERED for d in deliveries):
            return True
        await anyio.sleep(0.02)
    return False


@pytest.mark.postgres_only  # SQLite has one writer: its write lock serialises claims instead
async def test_concurrent_dispatchers_claim_disjoint_deliveries_without_waiting(
    seeded: AsyncEngine, graphql: GraphQL, make_token: TokenFactory
) -> None:
    for name in ("a", "b"):
        await _add(seeded, f"http://127.0.0.1:9/{name}", "article.updated")
    token = await make_token(Scope.WRITE)
    await graphql(BENEFIT_UPDATE, {"v": 1, "input": {"title": "Calm"}}, token=token)
    now = utc_now()
    async with session_scope(seeded) as session:
        assert await fan_out(session, now=now) == 2
    lease = timedelta(seconds=30)
    async with session_scope(seeded) as first:
        mine = await claim_due(first, now=now, lease=lease, limit=1)
        # The first claim's row stays locked until its transaction ends; a second dispatcher
        # skips it rather than waiting or taking it too.
        with anyio.fail_after(5):
            async with session_scope(seeded) as second:
                theirs = await claim_due(second, now=now, lease=lease, limit=10)
    assert len(mine) == len(theirs) == 1
    assert mine[0].delivery_id != theirs[0].delivery_id
    async with session_scope(seeded) as session:
        assert await claim_due(session, now=now, lease=lease) == []


async def test_a_scheduled_publication_is_sent_when_it_comes_due_not_when_scheduled(
    seeded: AsyncEngine,
) -> None:
    endpoint = await _add(seeded, "http://127.0.0.1:9/hook", "article.published")
    at = utc_now() + timedelta(hours=1)
    async with session_scope(seeded) as session:
        await save_article_document(session, article_document(slug="later", published_at=at))
        assert await fan_out(session, now=utc_now()) == 0  # scheduled: an update, not sent
    async with session_scope(seeded) as session:
        assert await apply_due(session, now=at) == 1
        assert await fan_out(session, now=at) == 1
    async with session_scope(seeded) as session:
        assert await apply_due(session, now=at) == 0  # once, whoever looks again
        assert await fan_out(session, now=at) == 0
    (delivery,) = await _deliveries(seeded)
    published = [e for e in await _events(seeded) if e.id == delivery.event_id]
    assert delivery.endpoint_id == endpoint.id
    assert [(e.event_type, e.article_slug, e.created_at) for e in published] == [
        ("article.published", "later", at)
    ]

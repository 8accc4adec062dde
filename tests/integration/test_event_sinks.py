"""The NATS JetStream sink as an outbox subscriber, against the real local server.

Each test gets its own stream (deleted at the end). The sink publishes under the fixed
``bazaar.events`` prefix, and JetStream refuses two streams over the same subjects, so these
tests must not run concurrently with each other.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from bazaar.audit.model import DeliveryFilter
from bazaar.bootstrap import Container, build
from bazaar.identity.model import Role
from bazaar.infra import delivery_queue
from bazaar.kernel.clock import FixedClock
from tests.support.factories import ensure_category, make_account, make_product, test_settings
from tests.support.jetstream import Message, delete_stream

pytestmark = pytest.mark.nats

SUBJECT = "bazaar.events.ProductCreated"


async def _read(url: str, stream: str, subject: str) -> list[Message]:
    """Every message the stream holds on ``subject``."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(subject, stream=stream)
        try:
            batch = await sub.fetch(10, timeout=2)
        except nats.errors.TimeoutError:
            batch = []
        messages = []
        for msg in batch:
            await msg.ack()
            messages.append(Message(msg.subject, msg.data, (msg.headers or {}).get("Nats-Msg-Id")))
        await sub.unsubscribe()
        return messages
    finally:
        await nc.close()


@pytest.fixture
def stream(nats_url: str) -> Iterator[str]:
    name = f"TEST_BAZAAR_{uuid.uuid4().hex}"
    yield name
    asyncio.run(delete_stream(nats_url, name))


@pytest.fixture
def sinking(
    db_url: str, tmp_path: Path, clock: FixedClock, nats_url: str, stream: str
) -> Iterator[Container]:
    container = build(
        test_settings(db_url, tmp_path, nats_url=nats_url, nats_stream=stream), clock=clock
    )
    yield container
    container.close()  # closes the sink before the stream fixture deletes the stream


def test_created_product_is_published_to_jetstream_with_the_event_id(
    sinking: Container, nats_url: str, stream: str
) -> None:
    # Given a Bazaar whose events also go to NATS
    operator = make_account(sinking, Role.OPERATOR)

    # When a product is created and the dispatcher drains (twice: the second finds nothing)
    product = make_product(sinking, operator)
    sinking.dispatcher.drain()
    assert sinking.dispatcher.drain() == 0

    # Then the stream holds the envelope once, on the event type's subject, keyed by event id
    [message] = asyncio.run(_read(nats_url, stream, SUBJECT))
    envelope = json.loads(message.body)
    assert message.subject == SUBJECT
    assert message.msg_id == envelope["id"]
    assert envelope["type"] == "ProductCreated"
    assert envelope["subject"] == {"type": "product", "id": product.id}
    assert envelope["data"]["skus"] == [product.variants[0].sku]
    sink_deliveries = sinking.audit.list_deliveries(
        operator.principal, DeliveryFilter(subscriber="sink:nats"), 10, None
    ).items
    assert [d["status"] for d in sink_deliveries if d["event_id"] == envelope["id"]] == [
        "delivered"
    ]


def test_redelivery_after_a_crash_is_deduplicated_by_jetstream(
    sinking: Container, clock: FixedClock, nats_url: str, stream: str
) -> None:
    # Given a dispatcher that published an event and died before recording the attempt
    operator = make_account(sinking, Role.OPERATOR)
    ensure_category(sinking, operator, "apparel/t-shirts")
    sinking.dispatcher.drain()  # the account's and categories' events, out of the way
    product = make_product(sinking, operator, offers=[])
    with sinking.db.write() as conn:
        claims = delivery_queue.claim_due(
            conn, now=clock.now(), lease_s=60, limit=10, skip_locked=sinking.db.is_postgres
        )
    [sink_claim] = [c for c in claims if c.subscriber == "sink:nats"]
    assert sinking.deliverers["sink"].deliver(sink_claim).ok

    # When its lease expires and another pass delivers the event again
    clock.advance(61)
    sinking.dispatcher.drain()

    # Then the second publish went out but JetStream kept a single message
    messages = asyncio.run(_read(nats_url, stream, SUBJECT))
    assert [(m.msg_id, json.loads(m.body)["subject"]["id"]) for m in messages] == [
        (sink_claim.event.id, product.id)
    ]
    _, attempts = sinking.audit.get_delivery(operator.principal, sink_claim.delivery_id)
    assert [(a["attempt"], a["ok"]) for a in attempts] == [(2, True)]

"""NatsJetStreamSink against the real local NATS JetStream server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import nats
import pytest

from bazaar.infra.nats_sink import EventSink, NatsJetStreamSink, SinkError
from tests.support.jetstream import Message, delete_stream

pytestmark = pytest.mark.nats


@dataclass(frozen=True)
class Names:
    stream: str
    prefix: str


async def _read_all(url: str, names: Names, expected: int) -> list[Message]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(names.stream)
        assert info.state.messages == expected
        sub = await js.pull_subscribe(f"{names.prefix}.>", stream=names.stream)
        messages = await sub.fetch(expected + 1, timeout=2) if expected else []
        received = []
        for msg in messages:
            await msg.ack()
            headers = msg.headers or {}
            received.append(Message(msg.subject, msg.data, headers.get("Nats-Msg-Id")))
        await sub.unsubscribe()
        return received
    finally:
        await nc.close()


@pytest.fixture
def names(nats_url: str) -> Iterator[Names]:
    suffix = uuid.uuid4().hex
    given = Names(stream=f"TEST_BAZAAR_{suffix}", prefix=f"test.{suffix}.events")
    yield given
    asyncio.run(delete_stream(nats_url, given.stream))


def test_publishes_each_event_once_despite_redelivery(nats_url: str, names: Names) -> None:
    # Given a sink on a fresh stream
    sink: EventSink = NatsJetStreamSink(nats_url, stream=names.stream, subject_prefix=names.prefix)
    try:
        # When two events are published and the first is delivered again with the same msg id
        sink.publish("order.placed", b'{"order":"o1"}', msg_id="evt-1")
        sink.publish("order.cancelled", b'{"order":"o2"}', msg_id="evt-2")
        sink.publish("order.placed", b'{"order":"o1"}', msg_id="evt-1")
    finally:
        sink.close()

    # Then the stream holds exactly the two events
    received = asyncio.run(_read_all(nats_url, names, expected=2))
    assert received == [
        Message(f"{names.prefix}.order.placed", b'{"order":"o1"}', "evt-1"),
        Message(f"{names.prefix}.order.cancelled", b'{"order":"o2"}', "evt-2"),
    ]


def test_ping_and_publish_after_close(nats_url: str, names: Names) -> None:
    sink = NatsJetStreamSink(nats_url, stream=names.stream, subject_prefix=names.prefix)

    assert sink.ping()
    sink.close()
    sink.close()  # idempotent

    assert not sink.ping()
    with pytest.raises(SinkError, match="closed"):
        sink.publish("order.placed", b"{}", msg_id="evt-1")


def test_invalid_event_type_is_refused(nats_url: str, names: Names) -> None:
    sink = NatsJetStreamSink(nats_url, stream=names.stream, subject_prefix=names.prefix)
    try:
        for bad in ["", "order.*", "order.>", "order placed", "order..placed"]:
            with pytest.raises(ValueError, match="subject"):
                sink.publish(bad, b"{}", msg_id="evt-1")
    finally:
        sink.close()


def test_unreachable_server_raises_sink_error_quickly(nats_url: str) -> None:
    # nats_url is requested only so this runs alongside the other NATS tests.
    sink = NatsJetStreamSink("nats://127.0.0.1:1", connect_timeout_s=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(SinkError):
            sink.publish("order.placed", b"{}", msg_id="evt-1", timeout_s=1.0)
        assert not sink.ping()
    finally:
        sink.close()

    assert time.monotonic() - started < 10

"""Event sinks as outbox subscribers: every event also goes to an external stream."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from bazaar.infra.dispatcher import DeliveryResult
from bazaar.infra.nats_sink import EventSink, SinkError
from bazaar.infra.outbox import Claim, envelope_bytes
from bazaar.kernel.events import Event


class SinkSubscriber:
    """Resolver and deliverer for one sink, subscribed to every event as ``sink:<name>``.

    The event id is the message id, so JetStream drops the duplicates that at-least-once
    delivery can produce.
    """

    def __init__(self, name: str, sink: EventSink) -> None:
        self.name = name
        self.sink = sink

    def subscribers(self, conn: Connection, events: Sequence[Event]) -> list[list[str]]:
        return [[f"sink:{self.name}"] for _ in events]

    def deliver(self, claim: Claim) -> DeliveryResult:
        try:
            self.sink.publish(claim.event.type, envelope_bytes(claim.event), msg_id=claim.event.id)
        except SinkError as exc:
            return DeliveryResult(ok=False, error=str(exc))
        return DeliveryResult(ok=True)

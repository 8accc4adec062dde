"""Event dispatcher: delivers outbox rows to handlers, webhooks and sinks, at least once.

Runs as ``bazaar worker`` processes, or as a background thread of ``bazaar serve`` in the
embedded set-up. Each pass claims a batch of due deliveries in a short write transaction,
calls each subscriber with no transaction open, then records the attempt: delivered, retried
later with exponential backoff and jitter, or ``dead`` once the attempts are used up (or at
once when the subscriber says retrying cannot help). Dead deliveries stay visible to
operators, who can replay them.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy.engine import Connection

from bazaar.infra import delivery_queue, outbox
from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Event, StoredEvent

log = logging.getLogger("bazaar.dispatcher")

Handler = Callable[[StoredEvent], None]


@dataclass(frozen=True)
class DeliveryResult:
    """What a subscriber made of one attempt."""

    ok: bool
    retryable: bool = True
    status_code: int | None = None
    error: str | None = None
    response_excerpt: str | None = None
    retry_after_s: float | None = None


class Deliverer(Protocol):
    def deliver(self, claim: outbox.Claim) -> DeliveryResult: ...


@dataclass
class HandlerRegistry:
    """The explicit map from event type to in-process handlers; readable in one place.

    Handlers must be idempotent (delivery is at least once): use
    ``SqlUnitOfWork.mark_processed(name, event.id)`` or make the effect naturally repeatable.
    """

    _handlers: dict[str, Handler] = field(default_factory=dict)
    _by_type: dict[str, list[str]] = field(default_factory=dict)

    def register(self, event_type: type[Event], name: str, handler: Handler) -> None:
        if name in self._handlers and self._handlers[name] is not handler:
            raise ValueError(f"handler name {name!r} is already registered")
        self._handlers[name] = handler
        names = self._by_type.setdefault(event_type.type_name(), [])
        if name not in names:
            names.append(name)

    def handlers_for(self, event_type: str) -> list[str]:
        return list(self._by_type.get(event_type, []))

    # SubscriberResolver
    def subscribers(self, conn: Connection, events: Sequence[Event]) -> list[list[str]]:
        return [
            [f"handler:{name}" for name in self._by_type.get(event.type_name(), [])]
            for event in events
        ]

    # Deliverer
    def deliver(self, claim: outbox.Claim) -> DeliveryResult:
        name = claim.subscriber.removeprefix("handler:")
        handler = self._handlers.get(name)
        if handler is None:
            return DeliveryResult(ok=False, retryable=False, error=f"no handler named {name!r}")
        try:
            handler(claim.event)
        except Exception as exc:
            log.warning(
                "handler failed",
                extra={"handler": name, "event_id": claim.event.id, "error": repr(exc)},
            )
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        return DeliveryResult(ok=True)


class Dispatcher:
    """Claims and delivers due deliveries; safe to run in many processes at once."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        deliverers: Mapping[str, Deliverer],
        *,
        batch_size: int = 50,
        lease_s: float = 60.0,
        max_attempts: int = 8,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 3600.0,
        poll_s: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._deliverers = dict(deliverers)
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.poll_s = poll_s
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def backoff_s(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Delay before attempt ``attempt + 1``: exponential, capped, with "equal jitter".

        Half the delay is fixed and half random, so retries of many deliveries that failed
        together (a subscriber outage) spread out instead of returning in a thundering herd.
        """
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** max(attempt - 1, 0)))
        delay: float = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.backoff_max_s))
        return delay

    def run_once(self) -> int:
        """Deliver one batch of due deliveries; return how many were attempted.

        The outcomes are recorded together, in one short write transaction per batch (two
        statements), rather than one per delivery; a batch that runs long records what it
        has at half the lease, so no lease runs out while its outcome waits.
        """
        with self._db.write() as conn:
            claims = delivery_queue.claim_due(
                conn,
                now=self._clock.now(),
                lease_s=self.lease_s,
                limit=self.batch_size,
                skip_locked=self._db.is_postgres,
            )
        flush_after = time.monotonic() + self.lease_s / 2
        done: list[delivery_queue.Attempt] = []
        for claim in claims:
            done.append(self._deliver(claim))
            if time.monotonic() >= flush_after:
                self._record(done)
                done = []
                flush_after = time.monotonic() + self.lease_s / 2
        self._record(done)
        return len(claims)

    def drain(self, max_passes: int = 100) -> int:
        """Run passes until nothing is due (tests and the CLI use this); return the total."""
        total = 0
        for _ in range(max_passes):
            attempted = self.run_once()
            total += attempted
            if attempted == 0:
                break
        return total

    def _deliver(self, claim: outbox.Claim) -> delivery_queue.Attempt:
        """Call the subscriber with no transaction open; what to record of the attempt."""
        started = self._clock.now()
        t0 = time.perf_counter()
        deliverer = self._deliverers.get(claim.subscriber.split(":", 1)[0])
        if deliverer is None:
            result = DeliveryResult(
                ok=False, retryable=False, error=f"no deliverer for {claim.subscriber!r}"
            )
        else:
            try:
                result = deliverer.deliver(claim)
            except Exception as exc:  # a deliverer bug must not kill the dispatcher
                log.exception("deliverer crashed", extra={"delivery_id": claim.delivery_id})
                result = DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        duration_ms = int((time.perf_counter() - t0) * 1000)
        next_attempt_at = None
        if result.ok:
            status = outbox.DELIVERED
        elif not result.retryable or claim.attempt >= self.max_attempts:
            status = outbox.DEAD
        else:
            status = outbox.PENDING
            delay = self.backoff_s(claim.attempt, result.retry_after_s)
            next_attempt_at = self._clock.now() + timedelta(seconds=delay)
        return delivery_queue.Attempt(
            claim,
            started_at=started,
            duration_ms=duration_ms,
            ok=result.ok,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.response_excerpt,
            new_status=status,
            next_attempt_at=next_attempt_at,
        )

    def _record(self, attempts: Sequence[delivery_queue.Attempt]) -> None:
        if not attempts:
            return
        with self._db.write() as conn:
            moved = delivery_queue.record_attempts(conn, attempts, self._clock.now())
        if moved < len(attempts):
            log.warning("delivery leases lost", extra={"lost": len(attempts) - moved})
        for attempt in attempts:
            if attempt.new_status == outbox.DEAD:
                log.error(
                    "delivery is dead",
                    extra={
                        "delivery_id": attempt.claim.delivery_id,
                        "subscriber": attempt.claim.subscriber,
                        "event_id": attempt.claim.event.id,
                        "error": attempt.error,
                    },
                )

    # --- background operation -------------------------------------------------------------

    def wake(self) -> None:
        """Ask the background loop to run a pass now (called after a commit with events)."""
        self._wake.set()

    def run_forever(self) -> None:
        """Loop until :meth:`stop`; survives database outages with a capped backoff."""
        failures = 0
        while not self._stop.is_set():
            try:
                attempted = self.run_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("dispatcher pass failed")
                self._stop.wait(min(30.0, self.poll_s * 2**failures))
                continue
            if attempted < self.batch_size:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="bazaar-dispatcher")
        self._thread.daemon = True
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
